"""A line's shift calendar and which shift (and business day) a moment belongs to (DOMAIN.md
§7; issue 16 item 11). Shift times are wall-clock times in the plant's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise

from domain.errors import DomainError, ErrorCode
from domain.validation import check_code

MAX_SHIFTS = 24
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Shift:
    """From `start` (included) to `end` (excluded), local times; `end` before `start` crosses
    midnight, and the shift belongs to the day it began."""

    code: str
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    def spans(self) -> list[tuple[int, int]]:
        """Minutes of the day it covers, as [from, to) pieces within one day."""
        s, e = _minutes(self.start), _minutes(self.end)
        return [(s, e)] if s < e else [(s, _DAY), (0, e)]


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _fail(message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, message, {"field": "shifts", **details})


def parse_time(text: str, code: str) -> time:
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise _fail(f"shift {code}: {text!r} is not a time HH:MM (00:00 to 23:59)", shift=code)
    return time(int(match[1]), int(match[2]))


def build_calendar(shifts: list[tuple[str, str, str]]) -> tuple[Shift, ...]:
    """Shifts from (code, "HH:MM", "HH:MM"): codes unique, start ≠ end, no two overlapping;
    gaps are allowed (a job started in one belongs to no shift). Empty clears the calendar."""
    if len(shifts) > MAX_SHIFTS:
        raise _fail(f"a calendar takes at most {MAX_SHIFTS} shifts")
    built: list[Shift] = []
    for code, start, end in shifts:
        check_code(code, "shifts.code")
        if any(s.code == code for s in built):
            raise _fail(f"shift {code} is listed twice", shift=code)
        shift = Shift(code, parse_time(start, code), parse_time(end, code))
        if shift.start == shift.end:
            raise _fail(f"shift {code} starts when it ends", shift=code)
        built.append(shift)
    pieces = sorted((a, b, s.code) for s in built for a, b in s.spans())
    for before, after in pairwise(pieces):
        if after[0] < before[1]:
            raise _fail(f"shifts {before[2]} and {after[2]} overlap", shifts=[before[2], after[2]])
    return tuple(sorted(built, key=lambda s: _minutes(s.start)))


def shift_of(
    moment: datetime, shifts: tuple[Shift, ...], plant_tz: tzinfo
) -> tuple[str | None, date]:
    """The shift a moment falls in and that shift's business day (the local day it began);
    outside every shift: no shift and the local day. Wall-clock matching, so a DST night is
    simply shorter or longer."""
    local = moment.astimezone(plant_tz)
    minute = local.hour * 60 + local.minute
    day = local.date()
    for s in shifts:
        start, end = _minutes(s.start), _minutes(s.end)
        if start < end and start <= minute < end:
            return s.code, day
        if start > end and minute >= start:
            return s.code, day
        if start > end and minute < end:
            return s.code, day - timedelta(days=1)
    return None, day
