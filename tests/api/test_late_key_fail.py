"""A late KEY failure over the wire, on both databases (DOMAIN.md §7, issue 16 item 8): the
track or carrier track is flagged in the trace and its units are held, or only flagged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from adapters import tables as t
from domain.enums import LateKeyFailAction
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.exec_builders import ExecFactory

RECORD = """mutation($i: DeviceDataInput!) { recordDeviceData(input: $i) {
  track { id result flag } carrierTrack { id result flag } error { code } } }"""
TRACE = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo result flag } carrierTracks { result flag } holds { reason closedAt } } }"""
INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  event { carrierTrack { id } } error { code } } }"""


async def printed(api: ApiClient, f: ExecFactory, sn: str) -> str:
    station = f.code("PRN-1")
    r = await api.gql(
        "mutation($i: TrackInInput!) { trackIn(input: $i) { track { id } error { code } } }",
        {"i": {"stationCode": station, "runNo": f.run_no, "sn": sn}},
    )
    out = await api.gql(
        "mutation($i: TrackOutInput!) { trackOut(input: $i) { track { result } error { code } } }",
        {
            "i": {
                "stationCode": station,
                "runNo": f.run_no,
                "sn": sn,
                "result": "PASS",
                "data": [{"specName": "Pressure", "valueNumber": 5.0}],
            }
        },
    )
    assert out["trackOut"]["track"]["result"] == "PASS", out
    return str(r["trackIn"]["track"]["id"])


def device(**kw: Any) -> dict[str, Any]:
    base = {"eventId": unique("D"), "eventTime": "2026-03-02T09:30:00+01:00", "source": "AUTO"}
    return {"i": base | kw}


async def trace(api: ApiClient, sn: str) -> dict[str, Any]:
    unit: dict[str, Any] = (await api.gql(TRACE, {"sn": sn}))["unit"]
    return unit


@pytest.mark.parametrize("action", [None, LateKeyFailAction.FLAG])
async def test_a_late_key_failure_on_a_track(
    api: ApiClient, services: Services, action: LateKeyFailAction | None
) -> None:
    f = await ExecFactory(services.bus).build(units=1, on_late_key_fail=action)
    sn = f.sns[0]
    track_id = await printed(api, f, sn)
    r = (
        await api.gql(
            RECORD,
            device(
                trackId=track_id,
                source="MANUAL",
                operatorId="OP-1",
                data=[{"specName": "Pressure", "valueNumber": 9.0}],
            ),
        )
    )["recordDeviceData"]
    assert r["error"] is None, r
    assert (r["track"]["result"], r["track"]["flag"]) == ("PASS", "LATE_KEY_FAIL")
    unit = await trace(api, sn)
    assert unit["tracks"] == [{"stepNo": 10, "result": "PASS", "flag": "LATE_KEY_FAIL"}]
    assert unit["currentStepNo"] == 20  # its position never changes
    if action is LateKeyFailAction.FLAG:
        assert (unit["status"], unit["holds"]) == ("QUEUED", [])
    else:
        assert unit["status"] == "ON_HOLD"
        assert unit["holds"] == [{"reason": "LATE_KEY_FAIL", "closedAt": None}]


async def test_a_late_key_failure_on_a_carrier_track_holds_its_boards(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=2)
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(f.sns)).values(current_step_no=20))
    event = (await api.gql(INGEST, {"i": f.reflow_input(f.sns)}))["ingestEvent"]
    assert event["error"] is None, event
    ct = event["event"]["carrierTrack"]["id"]
    r = (
        await api.gql(
            RECORD,
            device(carrierTrackId=ct, data=[{"specName": "PeakTemp", "valueNumber": 251.0}]),
        )
    )["recordDeviceData"]
    assert r["error"] is None, r
    assert (r["carrierTrack"]["result"], r["carrierTrack"]["flag"]) == ("PASS", "LATE_KEY_FAIL")
    for sn in f.sns:
        unit = await trace(api, sn)
        assert unit["carrierTracks"] == [{"result": "PASS", "flag": "LATE_KEY_FAIL"}]
        assert unit["tracks"][-1]["result"] == "PASS" and unit["tracks"][-1]["flag"] is None
        assert (unit["status"], unit["currentStepNo"]) == ("ON_HOLD", 30)
        assert unit["holds"] == [{"reason": "LATE_KEY_FAIL", "closedAt": None}]


async def test_on_late_key_fail_is_set_and_compiled(api: ApiClient, services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=1)
    routing = f.code("R")
    set_ = await api.gql(
        """mutation($i: ExecutionConfigInput!) { setExecutionConfig(input: $i) {
          error { code } } }""",
        {"i": {"routingCode": routing, "stepNo": 20, "onLateKeyFail": "FLAG"}},
    )
    assert set_["setExecutionConfig"]["error"] is None
    compiled = await api.gql(
        """mutation($c: String!) { compileRouting(code: $c) {
          version { steps { stepNo onLateKeyFail } } error { code } } }""",
        {"c": routing},
    )
    steps = compiled["compileRouting"]["version"]["steps"]
    assert [(s["stepNo"], s["onLateKeyFail"]) for s in steps] == [
        (10, "HOLD"),
        (20, "FLAG"),
        (30, "HOLD"),
        (40, "HOLD"),
    ]
