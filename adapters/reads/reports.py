"""What the production report reads: placement counts and shift calendars."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from adapters.reads.base import ReadBase
from domain.device_records import ProductionCountRecord
from domain.shifts import Shift


class ReportReads(ReadBase):
    """Production counts in a window and the lines' shift calendars."""

    async def production_counts(
        self, line_code: str | None, start: datetime, end: datetime
    ) -> list[ProductionCountRecord]:
        pc = t.production_count
        stmt = select(pc).where(pc.c.started_at >= start, pc.c.started_at < end)
        if line_code is not None:
            stmt = stmt.where(pc.c.line_code == line_code)
        return [rows.count_from_row(r) for r in await self._rows(stmt.order_by(pc.c.started_at))]

    async def shift_calendars(self, line_codes: Sequence[str]) -> dict[str, tuple[Shift, ...]]:
        found = await self._in(select(t.line_shift), t.line_shift.c.line_code, line_codes)
        by_line: dict[str, list[Any]] = defaultdict(list)
        for r in found:
            by_line[r.line_code].append(r)
        return {line: rows.shifts_from_rows(rs) for line, rs in by_line.items()}
