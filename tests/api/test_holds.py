"""Holds through GraphQL (issue 16 item 1), on both databases: holdUnits, releaseHold, holds,
unit.holds, the UNIT_ON_HOLD refusals naming the open holds, disposeUnit through holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, count_statements
from tests.ingest_builders import IngestFactory

HOLD = """mutation($f: UnitFilter!, $r: String!) { holdUnits(filter: $f, reason: $r) {
  hold { id reason actor openedAt closedAt units { sn releasedAt } } error { code details } } }"""
RELEASE = """mutation($h: ID!, $sns: [String!]) { releaseHold(holdId: $h, sns: $sns) {
  hold { id closedAt units { sn releasedAt } } error { code details } } }"""
HOLDS = """query($o: Boolean) { holds(open: $o) { id reason closedAt units { sn } } }"""
TRACE = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  holds { id reason closedAt units { sn releasedAt } } } }"""
INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status error { code details } } }"""
VALIDATE = """query($s: String!, $sns: [String!]!) { validateUnits(stationCode: $s, sns: $sns) {
  sn ok code details } }"""
DISPOSE = """mutation($i: DisposeUnitInput!) { disposeUnit(input: $i) {
  unit { sn status currentStepNo } error { code details } } }"""
CLOSE = """mutation($r: String!) { closeRun(runNo: $r) { run { status } error { code } } }"""


async def set_units(services: Services, sns: list[str], **values: Any) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(sns)).values(**values))


async def test_hold_a_run_refuse_its_units_and_release_them(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=3)
    queued, done, scrapped = f.sns
    await set_units(services, [done], status="DONE", current_step_no=30)
    await set_units(services, [scrapped], status="SCRAPPED")
    r = (await api.gql(HOLD, {"f": {"runNo": f.run_no}, "r": "suspect paste lot"}))["holdUnits"]
    assert r["error"] is None
    hold = r["hold"]
    assert (hold["reason"], hold["closedAt"]) == ("suspect paste lot", None)
    assert [u["sn"] for u in hold["units"]] == sorted([queued, done])
    # refused with the open hold named, by ingest and by validateUnits
    refused = (await api.gql(INGEST, {"i": f.aoi_input(queued)}))["ingestEvent"]
    assert refused["error"]["code"] == "UNIT_ON_HOLD"
    assert refused["error"]["details"]["holds"] == [
        {"id": hold["id"], "reason": "suspect paste lot", "actor": hold["actor"]}
    ]
    [answer] = (await api.gql(VALIDATE, {"s": f.code("AOI-1"), "sns": [queued]}))["validateUnits"]
    assert answer["code"] == "UNIT_ON_HOLD" and answer["details"]["holds"][0]["id"] == hold["id"]
    assert hold["id"] in [h["id"] for h in (await api.gql(HOLDS, {"o": True}))["holds"]]
    # a held DONE unit blocks closeRun
    await api.gql(INGEST, {"i": f.aoi_input(queued)})  # (refused: the run stays untouched)
    async with services.engine.begin() as conn:
        await conn.execute(
            update(t.run).where(t.run.c.run_no == f.run_no).values(status="IN_PROGRESS")
        )
    # release one of them, then the rest
    partly = (await api.gql(RELEASE, {"h": hold["id"], "sns": [done]}))["releaseHold"]
    assert partly["error"] is None and partly["hold"]["closedAt"] is None
    assert (await api.gql(TRACE, {"sn": done}))["unit"]["status"] == "DONE"
    assert (await api.gql(CLOSE, {"r": f.run_no}))["closeRun"]["error"]["code"] == "RUN_NOT_READY"
    closed = (await api.gql(RELEASE, {"h": hold["id"]}))["releaseHold"]["hold"]
    assert closed["closedAt"] is not None and all(u["releasedAt"] for u in closed["units"])
    trace = (await api.gql(TRACE, {"sn": queued}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 10)
    assert [(h["id"], h["closedAt"] is not None) for h in trace["holds"]] == [(hold["id"], True)]
    assert hold["id"] in [h["id"] for h in (await api.gql(HOLDS, {"o": False}))["holds"]]
    assert hold["id"] not in [h["id"] for h in (await api.gql(HOLDS, {"o": True}))["holds"]]
    assert (await api.gql(INGEST, {"i": f.aoi_input(queued)}))["ingestEvent"]["status"] == (
        "ACCEPTED"
    )


async def test_dispose_hold_and_release_go_through_holds(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    sn = f.sns[0]
    held = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "HOLD", "reason": "suspect"}}))[
        "disposeUnit"
    ]
    assert held["error"] is None and held["unit"]["status"] == "ON_HOLD"  # from QUEUED
    other = (await api.gql(HOLD, {"f": {"sns": [sn]}, "r": "paste lot"}))["holdUnits"]["hold"]
    released = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "RELEASE", "reason": "ok"}}))[
        "disposeUnit"
    ]
    assert released["unit"] == {"sn": sn, "status": "QUEUED", "currentStepNo": 10}
    holds = (await api.gql(TRACE, {"sn": sn}))["unit"]["holds"]
    assert [(h["reason"], h["closedAt"] is not None) for h in holds] == [
        ("suspect", True),
        ("paste lot", True),
    ]
    assert holds[1]["id"] == other["id"]


async def test_refusals(api: ApiClient, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    missing = (await api.gql(RELEASE, {"h": "987654321"}))["releaseHold"]
    assert (missing["hold"], missing["error"]["code"]) == (None, "HOLD_NOT_FOUND")
    unknown = (await api.gql(HOLD, {"f": {"sns": ["NOPE-1"]}, "r": "x"}))["holdUnits"]
    assert unknown["error"]["code"] == "UNIT_NOT_FOUND"
    empty = (await api.gql(HOLD, {"f": {}, "r": "x"}))["holdUnits"]
    assert empty["error"]["code"] == "VALIDATION_FAILED"
    no_reason = (await api.gql(HOLD, {"f": {"sns": f.sns}, "r": " "}))["holdUnits"]
    assert no_reason["error"]["code"] == "VALIDATION_FAILED"
    assert "not an id" in (await api.errors(RELEASE, {"h": "x"}))[0]["message"]


async def test_hold_units_costs_a_fixed_number_of_statements(
    api: ApiClient, services: Services
) -> None:
    counts = []
    for units in (2, 40):
        f = await IngestFactory(services.bus).build(units=units)
        with count_statements(services.engine) as seen:
            r = (await api.gql(HOLD, {"f": {"runNo": f.run_no}, "r": "lot"}))["holdUnits"]
        assert r["error"] is None and len(r["hold"]["units"]) == units
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts  # auth, the run, its SNs, lock, update, hold, audits, read


TRACK_IN = """mutation($i: TrackInInput!) { trackIn(input: $i) { error { code } } }"""
TRACK_OUT = """mutation($i: TrackOutInput!) { trackOut(input: $i) {
  unit { status } error { code details } } }"""
TRACKS = """query($sn: String!) { unit(sn: $sn) { status tracks { stepNo outAt result } } }"""


async def test_held_in_station_and_scrapped_in_station(api: ApiClient, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=2)
    sn, other = f.sns
    await set_units(services, f.sns, current_step_no=30)  # the PACK step (manual)
    for unit in f.sns:
        at = {"stationCode": f.code("PACK-1"), "runNo": f.run_no, "sn": unit}
        assert (await api.gql(TRACK_IN, {"i": at}))["trackIn"]["error"] is None
    at = {"stationCode": f.code("PACK-1"), "runNo": f.run_no, "sn": sn}
    hold = (await api.gql(HOLD, {"f": {"sns": [sn]}, "r": "operator left"}))["holdUnits"]["hold"]
    out = (await api.gql(TRACK_OUT, {"i": {**at, "result": "PASS"}}))["trackOut"]
    assert out["error"]["code"] == "UNIT_ON_HOLD"
    assert [h["id"] for h in out["error"]["details"]["holds"]] == [hold["id"]]
    await api.gql(RELEASE, {"h": hold["id"]})
    assert (await api.gql(TRACKS, {"sn": sn}))["unit"]["status"] == "IN_STATION"  # track open
    out = (await api.gql(TRACK_OUT, {"i": {**at, "result": "PASS"}}))["trackOut"]
    assert out["error"] is None and out["unit"]["status"] == "DONE"
    scrapped = (
        await api.gql(DISPOSE, {"i": {"sn": other, "action": "SCRAP", "reason": "dropped"}})
    )["disposeUnit"]
    assert scrapped["unit"]["status"] == "SCRAPPED"
    [track] = (await api.gql(TRACKS, {"sn": other}))["unit"]["tracks"]
    assert track["outAt"] is not None and track["result"] == "ERROR"  # closed, interrupted
