"""The device gateway and placement production counts through GraphQL, on both databases
(DOMAIN.md §7). Their refusals' rules are tests/unit/test_device_and_counts.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.exec_builders import ExecFactory

RECORD = """mutation($i: DeviceDataInput!) { recordDeviceData(input: $i) {
  duplicate dataValuesCreated track { id result dataValues { specName valueNumber judge alarmed source } }
  carrierTrack { id dataValues { specName valueNumber } } error { code message details } } }"""
TRACK_IN = """mutation($i: TrackInInput!) { trackIn(input: $i) { track { id } error { code } } }"""
TRACK_OUT = (
    """mutation($i: TrackOutInput!) { trackOut(input: $i) { track { id } error { code } } }"""
)


async def printed(api: ApiClient, f: ExecFactory, sn: str, station: str = "PRN-1") -> str:
    r = await api.gql(
        TRACK_IN, {"i": {"stationCode": f.code(station), "runNo": f.run_no, "sn": sn}}
    )
    await api.gql(
        TRACK_OUT,
        {
            "i": {
                "stationCode": f.code(station),
                "runNo": f.run_no,
                "sn": sn,
                "result": "PASS",
                "data": [{"specName": "Pressure", "valueNumber": 5.0}],
            }
        },
    )
    return str(r["trackIn"]["track"]["id"])


def record(**kw: Any) -> dict[str, Any]:
    base = {
        "eventId": unique("D"),
        "eventTime": "2026-03-02T09:30:00+01:00",
        "source": "AUTO",
        "data": [{"specName": "StencilTemp", "valueNumber": 24.5}],
    }
    return {"i": base | kw}


@pytest.fixture
async def f(services: Services) -> ExecFactory:
    return await ExecFactory(services.bus).build(units=2)


async def test_values_by_track_id_and_idempotency(
    api: ApiClient, services: Services, f: ExecFactory
) -> None:
    track_id = await printed(api, f, f.sns[0])
    body = record(trackId=track_id, equipmentId="PRN-1-PLC")
    r = (await api.gql(RECORD, body))["recordDeviceData"]
    assert (r["error"], r["duplicate"], r["dataValuesCreated"]) == (None, False, 1)
    assert r["track"]["result"] == "PASS"  # the track's result never changes
    stencil = next(v for v in r["track"]["dataValues"] if v["specName"] == "StencilTemp")
    assert (stencil["valueNumber"], stencil["judge"], stencil["source"]) == (24.5, "NA", "AUTO")
    again = (await api.gql(RECORD, body | {"i": body["i"] | {"meta": {"retry": True}}}))[
        "recordDeviceData"
    ]
    assert (again["duplicate"], again["dataValuesCreated"], again["track"]["id"]) == (
        True,
        0,
        track_id,
    )
    other = dict(body["i"], data=[{"specName": "StencilTemp", "valueNumber": 25.0}])
    conflict = (await api.gql(RECORD, {"i": other}))["recordDeviceData"]
    assert conflict["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    unit = (await services.store.units([f.sns[0]]))[f.sns[0]]
    assert (unit.status.value, unit.current_step_no) == ("QUEUED", 20)  # position unchanged
    listed = await api.gql(
        "{ deviceDataRecords(first: 5) { edges { node { eventId dataValuesCreated track { id } dataValues { specName } } } } }"
    )
    node = next(
        e["node"]
        for e in listed["deviceDataRecords"]["edges"]
        if e["node"]["eventId"] == body["i"]["eventId"]
    )
    assert node == {
        "eventId": body["i"]["eventId"],
        "dataValuesCreated": 1,
        "track": {"id": track_id},
        "dataValues": [{"specName": "StencilTemp"}],
    }


async def test_resolution_by_run_unit_step_and_station(
    api: ApiClient, services: Services, f: ExecFactory
) -> None:
    sn = f.sns[0]
    await printed(api, f, sn, station="PRN-1")
    async with (
        services.engine.begin() as conn
    ):  # printed again elsewhere (rework comes with issue 5)
        await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(current_step_no=10))
    second = await printed(api, f, sn, station="PRN-2")
    where = {"runNo": f.run_no, "unitSn": sn, "stepNo": 10}
    ambiguous = (await api.gql(RECORD, record(**where)))["recordDeviceData"]
    assert ambiguous["error"]["code"] == "TRACK_AMBIGUOUS"
    assert ambiguous["error"]["details"]["stationCodes"] == sorted(
        [f.code("PRN-1"), f.code("PRN-2")]
    )
    r = (await api.gql(RECORD, record(**where, stationCode=f.code("PRN-2"))))["recordDeviceData"]
    assert r["track"]["id"] == second
    none = (await api.gql(RECORD, record(runNo=f.run_no, unitSn=sn, stepNo=30)))["recordDeviceData"]
    assert none["error"]["code"] == "TRACK_NOT_FOUND"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"trackId": "1", "carrierTrackId": "1"}, "VALIDATION_FAILED"),
        ({"trackId": None, "carrierTrackId": "999999999"}, "TRACK_NOT_FOUND"),
        (
            {"data": [{"specName": "StencilTemp", "valueNumber": 1, "valueText": "1"}]},
            "VALIDATION_FAILED",
        ),
    ],
)
async def test_device_refusals(
    api: ApiClient, f: ExecFactory, extra: dict[str, Any], code: str
) -> None:
    """The input's ids and values mapped, a refusal's payload; every refusal's rule is
    tests/unit/test_device_and_counts.py."""
    track_id = await printed(api, f, f.sns[0])
    body = record(trackId=track_id)
    body["i"] = body["i"] | extra
    r = (await api.gql(RECORD, body))["recordDeviceData"]
    assert r["error"]["code"] == code, r
    assert r["dataValuesCreated"] == 0


async def test_manual_source_writes_manual_specs_and_a_hold_alarm_holds_the_unit(
    api: ApiClient, services: Services, f: ExecFactory
) -> None:
    track_id = await printed(api, f, f.sns[0])
    r = (
        await api.gql(
            RECORD,
            record(
                trackId=track_id,
                source="MANUAL",
                operatorId="OP-1",
                data=[{"specName": "Pressure", "valueNumber": 12.0}],
            ),
        )
    )["recordDeviceData"]
    assert r["error"] is None
    value = next(
        v for v in r["track"]["dataValues"] if v["source"] == "MANUAL" and v["valueNumber"] == 12.0
    )
    assert (value["judge"], value["alarmed"]) == ("FAIL", True)
    unit = (await services.store.units([f.sns[0]]))[f.sns[0]]
    assert (unit.status.value, unit.current_step_no) == ("ON_HOLD", 20)


async def test_carrier_track_values(api: ApiClient, services: Services, f: ExecFactory) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(f.sns)).values(current_step_no=20))
    event = await api.gql(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { event { carrierTrack { id } } error { code } } }",
        {"i": f.reflow_input(f.sns)},
    )
    ct = event["ingestEvent"]["event"]["carrierTrack"]["id"]
    r = (
        await api.gql(
            RECORD, record(carrierTrackId=ct, data=[{"specName": "PeakTemp", "valueNumber": 241.0}])
        )
    )["recordDeviceData"]
    assert r["error"] is None
    assert [v["valueNumber"] for v in r["carrierTrack"]["dataValues"]] == [242.0, 241.0]
    unit_spec = (await api.gql(RECORD, record(carrierTrackId=ct)))["recordDeviceData"]
    assert (
        unit_spec["error"]["code"] == "DATA_SPEC_NOT_FOUND"
    )  # StencilTemp is no carrier spec here


COUNTS = """mutation($i: ProductionCountsInput!) { recordProductionCounts(input: $i) {
  duplicate record { id eventId picked placed pickLoss placementRate modules { module picked placed } }
  error { code message details } } }"""
REPORT = """query($l: String, $from: DateTime!, $to: DateTime!) { productionReport(lineCode: $l, from: $from, to: $to) {
  day lineCode productCode runNo quantity picked placed pickLoss placementRate firstStartedAt lastEndedAt } }"""


def counts(
    f: ExecFactory, started: str, ended: str, modules: list[tuple[str, int, int]], **kw: Any
) -> dict[str, Any]:
    return {
        "i": {
            "eventId": unique("C"),
            "lineCode": f.code("L"),
            "equipmentId": "NXT-1",
            "runNo": f.run_no,
            "productCode": "P",  # the run's (issue 16: another is VALIDATION_FAILED)
            "quantity": 40,
            "startedAt": started,
            "endedAt": ended,
            "modules": [{"module": m, "picked": p, "placed": q} for m, p, q in modules],
        }
        | kw
    }


async def test_production_counts_and_report(api: ApiClient, f: ExecFactory) -> None:
    first = counts(
        f,
        "2026-03-02T06:00:00+01:00",
        "2026-03-02T06:10:00+01:00",
        [("M1", 1000, 990), ("M2", 500, 500)],
    )
    r = (await api.gql(COUNTS, first))["recordProductionCounts"]
    assert r["error"] is None and r["duplicate"] is False
    assert (r["record"]["picked"], r["record"]["placed"], r["record"]["pickLoss"]) == (
        1500,
        1490,
        10,
    )
    assert r["record"]["placementRate"] == pytest.approx(1490 / 1500)
    again = (await api.gql(COUNTS, first))["recordProductionCounts"]
    assert (again["duplicate"], again["record"]["id"]) == (True, r["record"]["id"])
    changed = {"i": first["i"] | {"quantity": 41}}
    assert (await api.gql(COUNTS, changed))["recordProductionCounts"]["error"][
        "code"
    ] == "IDEMPOTENCY_CONFLICT"
    await api.gql(
        COUNTS,
        counts(
            f,
            "2026-03-02T14:00:00+01:00",
            "2026-03-02T14:10:00+01:00",
            [("M1", 200, 100)],
            quantity=10,
        ),
    )
    await api.gql(
        COUNTS,
        counts(
            f, "2026-03-03T00:30:00+01:00", "2026-03-03T00:40:00+01:00", [("M1", 0, 0)], quantity=0
        ),
    )
    report = (
        await api.gql(
            REPORT, {"l": f.code("L"), "from": "2026-03-01T00:00:00Z", "to": "2026-03-04T00:00:00Z"}
        )
    )["productionReport"]
    by_day = {row["day"]: row for row in report}
    assert set(by_day) == {"2026-03-02"}
    day = by_day["2026-03-02"]
    # 00:30+01:00 on the 3rd is 23:30 UTC on the 2nd: the plant zone (UTC by default) decides
    assert (day["quantity"], day["picked"], day["placed"], day["pickLoss"]) == (50, 1700, 1590, 110)
    assert day["placementRate"] == pytest.approx(1590 / 1700)
    assert day["firstStartedAt"] == "2026-03-02T05:00:00Z"
    empty = (
        await api.gql(
            REPORT, {"l": f.code("L"), "from": "2026-04-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"}
        )
    )["productionReport"]
    assert empty == []


@pytest.mark.parametrize(
    ("modules", "kw", "code"),
    [
        ([("M1", 10, 11)], {}, "VALIDATION_FAILED"),
        ([("M1", 10, 5)], {"endedAt": "2026-03-02T05:00:00+01:00"}, "VALIDATION_FAILED"),
    ],
)
async def test_count_refusals(
    api: ApiClient,
    f: ExecFactory,
    modules: list[tuple[str, int, int]],
    kw: dict[str, Any],
    code: str,
) -> None:
    """The input's times and modules mapped, a refusal's payload; every refusal's rule is
    tests/unit/test_device_and_counts.py."""
    body = counts(f, "2026-03-02T06:00:00+01:00", "2026-03-02T06:10:00+01:00", modules)
    body["i"] = body["i"] | kw
    r = (await api.gql(COUNTS, body))["recordProductionCounts"]
    assert r["error"]["code"] == code, r
    assert r["record"] is None
