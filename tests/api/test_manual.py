"""trackIn / trackOut on the wire, on both databases (DOMAIN.md §5): the inputs, the track,
unit and data values in the payloads. Their rules and refusals are tests/unit/test_manual.py."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.exec_builders import ExecFactory

TRACK_IN = """mutation($i: TrackInInput!) { trackIn(input: $i) {
  track { id stepNo source inAt outAt result operatorId station { code } }
  unit { sn status currentStepNo } error { code message details } } }"""
TRACK_OUT = """mutation($i: TrackOutInput!) { trackOut(input: $i) {
  track { id stepNo result outAt operatorId dataValues { specName valueNumber valueText judge alarmed source valueUnit } }
  unit { sn status currentStepNo } error { code message details } } }"""


@pytest.fixture
async def f(services: Services) -> ExecFactory:
    return await ExecFactory(services.bus).build(units=2)


def tin(f: ExecFactory, sn: str, station: str = "PRN-1", **kw: Any) -> dict[str, Any]:
    return {"i": {"stationCode": f.code(station), "runNo": f.run_no, "sn": sn, **kw}}


def tout(
    f: ExecFactory,
    sn: str,
    result: str = "PASS",
    data: list[dict[str, Any]] | None = None,
    station: str = "PRN-1",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "i": {
            "stationCode": f.code(station),
            "runNo": f.run_no,
            "sn": sn,
            "result": result,
            "data": data if data is not None else [{"specName": "Pressure", "valueNumber": 5.5}],
            **kw,
        }
    }


async def test_track_in_then_out_moves_the_unit(api: ApiClient, f: ExecFactory) -> None:
    sn = f.sns[0]
    r = (await api.gql(TRACK_IN, tin(f, sn, operatorId="OP-7")))["trackIn"]
    assert r["error"] is None
    assert r["unit"] == {"sn": sn, "status": "IN_STATION", "currentStepNo": 10}
    assert (r["track"]["source"], r["track"]["outAt"], r["track"]["operatorId"]) == (
        "MANUAL",
        None,
        "OP-7",
    )
    run = await api.gql("query($r: String!) { run(runNo: $r) { status } }", {"r": f.run_no})
    assert run["run"]["status"] == "IN_PROGRESS"
    data: list[dict[str, Any]] = [
        {"specName": "Pressure", "valueNumber": 5.5},
        {"specName": "Note", "valueText": "squeegee ok"},
    ]
    out = (await api.gql(TRACK_OUT, tout(f, sn, data=data)))["trackOut"]
    assert out["error"] is None
    assert out["unit"] == {"sn": sn, "status": "QUEUED", "currentStepNo": 20}
    assert out["track"]["result"] == "PASS" and out["track"]["outAt"] is not None
    assert out["track"]["operatorId"] == "OP-7"
    values = {v["specName"]: v for v in out["track"]["dataValues"]}
    assert (
        values["Pressure"]["judge"],
        values["Pressure"]["valueUnit"],
        values["Pressure"]["source"],
    ) == ("PASS", "kg", "MANUAL")
    assert values["Note"]["valueText"] == "squeegee ok"


async def test_refusals_on_the_wire(api: ApiClient, f: ExecFactory) -> None:
    """A refusal's payload: the error with its details, no track, no unit; the data input
    mapped to the domain's values (a value given twice is refused, the track stays open)."""
    r = (await api.gql(TRACK_IN, tin(f, f.sns[0], station="PACK-1")))["trackIn"]
    assert (r["track"], r["unit"], r["error"]["code"]) == (None, None, "STATION_MISMATCH")
    assert r["error"]["details"]["stationGroupCode"] == f.code("PRN-G")
    await api.gql(TRACK_IN, tin(f, f.sns[0]))
    twice = [{"specName": "Pressure", "valueNumber": 5, "valueText": "5"}]
    r = (await api.gql(TRACK_OUT, tout(f, f.sns[0], data=twice)))["trackOut"]
    assert (r["track"], r["unit"], r["error"]["code"]) == (None, None, "VALIDATION_FAILED")
    unit = await api.gql(
        "query($s: String!) { unit(sn: $s) { status tracks { outAt dataValues { id } } } }",
        {"s": f.sns[0]},
    )
    assert unit["unit"]["status"] == "IN_STATION"
    assert unit["unit"]["tracks"] == [{"outAt": None, "dataValues": []}]
