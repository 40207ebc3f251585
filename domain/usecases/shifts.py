"""A line's shift calendar (DOMAIN.md §7; issue 16 item 11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.errors import ErrorCode, not_found
from domain.ports import UnitOfWork
from domain.shifts import Shift, build_calendar
from domain.usecases.bus import Command, Deps
from domain.validation import check_code


@dataclass(frozen=True, slots=True)
class ShiftCalendar:
    line_code: str
    shifts: tuple[Shift, ...]


@dataclass(frozen=True, slots=True)
class SetShiftCalendar(Command):
    line_code: str
    #: (code, start "HH:MM", end "HH:MM"), local times in MES_PLANT_TZ
    shifts: tuple[tuple[str, str, str], ...]
    action: ClassVar[str] = "setShiftCalendar"
    entity_type: ClassVar[str] = "Line"

    def entity_key(self) -> str:
        return self.line_code


async def set_shift_calendar(cmd: SetShiftCalendar, uow: UnitOfWork, deps: Deps) -> ShiftCalendar:
    """Replace the line's calendar as a whole (an empty list clears it)."""
    check_code(cmd.line_code, "lineCode")
    shifts = build_calendar(list(cmd.shifts))
    if not await uow.lines.get(cmd.line_code):
        raise not_found(ErrorCode.LINE_NOT_FOUND, "line", cmd.line_code)
    await uow.lines.replace_shifts(cmd.line_code, shifts)
    return ShiftCalendar(cmd.line_code, shifts)
