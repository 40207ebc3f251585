"""Tester errors through GraphQL on both databases (issue 16 item 4): an ingest ERROR and a
manual trackOut ERROR are recorded with their values and attempt, leave the unit QUEUED at its
step, and are counted per station in /metrics."""

from __future__ import annotations

import re

import pytest

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.db_shortcuts import at_reflow
from tests.exec_builders import ExecFactory
from tests.ingest_builders import IngestFactory
from tests.queries import BATCH_INGEST, INGEST, TRACE

TRACK_IN = """mutation($i: TrackInInput!) { trackIn(input: $i) {
  track { attempt } error { code } } }"""
TRACK_OUT = """mutation($i: TrackOutInput!) { trackOut(input: $i) {
  track { result attempt outAt } unit { status currentStepNo } error { code message } } }"""


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=2)


async def errors_at(api: ApiClient, station: str) -> float:
    text = (await api.client.get("/metrics")).text
    found = re.search(
        rf'^mes_track_errors_total\{{station="{re.escape(station)}"\}} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_an_ingested_tester_error_then_a_pass(api: ApiClient, f: IngestFactory) -> None:
    sn = f.sns[0]
    ict = f.code("ICT-1")
    r = (await api.gql(INGEST, {"i": f.aoi_input(sn)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED"
    before = await errors_at(api, ict)
    r = (await api.gql(INGEST, {"i": f.ict_input([(sn, "aborted", 1000.0, 3.3)])}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert (r["event"]["result"], r["event"]["tracks"]) == (
        "ERROR",
        [{"stepNo": 20, "result": "ERROR"}],
    )
    assert await errors_at(api, ict) == before + 1
    r = (await api.gql(INGEST, {"i": f.ict_input([(sn, "Passed", 1000.0, 3.3)])}))["ingestEvent"]
    assert r["event"]["result"] == "PASS"
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    ict_tracks = [t for t in trace["tracks"] if t["stepNo"] == 20]
    assert [(t["result"], t["attempt"], len(t["dataValues"])) for t in ict_tracks] == [
        ("ERROR", 1, 2),
        ("PASS", 1, 2),
    ]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 30)


async def test_a_manual_track_out_records_error(api: ApiClient, f: IngestFactory) -> None:
    sn = f.sns[1]
    await api.gql(INGEST, {"i": f.aoi_input(sn)})
    await api.gql(INGEST, {"i": f.ict_input([(sn, "Passed", 1000.0, 3.3)])})
    pack = f.code("PACK-1")
    args = {"stationCode": pack, "runNo": f.run_no, "sn": sn}
    before = await errors_at(api, pack)
    assert (await api.gql(TRACK_IN, {"i": args}))["trackIn"]["error"] is None
    out = (await api.gql(TRACK_OUT, {"i": {**args, "result": "ERROR"}}))["trackOut"]
    assert out["error"] is None
    assert (out["track"]["result"], out["track"]["attempt"]) == ("ERROR", 1)
    assert out["unit"] == {"status": "QUEUED", "currentStepNo": 30}
    assert await errors_at(api, pack) == before + 1
    again = (await api.gql(TRACK_IN, {"i": args}))["trackIn"]
    assert again["error"] is None and again["track"]["attempt"] == 1


async def test_a_batch_error_leaves_the_boards_at_the_step(
    api: ApiClient, services: Services
) -> None:
    x = await ExecFactory(services.bus).build(units=2)
    await at_reflow(services, x.sns)
    r = (await api.gql(BATCH_INGEST, {"i": x.reflow_input(x.sns, status="Errored")}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert (r["event"]["result"], r["event"]["carrierTrack"]["result"]) == ("ERROR", "ERROR")
    assert {t["result"] for t in r["event"]["tracks"]} == {"ERROR"}
    for sn in x.sns:
        unit = (await api.gql(TRACE, {"sn": sn}))["unit"]
        assert (unit["status"], unit["currentStepNo"]) == ("QUEUED", 20)
