"""Work orders, runs, units and what is decided on units (dispositions, holds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select

from adapters import rows
from adapters import tables as t
from adapters.pg import columns, keyed
from adapters.reads.base import ReadBase, grouped, split_rows
from domain.holds import HeldUnit, Hold
from domain.panels import Panel
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder

# a unit comes with its run and work order: one round trip where a trace made three
_IN_CONTEXT = t.unit.outerjoin(t.run, t.run.c.run_no == t.unit.c.run_no).outerjoin(
    t.work_order, t.work_order.c.wo_no == t.unit.c.wo_no
)
_UNITS_IN_CONTEXT = (
    f"SELECT {columns(t.unit, 'unit.')}, {columns(t.run, 'run.')}, "
    f"{columns(t.work_order, 'work_order.')} FROM unit "
    "LEFT JOIN run ON run.run_no = unit.run_no "
    "LEFT JOIN work_order ON work_order.wo_no = unit.wo_no "
    "WHERE unit.sn = ANY($1::varchar[])"
)


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

    async def units_in_context(
        self, sns: Sequence[str]
    ) -> tuple[dict[str, Unit], dict[str, Run], dict[str, WorkOrder]]:
        found = await self._in(
            select(t.unit, t.run, t.work_order).select_from(_IN_CONTEXT),
            t.unit.c.sn,
            sns,
            _UNITS_IN_CONTEXT,
            by_position=True,
        )
        units: dict[str, Unit] = {}
        runs: dict[str, Run] = {}
        work_orders: dict[str, WorkOrder] = {}
        for unit, run, work_order in split_rows(found, t.unit, t.run, t.work_order):
            units[unit.sn] = rows.unit_from_row(unit)
            if run is not None:
                runs[run.run_no] = rows.run_from_row(run)
            if work_order is not None:
                work_orders[work_order.wo_no] = rows.work_order_from_row(work_order)
        return units, runs, work_orders

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

    async def panels(self, panel_sns: Sequence[str]) -> dict[str, Panel]:
        found = await self._in(select(t.panel), t.panel.c.panel_sn, panel_sns)
        return {r.panel_sn: rows.panel_from_row(r) for r in found}

    async def boards_of_panels(self, panel_sns: Sequence[str]) -> dict[str, list[Unit]]:
        found = await self._in(
            select(t.unit).order_by(t.unit.c.position), t.unit.c.panel_sn, panel_sns
        )
        return grouped(found, "panel_sn", rows.unit_from_row)

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
