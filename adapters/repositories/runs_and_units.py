"""Production: work orders, runs, units (their dispositions and SN sequences)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg
from adapters.repositories.base import SqlRepository, chunks
from adapters.repositories.transaction import TransactionState
from domain.enums import (
    UNFINISHED_RUN_STATUSES,
    DispositionAction,
    RunStatus,
    UnitStatus,
)
from domain.errors import KeyTaken
from domain.panels import Panel
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder

#: the advisory lock every registration takes (the bytes of "MES-REG1"; the ingest key locks
#: are hashes of text, a collision with this one costs a wait, never a wrong answer)
REGISTRATION_LOCK = int.from_bytes(b"MES-REG1", "big")


class SqlWorkOrderRepository(SqlRepository):
    async def get(self, wo_no: str, *, for_update: bool = False) -> WorkOrder | None:
        r = await self._one(select(t.work_order).where(t.work_order.c.wo_no == wo_no), for_update)
        return rows.work_order_from_row(r) if r else None

    async def add(self, work_order: WorkOrder) -> None:
        await self._exec(insert(t.work_order), rows.work_order_to_values(work_order))

    async def update(self, work_order: WorkOrder) -> None:
        await self._exec(
            update(t.work_order)
            .where(t.work_order.c.wo_no == work_order.wo_no)
            .values(rows.work_order_to_values(work_order))
        )


class SqlRunRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, state: TransactionState, pg: Pg | None = None):
        super().__init__(conn, pg)
        #: the runs held with the units this transaction locked (TransactionState.runs)
        self.state = state

    async def get(
        self, run_no: str, *, for_update: bool = False, for_share: bool = False
    ) -> Run | None:
        if not for_update and run_no in self.state.runs:
            return self.state.runs[run_no]  # held already (FOR KEY SHARE, with its units)
        stmt = select(t.run).where(t.run.c.run_no == run_no)
        if for_share and not for_update:
            # KEY SHARE: executions of one run never wait for each other (their status
            # update takes NO KEY UPDATE), while authorize, revoke and close (FOR UPDATE) wait
            stmt = stmt.with_for_update(key_share=True)
        r = await self._one(stmt, for_update)
        return rows.run_from_row(r) if r else None

    async def add(self, run: Run) -> None:
        await self._exec(insert(t.run), rows.run_to_values(run))

    async def update(self, run: Run) -> None:
        self.state.runs.pop(run.run_no, None)
        await self._exec(
            update(t.run).where(t.run.c.run_no == run.run_no).values(rows.run_to_values(run))
        )

    async def count_for_work_order(self, wo_no: str) -> int:
        result = await self._exec(
            select(func.count()).select_from(t.run).where(t.run.c.wo_no == wo_no)
        )
        return int(result.scalar_one())

    async def statuses_for_work_order(self, wo_no: str) -> dict[str, RunStatus]:
        result = await self._exec(
            select(t.run.c.run_no, t.run.c.status).where(t.run.c.wo_no == wo_no)
        )
        return {r.run_no: RunStatus(r.status) for r in result}

    async def unfinished_versions(self) -> list[int]:
        statuses = [s.value for s in UNFINISHED_RUN_STATUSES]
        first = (
            select(
                t.run.c.route_version_id,
                t.run.c.created_at,
                t.run.c.run_no,
                func.row_number()
                .over(
                    partition_by=t.run.c.route_version_id,
                    order_by=(t.run.c.created_at, t.run.c.run_no),
                )
                .label("nth"),
            )
            .where(t.run.c.status.in_(statuses))
            .subquery()
        )
        result = await self._exec(
            select(first.c.route_version_id)
            .where(first.c.nth == 1)
            .order_by(first.c.created_at, first.c.run_no)
        )
        return [int(v) for v in result.scalars()]

    async def set_status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        self.state.runs.pop(run_no, None)  # this transaction changes it (TransactionState)
        return await self._status_if(run_no, expected, new)

    async def _status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        result = await self._exec(
            update(t.run)
            .where(t.run.c.run_no == run_no, t.run.c.status == expected.value)
            .values(status=new.value)
        )
        return bool(result.rowcount)


class SqlUnitRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, state: TransactionState, pg: Pg | None = None):
        super().__init__(conn, pg)
        #: the runs held with the units this transaction locked (TransactionState.runs)
        self.state = state

    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None:
        r = await self._one(select(t.unit).where(t.unit.c.sn == sn), for_update)
        return rows.unit_from_row(r) if r else None

    async def existing_sns(self, sns: Sequence[str]) -> list[str]:
        return sorted(await self._existing(t.unit.c.sn, sns))

    async def add_many(self, units: Sequence[Unit]) -> None:
        ins = self._conflict_insert(t.unit)
        # a concurrent registration may take an SN between the caller's check and this insert
        # (another run's: no lock covers it); the unique SN then refuses like the check would
        stmt = ins.on_conflict_do_nothing(index_elements=["sn"]).returning(t.unit.c.sn)
        taken: list[str] = []
        # in SN order: two registrations of overlapping SNs in opposite orders would each
        # wait for the other's insert (a deadlock); in one order the later one finds them taken
        for part in chunks(sorted(units, key=lambda u: u.sn)):
            result = await self._exec(stmt, [rows.unit_to_values(u) for u in part])
            inserted = set(result.scalars())
            taken += [u.sn for u in part if u.sn not in inserted]
        if taken:
            raise KeyTaken(taken)

    async def taken_barcodes(
        self, barcodes: Sequence[str], *, units: bool = True, carriers: bool = True
    ) -> list[str]:
        found = await self._existing(t.panel.c.panel_sn, barcodes)
        if units:
            found |= await self._existing(t.unit.c.sn, barcodes)
        if carriers:
            found |= await self._existing(t.carrier.c.carrier_no, barcodes)
        return sorted(found)

    async def lock_registrations(self) -> None:
        if self.conn.dialect.name == "postgresql":
            await self._exec(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRATION_LOCK})

    async def add_panels(self, panels: Sequence[Panel]) -> None:
        stmt = (
            self._conflict_insert(t.panel)
            .on_conflict_do_nothing(index_elements=["panel_sn"])
            .returning(t.panel.c.panel_sn)
        )
        taken: list[str] = []
        for part in chunks(sorted(panels, key=lambda p: p.panel_sn)):
            result = await self._exec(stmt, [rows.panel_to_values(p) for p in part])
            inserted = set(result.scalars())
            taken += [p.panel_sn for p in part if p.panel_sn not in inserted]
        if taken:
            raise KeyTaken(taken)

    async def get_panel(self, panel_sn: str) -> Panel | None:
        r = await self._one(select(t.panel).where(t.panel.c.panel_sn == panel_sn))
        return rows.panel_from_row(r) if r else None

    async def get_by_id(self, unit_id: int, *, for_update: bool = False) -> Unit | None:
        r = await self._one(select(t.unit).where(t.unit.c.id == unit_id), for_update)
        return rows.unit_from_row(r) if r else None

    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        found: list[Unit] = []
        for part in chunks(sorted(set(unit_ids))):
            stmt = select(t.unit).where(t.unit.c.id.in_(part)).order_by(t.unit.c.sn)
            if for_update:
                stmt = stmt.with_for_update()
            found += [self._locked(r, for_update) for r in await self._exec(stmt)]
        return found

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        found: list[Unit] = []
        for part in chunks(sorted(set(sns))):
            stmt = select(t.unit).where(t.unit.c.sn.in_(part)).order_by(t.unit.c.sn)
            if for_update:
                stmt = stmt.with_for_update()
            found += [self._locked(r, for_update) for r in await self._exec(stmt)]
        return found

    def _locked(self, r: Any, for_update: bool) -> Unit:
        """The unit of a row; one locked without parked events is remembered
        (TransactionState.unparked)."""
        if for_update and not r.has_parked:
            self.state.unparked.add(r.id)
        return rows.unit_from_row(r)

    async def boards_of_panels(
        self, panel_sns: Sequence[str], *, for_update: bool = False
    ) -> list[Unit]:
        found: list[Unit] = []
        for part in chunks(sorted(set(panel_sns))):
            stmt = select(t.unit).where(t.unit.c.panel_sn.in_(part)).order_by(t.unit.c.sn)
            if for_update:
                stmt = stmt.with_for_update()
            found += [rows.unit_from_row(r) for r in await self._exec(stmt)]
        return sorted(found, key=lambda u: u.sn)

    async def update_many(self, units: Sequence[Unit]) -> None:
        if not units:
            return
        stmt = (
            update(t.unit)
            .where(t.unit.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                current_step_no=bindparam("b_step"),
                step_fails=bindparam("b_fails"),
                held_from=bindparam("b_held"),
            )
        )
        await self._exec(
            stmt,
            [
                {
                    "b_id": u.id,
                    "b_status": u.status.value,
                    "b_step": u.current_step_no,
                    "b_fails": u.step_fails,
                    "b_held": u.held_from.value if u.held_from else None,
                }
                for u in units
            ],
        )

    async def add_disposition(self, disposition: Disposition) -> Disposition:
        new_id = (
            await self._exec(
                insert(t.disposition).returning(t.disposition.c.id),
                rows.disposition_to_values(disposition),
            )
        ).scalar_one()
        return replace(disposition, id=new_id)

    async def sns_of_run(self, run_no: str, limit: int) -> list[str]:
        result = await self._exec(
            select(t.unit.c.sn).where(t.unit.c.run_no == run_no).order_by(t.unit.c.sn).limit(limit)
        )
        return list(result.scalars())

    async def count_dispositions(self, unit_id: int, actions: Iterable[DispositionAction]) -> int:
        result = await self._exec(
            select(func.count())
            .select_from(t.disposition)
            .where(
                t.disposition.c.unit_id == unit_id,
                t.disposition.c.action.in_([a.value for a in actions]),
            )
        )
        return int(result.scalar_one())

    async def status_counts(self, run_no: str) -> dict[UnitStatus, int]:
        result = await self._exec(
            select(t.unit.c.status, func.count().label("n"))
            .where(t.unit.c.run_no == run_no)
            .group_by(t.unit.c.status)
        )
        return {UnitStatus(r.status): int(r.n) for r in result}

    async def count_for_work_order(self, wo_no: str, statuses: Sequence[UnitStatus]) -> int:
        result = await self._exec(
            select(func.count())
            .select_from(t.unit)
            .where(t.unit.c.wo_no == wo_no, t.unit.c.status.in_([s.value for s in statuses]))
        )
        return int(result.scalar_one())

    async def next_sn_numbers(self, prefix: str, count: int) -> int:
        # one atomic upsert: the row stays locked until commit (PostgreSQL), and SQLite
        # writers are serialized already, so two runs of one prefix never share a number
        take = self._conflict_insert(t.sn_sequence).values(prefix=prefix, last_value=count)
        upsert = take.on_conflict_do_update(
            index_elements=["prefix"],
            set_={"last_value": t.sn_sequence.c.last_value + take.excluded.last_value},
        ).returning(t.sn_sequence.c.last_value)
        last = int((await self._exec(upsert)).scalar_one())
        return last - count + 1
