"""Ports of production: work orders, runs, units, holds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from domain.enums import (
    DispositionAction,
    RunStatus,
    UnitStatus,
)
from domain.holds import Hold
from domain.panels import Panel
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder


class WorkOrderRepository(Protocol):
    async def get(self, wo_no: str, *, for_update: bool = False) -> WorkOrder | None: ...
    async def add(self, work_order: WorkOrder) -> None: ...
    async def update(self, work_order: WorkOrder) -> None: ...


class RunRepository(Protocol):
    async def get(
        self, run_no: str, *, for_update: bool = False, for_share: bool = False
    ) -> Run | None:
        """for_update: locked for a status change (authorize, revoke, close). for_share: held
        by an execution until the transaction ends: a status change waits for it, and it
        waits for one (then reads the new status); executions never wait for each other."""
        ...

    async def add(self, run: Run) -> None: ...
    async def update(self, run: Run) -> None: ...
    async def count_for_work_order(self, wo_no: str) -> int: ...
    async def statuses_for_work_order(self, wo_no: str) -> dict[str, RunStatus]: ...
    async def unfinished_versions(self) -> list[int]:
        """The route versions of the runs that can still receive events, each once, in the
        order of its oldest such run (creation, then runNo): a few rows however many runs."""
        ...

    async def set_status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        """Compare-and-set the status; whether it changed."""
        ...


class UnitRepository(Protocol):
    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None: ...
    async def existing_sns(self, sns: Sequence[str]) -> list[str]: ...
    async def add_many(self, units: Sequence[Unit]) -> None:
        """Insert in SN order (one order everywhere: two registrations of overlapping SNs
        never deadlock, the later one finds them taken). KeyTaken names the SNs that exist
        already; the caller refuses (and so rolls back what was inserted)."""
        ...

    async def taken_barcodes(
        self, barcodes: Sequence[str], *, units: bool = True, carriers: bool = True
    ) -> list[str]:
        """The barcodes that name a panel already, or a unit or a carrier (when asked)."""
        ...

    async def lock_registrations(self) -> None:
        """Until the transaction ends, no other registration checks or claims barcodes: a
        panel barcode and a unit SN live in different tables, so only this keeps one barcode
        from being registered as both at once (PostgreSQL: one transaction-level advisory
        lock; SQLite serializes writers)."""
        ...

    async def add_panels(self, panels: Sequence[Panel]) -> None:
        """KeyTaken names the panel barcodes that exist already."""
        ...

    async def get_panel(self, panel_sn: str) -> Panel | None: ...
    async def status_counts(self, run_no: str) -> dict[UnitStatus, int]: ...
    async def count_for_work_order(self, wo_no: str, statuses: Sequence[UnitStatus]) -> int:
        """The work order's units (of all its runs) in one of these statuses."""
        ...

    async def next_sn_numbers(self, prefix: str, count: int) -> int:
        """Take `count` numbers from the prefix's counter (shared by every run, starting at 1);
        the first of them. The counter stays locked until the transaction ends."""
        ...

    async def get_by_id(self, unit_id: int, *, for_update: bool = False) -> Unit | None: ...
    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        """As get_many, by id."""
        ...

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        """The registered units among these SNs; locked in SN order when for_update (one
        order everywhere, so two events never deadlock), their runs then held as by
        `runs.get(for_share=True)`. A unit's loads change only under its lock."""
        ...

    async def boards_of_panels(
        self, panel_sns: Sequence[str], *, for_update: bool = False
    ) -> list[Unit]:
        """The boards registered on these panels, in SN order (locked as by get_many)."""
        ...

    async def update_many(self, units: Sequence[Unit]) -> None:
        """Write status, current step, step fails and held-from of these units."""
        ...

    async def add_disposition(self, disposition: Disposition) -> Disposition: ...
    async def sns_of_run(self, run_no: str, limit: int) -> list[str]:
        """At most `limit` SNs of the run's units, in SN order (not locked)."""
        ...

    async def count_dispositions(self, unit_id: int, actions: Iterable[DispositionAction]) -> int:
        """How many dispositions with one of these actions the unit has had."""
        ...


class HoldRepository(Protocol):
    async def add(self, hold: Hold) -> Hold:
        """The hold and its units (a fixed number of statements whatever the count)."""
        ...

    async def get(self, hold_id: int, *, for_update: bool = False) -> Hold | None:
        """With all its units."""
        ...

    async def open_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        """Per unit, the holds open on it (each Hold's units: that unit only); units held by
        none are left out."""
        ...

    async def release(
        self, unit_ids: Sequence[int], at: datetime, hold_id: int | None = None
    ) -> None:
        """Release these units from that hold (from every open hold when hold_id is None),
        then close each hold left with no open unit."""
        ...
