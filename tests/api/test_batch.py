"""BATCH events with carriers, loads, carrier tracks through GraphQL, on both databases
(DOMAIN.md §4): the event's payload, loadCarrier/unloadCarrier, PARTIAL's rejections replayed.
The rules (ALL_OR_NOTHING, carrier data, carrier-only events) are tests/unit/test_batch.py."""

from __future__ import annotations

from typing import Any

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.db_shortcuts import at_reflow
from tests.exec_builders import ExecFactory
from tests.queries import BATCH_INGEST

CARRIER = """query($c: String!) { carrier(carrierNo: $c) { carrierNo
  loads { unit { sn } loadedAt unloadedAt } tracks { id stepNo unitTracks { unit { sn } } } } }"""
UNIT = """query($s: String!) { unit(sn: $s) { status currentStepNo
  carrierLoads { carrier { carrierNo } loadedAt unloadedAt }
  carrierTracks { id carrier { carrierNo } }
  tracks { source carrierTrack { id } } } }"""
LOAD = """mutation($i: CarrierLoadInput!) { loadCarrier(input: $i) { carrier { carrierNo loads { unit { sn } unloadedAt } } error { code details } } }"""
UNLOAD = """mutation($i: CarrierLoadInput!) { unloadCarrier(input: $i) { carrier { carrierNo loads { unit { sn } unloadedAt } } error { code details } } }"""


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(BATCH_INGEST, {"i": data}))["ingestEvent"])


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
