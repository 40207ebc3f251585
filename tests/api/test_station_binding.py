"""Tokens bound to stations (issue 14 item 1): a machine's token writes only for its own
stations, whatever the payload or the arguments name; a refusal is FORBIDDEN with the station
in details and leaves its audit row and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from adapters import tables as t
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.exec_builders import ExecFactory
from tests.ingest_builders import IngestFactory
from tests.queries import BATCH
from tests.tokens import token

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code details } event { id } rejection { id } } }"""
REPLAY = """mutation($id: ID!) { replayRejection(id: $id) {
  status error { code details } event { id } rejection { attempts resolvedBy { id } } } }"""
RECORD = """mutation($i: DeviceDataInput!) { recordDeviceData(input: $i) {
  dataValuesCreated error { code details } } }"""
COUNTS = """mutation($i: ProductionCountsInput!) { recordProductionCounts(input: $i) {
  record { id } error { code details } } }"""
TRACK_IN = (
    """mutation($i: TrackInInput!) { trackIn(input: $i) { track { id } error { code details } } }"""
)
TRACK_OUT = """mutation($i: TrackOutInput!) { trackOut(input: $i) { track { id } error { code details } } }"""
LOAD = """mutation($i: CarrierLoadInput!) { loadCarrier(input: $i) { carrier { carrierNo } error { code details } } }"""
UNLOAD = """mutation($i: CarrierLoadInput!) { unloadCarrier(input: $i) { carrier { carrierNo } error { code details } } }"""

#: every table a write lands in (a refusal touches none of them)
WRITES = (
    t.ingest_event,
    t.ingest_event_unit,
    t.ingest_rejection,
    t.track,
    t.data_value,
    t.carrier,
    t.carrier_load,
    t.carrier_track,
    t.device_data_record,
    t.production_count,
)


async def tally(services: Services, sns: list[str]) -> dict[str, Any]:
    """Row counts of every written table, FORBIDDEN audit rows, and the units as they stand."""
    async with services.engine.connect() as conn:
        found: dict[str, Any] = {
            tb.name: (await conn.execute(select(func.count()).select_from(tb))).scalar_one()
            for tb in WRITES
        }
        found["forbidden_audits"] = (
            await conn.execute(
                select(func.count())
                .select_from(t.audit_event)
                .where(t.audit_event.c.error_code == "FORBIDDEN")
            )
        ).scalar_one()
        found["units"] = sorted(
            tuple(r)
            for r in await conn.execute(
                select(t.unit.c.sn, t.unit.c.status, t.unit.c.current_step_no).where(
                    t.unit.c.sn.in_(sns)
                )
            )
        )
    return found


async def only_audited(services: Services, sns: list[str], before: dict[str, Any], n: int) -> None:
    """Since `before`: n more FORBIDDEN audit rows, and nothing else written."""
    after = await tally(services, sns)
    assert after == before | {"forbidden_audits": before["forbidden_audits"] + n}


def forbidden(result: dict[str, Any], station: str | None) -> None:
    assert result["error"]["code"] == "FORBIDDEN", result
    assert result["error"]["details"]["stationCode"] == station, result


async def at_step(services: Services, sns: list[str], step_no: int) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(
            update(t.unit).where(t.unit.c.sn.in_(sns)).values(current_step_no=step_no)
        )


# ---------------------------------------------------------------- ingest


async def test_an_ict_token_cannot_ingest_for_the_aoi_station(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2)
    ict, aoi = f.code("ICT-1"), f.code("AOI-1")
    secret = await token(services, "ingest", ict)  # sources only: bound to station ICT-1
    before = await tally(services, f.sns)
    # its own sourceSystem, an AOI event whose payload names AOI-1
    one = (
        await api.gql(INGEST, {"i": f.aoi_input(f.sns[0]) | {"sourceSystem": ict}}, token=secret)
    )["ingestEvent"]
    forbidden(one, aoi)
    assert (one["status"], one["rejection"]) == ("REJECTED", None)
    items = [f.aoi_input(sn) | {"sourceSystem": ict} for sn in f.sns]
    many = (await api.gql(BATCH, {"i": items}, token=secret))["ingestEvents"]
    for item in many:
        forbidden(item, aoi)
        assert item["rejection"] is None
    await only_audited(services, f.sns, before, 3)
    # the AOI machine's token writes the same event
    mine = await token(services, "ingest", aoi)
    ok = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0])}, token=mine))["ingestEvent"]
    assert ok["status"] == "ACCEPTED", ok


async def test_a_gateway_token_writes_for_its_stations_and_groups(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2)
    aoi, aoi9, ict = f.code("AOI-1"), f.code("AOI-9"), f.code("ICT-1")
    # one gateway for two machines, named station by station
    gateway = await token(services, "ingest", f"{aoi},{ict}", f"{aoi},{ict}")
    sn = f.sns[0]
    r = (await api.gql(INGEST, {"i": f.aoi_input(sn)}, token=gateway))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r
    r = (await api.gql(INGEST, {"i": f.ict_input([(sn, "Passed", 1000.0, 3.3)])}, token=gateway))[
        "ingestEvent"
    ]
    assert r["status"] == "ACCEPTED", r
    # by group: every station of AOI-G (AOI-1), not AOI-9 (in OTHER-G)
    group = await token(services, "ingest", aoi, f"group:{f.code('AOI-G')}")
    r = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[1], station=aoi9)}, token=group))[
        "ingestEvent"
    ]
    forbidden(r, aoi9)  # not STATION_MISMATCH: the token may not even ask
    r = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[1])}, token=group))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r


async def test_a_partial_event_for_another_station_is_forbidden_whole(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2, partial=True)
    await at_step(services, f.sns[:1], 20)  # the second board would be a PARTIAL refusal
    aoi = f.code("AOI-1")
    secret = await token(services, "ingest", aoi)
    boards = [{"sn": sn, "readings": [{"name": "BoardTemp", "value": 231.0}]} for sn in f.sns]
    event = f.reflow_input(None, boards=boards) | {"sourceSystem": aoi}
    before = await tally(services, f.sns)
    r = (await api.gql(INGEST, {"i": event}, token=secret))["ingestEvent"]
    forbidden(r, f.code("OVEN-1"))
    assert (r["event"], r["rejection"]) == (None, None)
    await only_audited(services, f.sns, before, 1)  # no event, no per-board rejection


async def test_an_admin_replay_does_not_launder_an_ict_event_into_the_aoi_station(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2, authorize=False)
    ict, aoi = f.code("ICT-1"), f.code("AOI-1")
    ict_token, aoi_token = (
        await token(services, "ingest", ict),
        await token(services, "ingest", aoi),
    )
    # refused before the station is known (the run is not authorized): kept as rejections
    sent = {
        "ict": (f.aoi_input(f.sns[0]) | {"sourceSystem": ict}, ict_token),
        "aoi": (f.aoi_input(f.sns[1]), aoi_token),
    }
    ids = {}
    for who, (event, secret) in sent.items():
        r = (await api.gql(INGEST, {"i": event}, token=secret))["ingestEvent"]
        assert r["error"]["code"] == "RUN_NOT_AUTHORIZED", r
        ids[who] = r["rejection"]["id"]
    async with services.engine.connect() as conn:
        names = dict(
            (
                await conn.execute(
                    select(
                        t.ingest_rejection.c.source_system, t.ingest_rejection.c.token_name
                    ).where(t.ingest_rejection.c.id.in_([int(i) for i in ids.values()]))
                )
            ).all()
        )
    assert names[ict] is not None and names[aoi] is not None and names[ict] != names[aoi]
    await f.do(prod.AuthorizeRun(f.run_no))
    before = await tally(services, f.sns)
    laundered = (await api.gql(REPLAY, {"id": ids["ict"]}))["replayRejection"]  # admin token
    forbidden(laundered, aoi)
    assert laundered["rejection"] == {"attempts": 1, "resolvedBy": None}
    await only_audited(services, f.sns, before, 1)
    honest = (await api.gql(REPLAY, {"id": ids["aoi"]}))["replayRejection"]
    assert honest["status"] == "ACCEPTED", honest


# ---------------------------------------------------------------- device data and counts


async def test_device_data_goes_only_to_tracks_of_the_token_s_stations(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    prn, oven, aoi = f.code("PRN-1"), f.code("OVEN-1"), f.code("AOI-1")
    sn = f.sns[0]
    opened = await api.gql(TRACK_IN, {"i": {"stationCode": prn, "runNo": f.run_no, "sn": sn}})
    track_id = opened["trackIn"]["track"]["id"]
    await api.gql(
        TRACK_OUT,
        {
            "i": {
                "stationCode": prn,
                "runNo": f.run_no,
                "sn": sn,
                "result": "PASS",
                "data": [{"specName": "Pressure", "valueNumber": 5.0}],
            }
        },
    )
    await at_step(services, f.sns, 20)
    r = (await api.gql(INGEST, {"i": f.reflow_input(f.sns)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r
    async with services.engine.connect() as conn:
        carrier_track = (
            await conn.execute(
                select(t.carrier_track.c.id).where(
                    t.carrier_track.c.ingest_event_id == int(r["event"]["id"])
                )
            )
        ).scalar_one()
    secret = await token(services, "ingest", aoi)  # the AOI machine
    base = {"eventTime": "2026-03-02T09:30:00+01:00", "source": "AUTO", "equipmentId": aoi}
    stencil = [{"specName": "StencilTemp", "valueNumber": 24.5}]
    hot = [{"specName": "PeakTemp", "valueNumber": 300.0}]  # would HOLD every board on the tray
    before = await tally(services, f.sns)
    for target, data, station in (
        ({"trackId": track_id}, stencil, prn),
        ({"carrierTrackId": str(carrier_track)}, hot, oven),
        ({"runNo": f.run_no, "unitSn": sn, "stepNo": 10}, stencil, prn),
        ({"runNo": f.run_no, "unitSn": sn, "stepNo": 10, "stationCode": prn}, stencil, prn),
    ):
        body = base | target | {"eventId": unique("D"), "data": data}
        forbidden((await api.gql(RECORD, {"i": body}, token=secret))["recordDeviceData"], station)
    await only_audited(services, f.sns, before, 4)
    printer = await token(services, "ingest", prn)
    body = base | {"trackId": track_id, "eventId": unique("D"), "data": stencil, "equipmentId": prn}
    ok = (await api.gql(RECORD, {"i": body}, token=printer))["recordDeviceData"]
    assert (ok["error"], ok["dataValuesCreated"]) == (None, 1)


async def test_counts_name_a_station_of_the_token(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=1)
    prn, aoi = f.code("PRN-1"), f.code("AOI-1")
    secret = await token(services, "ingest", prn)
    body = {
        "lineCode": f.code("L"),
        "equipmentId": prn,
        "quantity": 1,
        "startedAt": "2026-03-02T06:00:00Z",
        "endedAt": "2026-03-02T07:00:00Z",
        "modules": [{"module": "M1", "picked": 2, "placed": 2}],
    }
    before = await tally(services, f.sns)
    for station in (aoi, None):
        i = body | {"eventId": unique("c"), "stationCode": station}
        r = (await api.gql(COUNTS, {"i": i}, token=secret))["recordProductionCounts"]
        forbidden(r, station)
    await only_audited(services, f.sns, before, 2)
    i = body | {"eventId": unique("c"), "stationCode": prn}
    ok = (await api.gql(COUNTS, {"i": i}, token=secret))["recordProductionCounts"]
    assert ok["error"] is None and ok["record"]
    # an unbound (admin) sender still needs no station
    unbound = await api.gql(COUNTS, {"i": body | {"eventId": unique("c")}})
    assert unbound["recordProductionCounts"]["error"] is None


# ---------------------------------------------------------------- manual stations, carriers


async def test_track_in_and_out_only_at_the_token_s_stations(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    prn1, prn2 = f.code("PRN-1"), f.code("PRN-2")
    station2 = await token(services, "execute", stations=prn2)
    group = await token(services, "execute", stations=f"group:{f.code('PRN-G')}")
    a, b = f.sns

    def move(sn: str, station: str) -> dict[str, Any]:
        return {"i": {"stationCode": station, "runNo": f.run_no, "sn": sn}}

    out = {"result": "PASS", "data": [{"specName": "Pressure", "valueNumber": 5.0}]}
    before = await tally(services, f.sns)
    forbidden((await api.gql(TRACK_IN, move(a, prn1), token=station2))["trackIn"], prn1)
    await only_audited(services, f.sns, before, 1)
    # the group's token opens the track at PRN-1; the PRN-2 token cannot close it
    assert (await api.gql(TRACK_IN, move(a, prn1), token=group))["trackIn"]["error"] is None
    before = await tally(services, f.sns)
    closing = move(a, prn1)
    closing["i"] |= out
    forbidden((await api.gql(TRACK_OUT, closing, token=station2))["trackOut"], prn1)
    await only_audited(services, f.sns, before, 1)
    assert (await api.gql(TRACK_OUT, closing, token=group))["trackOut"]["error"] is None
    # its own station, the whole way
    assert (await api.gql(TRACK_IN, move(b, prn2), token=station2))["trackIn"]["error"] is None
    closing = move(b, prn2)
    closing["i"] |= out
    assert (await api.gql(TRACK_OUT, closing, token=station2))["trackOut"]["error"] is None


async def test_load_and_unload_name_a_station_of_the_token(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    oven, aoi = f.code("OVEN-1"), f.code("AOI-1")
    secret = await token(services, "ingest", oven)
    tray = f.code("TRAY-9")
    load = {"carrierNo": tray, "sns": f.sns}
    before = await tally(services, f.sns)
    for station in (aoi, None):
        forbidden(
            (await api.gql(LOAD, {"i": load | {"stationCode": station}}, token=secret))[
                "loadCarrier"
            ],
            station,
        )
    await only_audited(services, f.sns, before, 2)
    ok = (await api.gql(LOAD, {"i": load | {"stationCode": oven}}, token=secret))["loadCarrier"]
    assert ok["error"] is None, ok
    before = await tally(services, f.sns)
    for station in (aoi, None):
        forbidden(
            (
                await api.gql(
                    UNLOAD, {"i": {"carrierNo": tray, "stationCode": station}}, token=secret
                )
            )["unloadCarrier"],
            station,
        )
    await only_audited(services, f.sns, before, 2)
    ok = (await api.gql(UNLOAD, {"i": {"carrierNo": tray, "stationCode": oven}}, token=secret))[
        "unloadCarrier"
    ]
    assert ok["error"] is None, ok
    # a named station must exist, for an unbound sender too
    missing = (await api.gql(LOAD, {"i": load | {"stationCode": unique("NOPE")}}))["loadCarrier"]
    assert missing["error"]["code"] == "STATION_NOT_FOUND"
