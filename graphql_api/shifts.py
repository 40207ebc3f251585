"""A line's shift calendar over GraphQL (DOMAIN.md §7; issue 16 item 11)."""

from __future__ import annotations

import strawberry

from domain.shifts import Shift as DomainShift
from domain.usecases import shifts as sh
from graphql_api.context import Info
from graphql_api.mutations import run_command
from graphql_api.types.common import MesError


@strawberry.input(description="One shift: local wall-clock times in the plant's time zone.")
class ShiftInput:
    code: str = strawberry.field(description="The shift's code, unique in the calendar.")
    start: str = strawberry.field(description="Local start time HH:MM (included).")
    end: str = strawberry.field(
        description="Local end time HH:MM (excluded); before start, the shift crosses midnight "
        "and belongs to the day it began."
    )


@strawberry.type(description="One shift of a line's calendar (local times, MES_PLANT_TZ).")
class Shift:
    code: str = strawberry.field(description="The shift's code (e.g. NIGHT).")
    start: str = strawberry.field(description="Local start time HH:MM (included).")
    end: str = strawberry.field(
        description="Local end time HH:MM (excluded); before start: crosses midnight."
    )

    @classmethod
    def of(cls, s: DomainShift) -> Shift:
        return cls(code=s.code, start=s.start.strftime("%H:%M"), end=s.end.strftime("%H:%M"))


@strawberry.type(description="A line's shifts, by start time.")
class ShiftCalendar:
    line_code: str = strawberry.field(description="The line the calendar belongs to.")
    shifts: list[Shift] = strawberry.field(description="The shifts, by start time.")


@strawberry.type
class ShiftCalendarPayload:
    shift_calendar: ShiftCalendar | None = strawberry.field(
        default=None, description="The calendar as stored."
    )
    error: MesError | None = strawberry.field(
        default=None, description="The refusal (LINE_NOT_FOUND, VALIDATION_FAILED)."
    )


def _payload(cal: sh.ShiftCalendar) -> ShiftCalendarPayload:
    return ShiftCalendarPayload(
        shift_calendar=ShiftCalendar(
            line_code=cal.line_code, shifts=[Shift.of(s) for s in cal.shifts]
        )
    )


@strawberry.type
class ShiftMutation:
    @strawberry.mutation(
        description="Replace a line's shift calendar (an empty list clears it). Codes unique, "
        "start ≠ end, no two shifts overlapping (VALIDATION_FAILED); gaps belong to no shift. "
        "productionReport(groupBy: SHIFT) attributes a job to the shift it started in."
    )
    async def set_shift_calendar(
        self, info: Info, line_code: str, shifts: list[ShiftInput]
    ) -> ShiftCalendarPayload:
        cmd = sh.SetShiftCalendar(line_code, tuple((s.code, s.start, s.end) for s in shifts))
        return await run_command(info, cmd, _payload, ShiftCalendarPayload)
