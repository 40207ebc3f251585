"""trackIn / trackOut (DOMAIN.md §5) and their refusals, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from adapters import tables as t
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


async def test_key_failure_and_hold_alarm_on_track_out(api: ApiClient, f: ExecFactory) -> None:
    sn = f.sns[0]
    await api.gql(TRACK_IN, tin(f, sn))
    out = (
        await api.gql(TRACK_OUT, tout(f, sn, data=[{"specName": "Pressure", "valueNumber": 11.0}]))
    )["trackOut"]
    assert out["track"]["result"] == "FAIL"  # a KEY spec outside its limits fails the PASS
    assert out["track"]["dataValues"][0]["alarmed"] is True
    assert out["unit"]["status"] == "ON_HOLD"  # the HOLD alarm, after the advance


async def test_a_fail_needs_no_required_data(api: ApiClient, f: ExecFactory) -> None:
    await api.gql(TRACK_IN, tin(f, f.sns[0]))
    out = (await api.gql(TRACK_OUT, tout(f, f.sns[0], result="FAIL", data=[])))["trackOut"]
    assert out["unit"]["status"] == "OUT_FAILED"


async def refused(
    api: ApiClient, query: str, variables: dict[str, Any], code: str, field: str
) -> dict[str, Any]:
    r = (await api.gql(query, variables))[field]
    assert r["error"] is not None and r["error"]["code"] == code, r
    assert r["track"] is None
    return dict(r["error"])


async def test_track_in_refusals(api: ApiClient, services: Services, f: ExecFactory) -> None:
    sn = f.sns[0]
    await refused(api, TRACK_IN, tin(f, "NOBODY"), "UNIT_NOT_FOUND", "trackIn")
    other = await ExecFactory(services.bus).build(units=1)
    await refused(
        api,
        TRACK_IN,
        {"i": {"stationCode": f.code("PRN-1"), "runNo": other.run_no, "sn": sn}},
        "RUN_MISMATCH",
        "trackIn",
    )
    await refused(
        api,
        TRACK_IN,
        {"i": {"stationCode": f.code("PRN-1"), "runNo": "NO-RUN", "sn": sn}},
        "RUN_NOT_FOUND",
        "trackIn",
    )
    await refused(api, TRACK_IN, tin(f, sn, station="NOPE"), "STATION_NOT_FOUND", "trackIn")
    e = await refused(api, TRACK_IN, tin(f, sn, station="PACK-1"), "STATION_MISMATCH", "trackIn")
    assert e["details"]["stationGroupCode"] == f.code("PRN-G")
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(current_step_no=30))
    e = await refused(api, TRACK_IN, tin(f, sn), "STEP_MISMATCH", "trackIn")
    assert e["details"]["expectedStationType"] == "AUTO"
    await refused(api, TRACK_IN, tin(f, f.sns[1], station="PACK-1"), "STATION_MISMATCH", "trackIn")
    async with services.engine.begin() as conn:
        await conn.execute(update(t.run).where(t.run.c.run_no == f.run_no).values(status="PREP"))
    e = await refused(api, TRACK_IN, tin(f, f.sns[1]), "RUN_NOT_AUTHORIZED", "trackIn")
    assert e["details"]["runStatus"] == "PREP"


async def test_in_station_refusals(api: ApiClient, f: ExecFactory) -> None:
    sn = f.sns[0]
    await api.gql(TRACK_IN, tin(f, sn))
    await refused(api, TRACK_IN, tin(f, sn), "UNIT_ALREADY_IN_STATION", "trackIn")
    aoi = await api.gql(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status error { code } } }",
        {
            "i": {
                "sourceSystem": f.code("AOI-1"),
                "dedupeKey": "x",
                "eventType": "AUTO",
                "occurredAt": "2026-03-02T09:00:00Z",
                "payload": {"sn": sn, "station": f.code("AOI-1"), "result": "OK"},
            }
        },
    )
    assert aoi["ingestEvent"]["error"]["code"] == "UNIT_ALREADY_IN_STATION"
    e = await refused(
        api, TRACK_OUT, tout(f, sn, station="PRN-2"), "UNIT_NOT_IN_STATION", "trackOut"
    )
    assert e["details"]["openAtStationCode"] == f.code("PRN-1")
    await refused(api, TRACK_OUT, tout(f, f.sns[1]), "UNIT_NOT_IN_STATION", "trackOut")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([{"specName": "Nope", "valueNumber": 1}], "DATA_SPEC_NOT_FOUND"),
        ([{"specName": "StencilTemp", "valueNumber": 1}], "DATA_SPEC_METHOD_MISMATCH"),
        ([{"specName": "Pressure", "valueNumber": 5, "valueText": "5"}], "VALIDATION_FAILED"),
        ([{"specName": "Pressure"}], "VALIDATION_FAILED"),
        ([{"specName": "Pressure", "valueText": "heavy"}], "DATA_VALUE_INVALID"),
        ([{"specName": "Note", "valueText": "no pressure"}], "REQUIRED_DATA_MISSING"),
    ],
)
async def test_track_out_data_refusals_leave_the_track_open(
    api: ApiClient, f: ExecFactory, data: list[dict[str, Any]], code: str
) -> None:
    sn = f.sns[0]
    await api.gql(TRACK_IN, tin(f, sn))
    await refused(api, TRACK_OUT, tout(f, sn, data=data), code, "trackOut")
    unit = await api.gql(
        "query($s: String!) { unit(sn: $s) { status tracks { outAt dataValues { id } } } }",
        {"s": sn},
    )
    assert unit["unit"]["status"] == "IN_STATION"
    assert unit["unit"]["tracks"] == [{"outAt": None, "dataValues": []}]
