"""Shift calendars, the shift (and business day) of a job across DST nights, the report by
shift, and production counts' references, over the fakes (DOMAIN.md §7; issue 16 item 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.device_records import ModuleCount, ProductionCountRecord
from domain.enums import ReportGroupBy
from domain.errors import DomainError, ErrorCode
from domain.shifts import Shift, build_calendar, shift_of
from domain.usecases import counts as co
from domain.usecases import shifts as sh
from tests.builders import Factory
from tests.fakes import fake_bus

BERLIN = ZoneInfo("Europe/Berlin")
THREE = [("EARLY", "06:00", "14:00"), ("LATE", "14:00", "22:00"), ("NIGHT", "22:00", "06:00")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_calendar_is_sorted_by_start_and_may_leave_gaps() -> None:
    cal = build_calendar([THREE[2], THREE[0]])
    assert [s.code for s in cal] == ["EARLY", "NIGHT"]
    assert cal[1] == Shift("NIGHT", time(22), time(6)) and cal[1].crosses_midnight
    assert shift_of(at("2026-03-02T15:00:00+00:00"), cal, UTC) == (None, date(2026, 3, 2))
    assert build_calendar([]) == ()


@pytest.mark.parametrize(
    ("shifts", "problem"),
    [
        ([("A", "06:00", "14:00"), ("A", "14:00", "22:00")], "listed twice"),
        ([("A", "06:00", "06:00")], "starts when it ends"),
        ([("A", "6:00", "14:00")], "not a time"),
        ([("A", "24:00", "01:00")], "not a time"),
        ([("A", "06:00", "14:30"), ("B", "14:00", "22:00")], "overlap"),
        ([("N", "22:00", "06:00"), ("E", "05:00", "13:00")], "overlap"),  # across midnight
        ([("N", "22:00", "06:00"), ("L", "20:00", "23:00")], "overlap"),
        ([(" A", "06:00", "14:00")], "shifts.code"),
    ],
)
def test_bad_calendars_are_refused(shifts: list[tuple[str, str, str]], problem: str) -> None:
    with pytest.raises(DomainError) as caught:
        build_calendar(shifts)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
    assert problem in caught.value.message or problem == (caught.value.details or {}).get("field")


def test_a_night_shift_belongs_to_the_day_it_began() -> None:
    cal = build_calendar(THREE)
    assert shift_of(at("2026-03-02T22:00:00+01:00"), cal, BERLIN) == ("NIGHT", date(2026, 3, 2))
    assert shift_of(at("2026-03-03T05:59:00+01:00"), cal, BERLIN) == ("NIGHT", date(2026, 3, 2))
    assert shift_of(at("2026-03-03T06:00:00+01:00"), cal, BERLIN) == ("EARLY", date(2026, 3, 3))
    assert shift_of(at("2026-03-02T21:59:00+01:00"), cal, BERLIN) == ("LATE", date(2026, 3, 2))


def test_dst_nights_follow_the_wall_clock() -> None:
    cal = build_calendar(THREE)
    # spring forward (29 March 2026, 02:00 → 03:00 in Berlin): a 7-hour night of the 28th
    assert shift_of(at("2026-03-28T21:00:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 3, 28))
    assert shift_of(at("2026-03-29T01:00:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 3, 28))
    assert shift_of(at("2026-03-29T03:59:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 3, 28))
    assert shift_of(at("2026-03-29T04:00:00+00:00"), cal, BERLIN) == ("EARLY", date(2026, 3, 29))
    # fall back (25 October 2026, 03:00 → 02:00): 02:30 happens twice, both in the night of
    # the 24th, which lasts 9 hours
    assert shift_of(at("2026-10-25T00:30:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 10, 24))
    assert shift_of(at("2026-10-25T01:30:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 10, 24))
    assert shift_of(at("2026-10-25T04:59:00+00:00"), cal, BERLIN) == ("NIGHT", date(2026, 10, 24))
    assert shift_of(at("2026-10-25T05:00:00+00:00"), cal, BERLIN) == ("EARLY", date(2026, 10, 25))


def rec(event: str, started: str, picked: int, line: str = "L1") -> ProductionCountRecord:
    moment = at(started)
    return ProductionCountRecord(
        event_id=event,
        input_hash="h",
        line_code=line,
        quantity=1,
        started_at=moment,
        ended_at=moment,
        modules=(ModuleCount("M1", picked, picked),),
        received_at=moment,
        run_no="R1",
        product_code="P",
    )


def test_the_report_by_shift_puts_a_job_in_the_shift_it_started_in() -> None:
    records = [
        rec("a", "2026-10-24T23:00:00+02:00", 10),  # night of the 24th
        rec("b", "2026-10-25T02:30:00+01:00", 20),  # the second 02:30: still that night
        rec("c", "2026-10-25T07:00:00+01:00", 40),  # early of the 25th
        rec("d", "2026-10-25T07:00:00+01:00", 80, line="L2"),  # L2 has no calendar
    ]
    calendars = {"L1": build_calendar(THREE)}
    rows = co.production_report(records, BERLIN, ReportGroupBy.SHIFT, calendars)
    assert [(r.day, r.shift_code, r.line_code, r.picked) for r in rows] == [
        ("2026-10-24", "NIGHT", "L1", 30),
        ("2026-10-25", "EARLY", "L1", 40),
        ("2026-10-25", None, "L2", 80),
    ]
    by_day = co.production_report(records, BERLIN, ReportGroupBy.DAY, calendars)
    assert [(r.day, r.shift_code, r.line_code, r.picked) for r in by_day] == [
        ("2026-10-24", None, "L1", 10),
        ("2026-10-25", None, "L1", 60),
        ("2026-10-25", None, "L2", 80),
    ]


async def test_set_shift_calendar_replaces_the_lines_calendar() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    await f.master_data()
    cal = await f.do(sh.SetShiftCalendar(f.code("LINE"), tuple(THREE)))
    assert [s.code for s in cal.shifts] == ["EARLY", "LATE", "NIGHT"]
    assert store.shifts[f.code("LINE")] == cal.shifts
    await f.do(sh.SetShiftCalendar(f.code("LINE"), (("DAY", "08:00", "17:00"),)))
    assert [s.code for s in store.shifts[f.code("LINE")]] == ["DAY"]
    with pytest.raises(DomainError) as caught:
        await f.do(sh.SetShiftCalendar("NO-LINE", (("DAY", "08:00", "17:00"),)))
    assert caught.value.code is ErrorCode.LINE_NOT_FOUND
    with pytest.raises(DomainError):  # refused as a whole: the calendar stays
        await f.do(sh.SetShiftCalendar(f.code("LINE"), (("X", "05:00", "09:00"), THREE[2])))
    assert [s.code for s in store.shifts[f.code("LINE")]] == ["DAY"]


def counts_cmd(f: Factory, event: str, **kw: str | None) -> co.RecordProductionCounts:
    moment = datetime(2026, 3, 2, 8, tzinfo=UTC)
    fields: dict[str, str | None] = {"run_no": f.code("RUN"), "product_code": None} | kw
    return co.RecordProductionCounts(
        event_id=f.code(event),
        line_code=f.code("LINE"),
        quantity=1,
        started_at=moment,
        ended_at=moment,
        modules=(ModuleCount("M1", 2, 1),),
        **fields,
    )


async def test_production_counts_take_the_product_from_the_run() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    await f.run()  # its work order makes PROD
    omitted = await f.do(counts_cmd(f, "E1"))
    assert omitted.record.product_code == "PROD"
    same = await f.do(counts_cmd(f, "E2", product_code="PROD"))
    assert same.record.product_code == "PROD"
    for cmd, code in (
        (counts_cmd(f, "E3", run_no="NO-RUN"), ErrorCode.RUN_NOT_FOUND),
        (counts_cmd(f, "E4", product_code="OTHER"), ErrorCode.VALIDATION_FAILED),
    ):
        with pytest.raises(DomainError) as caught:
            await f.do(cmd)
        assert caught.value.code is code
    assert caught.value.details == {
        "field": "productCode",
        "runNo": f.code("RUN"),
        "expected": "PROD",
        "got": "OTHER",
    }
    assert [c.event_id for c in store.counts] == [f.code("E1"), f.code("E2")]
    free = await f.do(counts_cmd(f, "E5", run_no=None, product_code="ANY"))  # no run: as sent
    assert free.record.product_code == "ANY"
