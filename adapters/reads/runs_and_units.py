"""Work orders, runs, units and what is decided on units (dispositions, holds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select

from adapters import rows
from adapters import tables as t
from adapters.pg import keyed
from adapters.reads.base import ReadBase, grouped
from domain.holds import HeldUnit, Hold
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder


class RunAndUnitReads(ReadBase):
    """Production records by key, and the relations of a unit."""

    async def work_orders(self, wo_nos: Sequence[str]) -> dict[str, WorkOrder]:
        found = await self._in(
            select(t.work_order), t.work_order.c.wo_no, wo_nos, keyed(t.work_order, "wo_no")
        )
        return {r.wo_no: rows.work_order_from_row(r) for r in found}

    async def runs_of_work_orders(self, wo_nos: Sequence[str]) -> dict[str, list[Run]]:
        found = await self._in(
            select(t.run).order_by(t.run.c.created_at, t.run.c.run_no), t.run.c.wo_no, wo_nos
        )
        return grouped(found, "wo_no", rows.run_from_row)

    async def runs(self, run_nos: Sequence[str]) -> dict[str, Run]:
        found = await self._in(select(t.run), t.run.c.run_no, run_nos, keyed(t.run, "run_no"))
        return {r.run_no: rows.run_from_row(r) for r in found}

    async def units(self, sns: Sequence[str]) -> dict[str, Unit]:
        found = await self._in(select(t.unit), t.unit.c.sn, sns, keyed(t.unit, "sn"))
        return {r.sn: rows.unit_from_row(r) for r in found}

    async def unit_counts_of_runs(self, run_nos: Sequence[str]) -> dict[str, int]:
        found = await self._in(
            select(t.unit.c.run_no, func.count().label("n")).group_by(t.unit.c.run_no),
            t.unit.c.run_no,
            run_nos,
        )
        return {r.run_no: int(r.n) for r in found}

    async def dispositions_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Disposition]]:
        found = await self._in(
            select(t.disposition).order_by(t.disposition.c.id), t.disposition.c.unit_id, unit_ids
        )
        return grouped(found, "unit_id", rows.disposition_from_row)

    async def holds_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        found = await self._in(
            select(t.hold, t.hold_unit.c.unit_id, t.hold_unit.c.sn, t.hold_unit.c.released_at)
            .join(t.hold_unit, t.hold_unit.c.hold_id == t.hold.c.id)
            .order_by(t.hold.c.id),
            t.hold_unit.c.unit_id,
            unit_ids,
        )
        grouped: dict[int, list[Hold]] = defaultdict(list)
        for r in found:
            grouped[r.unit_id].append(
                replace(rows.hold_from_row(r), units=(rows.held_unit_from_row(r),))
            )
        return grouped

    async def held_units(self, hold_ids: Sequence[int]) -> dict[int, list[HeldUnit]]:
        found = await self._in(
            select(t.hold_unit).order_by(t.hold_unit.c.sn), t.hold_unit.c.hold_id, hold_ids
        )
        return grouped(found, "hold_id", rows.held_unit_from_row)
