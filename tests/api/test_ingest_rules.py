"""Issue 16's ingest rules through GraphQL, on both databases: the line interlock (DOMAIN.md
§4 step 7, trackIn, validateUnits) and carrier loads across consecutive BATCH steps (§6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from adapters import tables as t
from domain import master as dm
from domain.enums import StationType
from domain.usecases import master_data as md
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.exec_builders import wash_factory, wash_input
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details } event { id } } }"""
TRACK_IN = """mutation($i: TrackInInput!) { trackIn(input: $i) {
  unit { sn status } error { code details } } }"""
VALIDATE = """query($s: String!, $sns: [String!]!) { validateUnits(stationCode: $s, sns: $sns) {
  sn ok code details } }"""


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])


async def move(services: Services, sns: list[str], step: int) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(sns)).values(current_step_no=step))


# ---------------------------------------------------------------- line interlock


async def test_a_station_records_only_for_runs_of_its_line(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=3)
    c = f.code
    await f.do(md.UpsertLine(dm.Line(c("L2"), "Line 2")))
    for code, stype, group in (
        ("AOI-1", StationType.AUTO, "AOI-G"),
        ("PACK-1", StationType.MANUAL, "PACK-G"),
    ):
        await f.do(md.UpsertStation(dm.Station(c(code), code, stype, c("L2"), c(group))))
    lines = {"stationLineCode": c("L2"), "runLineCode": c("L")}

    r = await ingest(api, f.aoi_input(f.sns[0]))
    assert r["status"] == "REJECTED" and r["error"]["code"] == "STATION_MISMATCH"
    assert lines.items() <= r["error"]["details"].items()
    [answer] = (await api.gql(VALIDATE, {"s": c("AOI-1"), "sns": [f.sns[0]]}))["validateUnits"]
    assert (answer["ok"], answer["code"]) == (False, "STATION_MISMATCH")
    assert lines.items() <= answer["details"].items()

    await move(services, [f.sns[1]], 30)  # at the MANUAL step
    tin = {"i": {"stationCode": c("PACK-1"), "runNo": f.run_no, "sn": f.sns[1]}}
    r = (await api.gql(TRACK_IN, tin))["trackIn"]
    assert r["error"]["code"] == "STATION_MISMATCH" and r["unit"] is None
    assert lines.items() <= r["error"]["details"].items()

    # stations without a line (shared testers) keep today's behaviour
    for code, stype, group in (
        ("AOI-1", StationType.AUTO, "AOI-G"),
        ("PACK-1", StationType.MANUAL, "PACK-G"),
    ):
        await f.do(md.UpsertStation(dm.Station(c(code), code, stype, None, c(group))))
    [answer] = (await api.gql(VALIDATE, {"s": c("AOI-1"), "sns": [f.sns[0]]}))["validateUnits"]
    assert answer["ok"] is True, answer
    r = await ingest(api, f.aoi_input(f.sns[0]))
    assert r["status"] == "ACCEPTED", r["error"]
    r = (await api.gql(TRACK_IN, tin))["trackIn"]
    assert r["error"] is None and r["unit"]["status"] == "IN_STATION"


# ---------------------------------------------------------------- loads across BATCH steps

CARRIER = """query($c: String!) { carrier(carrierNo: $c) { loads { unit { sn } unloadedAt } } }"""
UNIT = """query($s: String!) { unit(sn: $s) { status currentStepNo
  carrierLoads { carrier { carrierNo } unloadedAt } } }"""


async def test_reflow_then_a_carrier_only_wash_then_aoi_closes_the_loads(
    api: ApiClient, services: Services
) -> None:
    """Loads stay open across consecutive BATCH steps: the wash event names only the carrier
    and finds the boards the reflow event loaded; the AOI step (not BATCH) unloads them."""
    f = await wash_factory(services.bus, units=2)
    await move(services, f.sns, 20)
    tray = f.code("TRAY-1")
    r = await ingest(api, f.reflow_input(f.sns, carrier=tray))
    assert r["status"] == "ACCEPTED", r["error"]
    loads = (await api.gql(CARRIER, {"c": tray}))["carrier"]["loads"]
    assert [ld["unloadedAt"] for ld in loads] == [None, None]
    r = await ingest(api, wash_input(f, tray))
    assert r["status"] == "ACCEPTED", r["error"]
    for sn in f.sns:
        unit = (await api.gql(UNIT, {"s": sn}))["unit"]
        assert (unit["status"], unit["currentStepNo"]) == ("QUEUED", 30)
        assert unit["carrierLoads"] == [{"carrier": {"carrierNo": tray}, "unloadedAt": None}]
    # a step that is not BATCH: that board is off the carrier, the other stays loaded
    aoi = {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": f.code("AOI-K"),
        "eventType": "AUTO",
        "occurredAt": "2026-03-02T10:00:00Z",
        "payload": {"sn": f.sns[0], "station": f.code("AOI-1"), "result": "PASS"},
    }
    r = await ingest(api, aoi)
    assert r["status"] == "ACCEPTED", r["error"]
    loads = (await api.gql(CARRIER, {"c": tray}))["carrier"]["loads"]
    assert {ld["unit"]["sn"]: ld["unloadedAt"] for ld in loads} == {
        f.sns[0]: "2026-03-02T10:00:00Z",
        f.sns[1]: None,
    }
