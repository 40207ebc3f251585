"""setShiftCalendar, production counts' references and productionReport(groupBy: SHIFT) over
GraphQL, with the plant in Europe/Berlin across the fall-back night (issue 16 item 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters import tables as t
from graphql_api.app import create_app
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, make_token, unique
from tests.exec_builders import ExecFactory

SET = """mutation($l: String!, $s: [ShiftInput!]!) { setShiftCalendar(lineCode: $l, shifts: $s) {
  shiftCalendar { lineCode shifts { code start end } } error { code message details } } }"""
COUNTS = """mutation($i: ProductionCountsInput!) { recordProductionCounts(input: $i) {
  duplicate record { id productCode } error { code message details } } }"""
REPORT = """query($l: String, $from: DateTime!, $to: DateTime!, $g: ReportGroupBy!) {
  productionReport(lineCode: $l, from: $from, to: $to, groupBy: $g) {
    day shiftCode lineCode productCode runNo quantity picked } }"""
THREE = [
    {"code": "EARLY", "start": "06:00", "end": "14:00"},
    {"code": "LATE", "start": "14:00", "end": "22:00"},
    {"code": "NIGHT", "start": "22:00", "end": "06:00"},
]


@pytest.fixture
async def f(services: Services) -> ExecFactory:
    return await ExecFactory(services.bus).build(units=1)


@pytest.fixture
async def berlin(services: Services) -> AsyncIterator[ApiClient]:
    """The app of a plant in Europe/Berlin (MES_PLANT_TZ), with an admin token."""
    app = create_app(
        services.bus,
        services.store,
        services.settings.limits,
        services.ingest,
        plant_tz="Europe/Berlin",
        feed=services.feed,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        yield ApiClient(client, token=await make_token(services))


async def stored_shifts(services: Services, line: str) -> list[tuple[str, str, str]]:
    async with services.engine.connect() as conn:
        found = await conn.execute(
            select(t.line_shift.c.code, t.line_shift.c.start_time, t.line_shift.c.end_time)
            .where(t.line_shift.c.line_code == line)
            .order_by(t.line_shift.c.start_time)
        )
        return [tuple(r) for r in found]


async def test_set_shift_calendar(api: ApiClient, services: Services, f: ExecFactory) -> None:
    line = f.code("L")
    r = (await api.gql(SET, {"l": line, "s": list(reversed(THREE))}))["setShiftCalendar"]
    assert r == {"shiftCalendar": {"lineCode": line, "shifts": THREE}, "error": None}
    before = await stored_shifts(services, line)
    assert before == [(s["code"], s["start"], s["end"]) for s in THREE]
    overlapping = [*THREE, {"code": "X", "start": "05:00", "end": "07:00"}]
    for shifts, code in (
        (overlapping, "VALIDATION_FAILED"),
        ([{"code": "A", "start": "6:00", "end": "14:00"}], "VALIDATION_FAILED"),
    ):
        refused = (await api.gql(SET, {"l": line, "s": shifts}))["setShiftCalendar"]
        assert refused["shiftCalendar"] is None and refused["error"]["code"] == code
    missing = (await api.gql(SET, {"l": "NO-LINE", "s": THREE}))["setShiftCalendar"]
    assert missing["error"]["code"] == "LINE_NOT_FOUND"
    assert await stored_shifts(services, line) == before  # refusals changed nothing
    cleared = (await api.gql(SET, {"l": line, "s": []}))["setShiftCalendar"]
    assert cleared["shiftCalendar"]["shifts"] == []
    assert await stored_shifts(services, line) == []


def job(f: ExecFactory, started: str, picked: int, **kw: Any) -> dict[str, Any]:
    return {
        "i": {
            "eventId": unique("C"),
            "lineCode": f.code("L"),
            "runNo": f.run_no,
            "quantity": 1,
            "startedAt": started,
            "endedAt": started,
            "modules": [{"module": "M1", "picked": picked, "placed": picked}],
        }
        | kw
    }


async def test_counts_check_the_run_and_take_its_product(api: ApiClient, f: ExecFactory) -> None:
    r = (await api.gql(COUNTS, job(f, "2026-03-02T08:00:00Z", 5)))["recordProductionCounts"]
    assert r["error"] is None and r["record"]["productCode"] == "P"  # the run's work order's
    unknown = (await api.gql(COUNTS, job(f, "2026-03-02T08:00:00Z", 5, runNo="NO-RUN")))[
        "recordProductionCounts"
    ]
    assert unknown["record"] is None and unknown["error"]["code"] == "RUN_NOT_FOUND"
    other = (await api.gql(COUNTS, job(f, "2026-03-02T08:00:00Z", 5, productCode="Q")))[
        "recordProductionCounts"
    ]
    assert other["error"]["code"] == "VALIDATION_FAILED"
    assert other["error"]["details"] == {
        "field": "productCode",
        "runNo": f.run_no,
        "expected": "P",
        "got": "Q",
    }


async def test_report_by_shift_over_the_fall_back_night(berlin: ApiClient, f: ExecFactory) -> None:
    assert (await berlin.gql(SET, {"l": f.code("L"), "s": THREE}))["setShiftCalendar"][
        "error"
    ] is None
    for started, picked in (
        ("2026-10-24T13:00:00+02:00", 1),  # EARLY of the 24th
        ("2026-10-24T23:00:00+02:00", 10),  # NIGHT of the 24th
        ("2026-10-25T02:30:00+02:00", 20),  # the first 02:30
        ("2026-10-25T02:30:00+01:00", 40),  # the second 02:30: the same night
        ("2026-10-25T05:59:00+01:00", 80),  # its last minute (a 9-hour night)
        ("2026-10-25T06:00:00+01:00", 160),  # EARLY of the 25th
    ):
        r = (await berlin.gql(COUNTS, job(f, started, picked)))["recordProductionCounts"]
        assert r["error"] is None, r
    window = {"l": f.code("L"), "from": "2026-10-24T00:00:00Z", "to": "2026-10-26T00:00:00Z"}
    rows = (await berlin.gql(REPORT, window | {"g": "SHIFT"}))["productionReport"]
    assert [(r["day"], r["shiftCode"], r["picked"], r["productCode"]) for r in rows] == [
        ("2026-10-24", "EARLY", 1, "P"),
        ("2026-10-24", "NIGHT", 150, "P"),
        ("2026-10-25", "EARLY", 160, "P"),
    ]
    by_day = (await berlin.gql(REPORT, window | {"g": "DAY"}))["productionReport"]
    assert [(r["day"], r["shiftCode"], r["picked"]) for r in by_day] == [
        ("2026-10-24", None, 11),
        ("2026-10-25", None, 300),
    ]
