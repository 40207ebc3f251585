"""BATCH events with carriers, loads, carrier tracks; ALL_OR_NOTHING and PARTIAL (DOMAIN.md §4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.db_shortcuts import at_reflow
from tests.exec_builders import ExecFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details }
  event { id carrierCode snList result normalized
          carrierTrack { id stepNo result carrier { carrierNo } dataValues { specName valueNumber judge alarmed }
                         unitTracks { unit { sn } result } ingestEvent { id } }
          tracks { result carrierTrack { id } } }
  rejection { id dedupeKey } } }"""
CARRIER = """query($c: String!) { carrier(carrierNo: $c) { carrierNo
  loads { unit { sn } loadedAt unloadedAt } tracks { id stepNo unitTracks { unit { sn } } } } }"""
UNIT = """query($s: String!) { unit(sn: $s) { status currentStepNo
  carrierLoads { carrier { carrierNo } loadedAt unloadedAt }
  carrierTracks { id carrier { carrierNo } }
  tracks { source carrierTrack { id } } } }"""
LOAD = """mutation($i: CarrierLoadInput!) { loadCarrier(input: $i) { carrier { carrierNo loads { unit { sn } unloadedAt } } error { code details } } }"""
UNLOAD = """mutation($i: CarrierLoadInput!) { unloadCarrier(input: $i) { carrier { carrierNo loads { unit { sn } unloadedAt } } error { code details } } }"""


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])


async def rows(services: Services, table: t.Table) -> int:
    async with services.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_batch_with_a_unit_list(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=3)
    await at_reflow(services, f.sns)
    tray = f.code("TRAY-1")
    r = await ingest(api, f.reflow_input(f.sns, carrier=tray))
    assert r["status"] == "ACCEPTED", r["error"]
    event = r["event"]
    assert (event["carrierCode"], event["snList"], event["result"]) == (tray, f.sns, "PASS")
    ct = event["carrierTrack"]
    assert (ct["stepNo"], ct["result"], ct["carrier"]["carrierNo"]) == (20, "PASS", tray)
    assert ct["dataValues"] == [
        {"specName": "PeakTemp", "valueNumber": 242.0, "judge": "PASS", "alarmed": False}
    ]
    assert sorted(u["unit"]["sn"] for u in ct["unitTracks"]) == f.sns
    assert ct["ingestEvent"]["id"] == event["id"]
    assert all(tr["carrierTrack"]["id"] == ct["id"] for tr in event["tracks"])
    carrier = (await api.gql(CARRIER, {"c": tray}))["carrier"]
    assert sorted(ld["unit"]["sn"] for ld in carrier["loads"]) == f.sns
    # open for the next BATCH step (they close at a step that is not BATCH, or on unload)
    assert all(ld["unloadedAt"] is None for ld in carrier["loads"])
    unit = (await api.gql(UNIT, {"s": f.sns[0]}))["unit"]
    assert (unit["status"], unit["currentStepNo"]) == ("QUEUED", 30)
    assert unit["carrierTracks"] == [{"id": ct["id"], "carrier": {"carrierNo": tray}}]
    assert unit["tracks"][0]["source"] == "BATCH"


async def test_carrier_only_event_uses_the_open_loads(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=3)
    await at_reflow(services, f.sns)
    tray = f.code("MAG-7")
    loaded = (
        await api.gql(
            LOAD, {"i": {"carrierNo": tray, "sns": f.sns[:2], "at": "2026-03-02T07:00:00Z"}}
        )
    )["loadCarrier"]
    assert loaded["error"] is None and len(loaded["carrier"]["loads"]) == 2
    again = (
        await api.gql(
            LOAD, {"i": {"carrierNo": tray, "sns": f.sns[:2], "at": "2026-03-02T07:00:00Z"}}
        )
    )["loadCarrier"]
    assert len(again["carrier"]["loads"]) == 2  # the same input twice changes nothing
    r = await ingest(api, f.reflow_input(None, carrier=tray))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == f.sns[:2]
    # the loads stay open after a BATCH step until unloaded (or a step that is not BATCH)
    await api.gql(UNLOAD, {"i": {"carrierNo": tray}})
    empty = await ingest(api, f.reflow_input(None, carrier=tray))
    assert empty["error"]["code"] == "CARRIER_EMPTY"
    unknown = await ingest(api, f.reflow_input(None, carrier=f.code("NO-SUCH")))
    assert unknown["error"]["code"] == "CARRIER_NOT_FOUND"


async def test_loads_move_between_carriers_and_unload(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    a, b = f.code("A"), f.code("B")
    await api.gql(LOAD, {"i": {"carrierNo": a, "sns": f.sns}})
    moved = (await api.gql(LOAD, {"i": {"carrierNo": b, "sns": [f.sns[0]]}}))["loadCarrier"]
    assert [ld["unloadedAt"] for ld in moved["carrier"]["loads"]] == [None]
    first = (await api.gql(CARRIER, {"c": a}))["carrier"]["loads"]
    assert {ld["unit"]["sn"]: ld["unloadedAt"] is None for ld in first} == {
        f.sns[0]: False,
        f.sns[1]: True,
    }
    out = (await api.gql(UNLOAD, {"i": {"carrierNo": a}}))["unloadCarrier"]
    assert all(ld["unloadedAt"] for ld in out["carrier"]["loads"])
    again = (await api.gql(UNLOAD, {"i": {"carrierNo": a}}))["unloadCarrier"]
    assert again["error"] is None
    missing = (await api.gql(UNLOAD, {"i": {"carrierNo": f.code("NONE")}}))["unloadCarrier"]
    assert missing["error"]["code"] == "CARRIER_NOT_FOUND"
    nobody = (await api.gql(LOAD, {"i": {"carrierNo": a, "sns": ["NOBODY-X"]}}))["loadCarrier"]
    assert nobody["error"]["code"] == "UNIT_NOT_FOUND"


async def test_all_or_nothing_refuses_the_whole_event_and_writes_nothing(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=3)
    await at_reflow(services, f.sns[:2])  # the third unit is still at step 10
    before = [
        await rows(services, tb)
        for tb in (t.carrier, t.carrier_load, t.carrier_track, t.track, t.data_value)
    ]
    r = await ingest(api, f.reflow_input(f.sns, carrier=f.code("T-X")))
    assert r["status"] == "REJECTED"
    assert (r["error"]["code"], r["error"]["details"]["sn"]) == ("STEP_MISMATCH", f.sns[2])
    after = [
        await rows(services, tb)
        for tb in (t.carrier, t.carrier_load, t.carrier_track, t.track, t.data_value)
    ]
    assert after == before


async def test_carrier_key_failure_fails_every_board_and_hold_alarm_holds_them(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    await at_reflow(services, f.sns)
    r = await ingest(api, f.reflow_input(f.sns, peak=257.0))
    assert r["event"]["result"] == "FAIL"
    assert [tr["result"] for tr in r["event"]["tracks"]] == ["FAIL", "FAIL"]
    assert r["event"]["carrierTrack"]["dataValues"][0]["alarmed"] is True
    units = (await services.store.units(f.sns)).values()
    assert {u.status.value for u in units} == {"ON_HOLD"}


async def test_required_carrier_data_and_method(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=1)
    await at_reflow(services, f.sns)
    r = await ingest(api, f.reflow_input(f.sns, peak=None))
    assert (r["error"]["code"], r["error"]["details"]["missing"]) == (
        "REQUIRED_DATA_MISSING",
        ["PeakTemp"],
    )
    manual = f.reflow_input(f.sns)
    manual["payload"]["profile"].append({"name": "OvenNote", "value": "door ajar"})
    r = await ingest(api, manual)
    assert r["error"]["code"] == "DATA_SPEC_METHOD_MISMATCH"


async def test_partial_writes_the_good_boards_and_keeps_the_others_replayable(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=3, partial=True)
    await at_reflow(
        services, f.sns[:2]
    )  # the third is still at step 10: STEP_MISMATCH for it alone
    boards: list[dict[str, Any]] = [
        {"sn": f.sns[0], "readings": [{"name": "BoardTemp", "value": 231.0}]},
        {"sn": f.sns[1], "readings": [{"name": "BoardTemp", "value": "hot"}]},  # DATA_VALUE_INVALID
        {"sn": f.sns[2], "readings": []},
    ]
    key = unique("P")
    r = await ingest(api, f.reflow_input(None, boards=boards, key=key))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f.sns[0]]
    refused = {x["sn"]: x["code"] for x in r["event"]["normalized"]["refused"]}
    assert refused == {f.sns[1]: "DATA_VALUE_INVALID", f.sns[2]: "STEP_MISMATCH"}
    listed = await api.gql(
        "query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) { edges { node { id dedupeKey error { code } sns } } } }",
        {"s": f.code("OVEN-1")},
    )
    by_key = {e["node"]["dedupeKey"]: e["node"] for e in listed["ingestRejections"]["edges"]}
    assert set(by_key) == {f"{key}#{f.sns[1]}", f"{key}#{f.sns[2]}"}
    # the third board reaches the oven step; its rejection replays on its own
    await at_reflow(services, [f.sns[2]])
    replay = await api.gql(
        "mutation($id: ID!) { replayRejection(id: $id) { status error { code } event { dedupeKey snList } rejection { resolvedBy { id } } } }",
        {"id": by_key[f"{key}#{f.sns[2]}"]["id"]},
    )
    done = replay["replayRejection"]
    assert done["status"] == "ACCEPTED", done["error"]
    assert done["event"] == {"dedupeKey": f"{key}#{f.sns[2]}", "snList": [f.sns[2]]}
    assert done["rejection"]["resolvedBy"] is not None
    resent = await ingest(api, f.reflow_input(None, boards=boards, key=key))
    assert resent["status"] == "DUPLICATE"


async def test_partial_with_every_board_refused_is_one_rejection(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2, partial=True)
    boards = [{"sn": sn, "readings": []} for sn in f.sns]  # both still at step 10
    r = await ingest(api, f.reflow_input(None, boards=boards))
    assert r["status"] == "REJECTED"
    assert r["error"]["code"] == "STEP_MISMATCH"
    assert [x["sn"] for x in r["error"]["details"]["refused"]] == f.sns
