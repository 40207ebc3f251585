"""Parked events (issue 20): events waiting for their units to reach their step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg
from adapters.repositories.base import SqlRepository, chunks
from adapters.repositories.transaction import TransactionState
from domain.ingest.records import PairingKey, ParkedEvent


class SqlParkedEventRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, state: TransactionState, pg: Pg | None = None):
        super().__init__(conn, pg)
        #: the units this transaction locked without parked events (TransactionState.unparked)
        self.state = state

    async def get_by_key(self, source_system: str, dedupe_key: str) -> ParkedEvent | None:
        p = t.parked_event
        found = await self._with_units(
            select(p).where(p.c.source_system == source_system, p.c.dedupe_key == dedupe_key)
        )
        return found[0] if found else None

    async def add(self, parked: ParkedEvent) -> ParkedEvent:
        new_id = (
            await self._exec(
                insert(t.parked_event).returning(t.parked_event.c.id),
                rows.parked_to_values(parked),
            )
        ).scalar_one()
        unit_ids = list(dict.fromkeys(parked.unit_ids))
        if unit_ids:
            # the units are locked by the caller: who locks them next sees the flag
            self.state.unparked.difference_update(unit_ids)
            await self._exec(
                update(t.unit).where(t.unit.c.id.in_(unit_ids)).values(has_parked=True)
            )
            await self._exec(
                insert(t.parked_event_unit),
                [
                    {
                        "parked_event_id": new_id,
                        "unit_id": unit_id,
                        "waiting_for_step_no": parked.waiting_for_step_no,
                    }
                    for unit_id in unit_ids
                ],
            )
        return replace(parked, id=new_id, unit_ids=tuple(unit_ids))

    async def waiting(self, unit_ids: Sequence[int], step_no: int) -> list[ParkedEvent]:
        # every unit of a parked event has the flag: those locked without it have none
        unit_ids = [i for i in unit_ids if i not in self.state.unparked]
        if not unit_ids:
            return []
        p, link = t.parked_event, t.parked_event_unit
        ids: set[int] = set()
        for part in chunks(list(dict.fromkeys(unit_ids))):
            ids.update(
                (
                    await self._exec(
                        select(link.c.parked_event_id).where(
                            link.c.unit_id.in_(part), link.c.waiting_for_step_no == step_no
                        )
                    )
                ).scalars()
            )
        if not ids:
            return []
        found = await self._with_units(select(p).where(p.c.id.in_(sorted(ids))))
        return sorted(found, key=lambda e: (e.occurred_at, e.id or 0))

    async def waiting_for_start(self, source_system: str, transaction_id: str) -> list[ParkedEvent]:
        p = t.parked_event
        return await self._with_units(
            select(p)
            .where(
                p.c.waiting_for_transaction == transaction_id, p.c.source_system == source_system
            )
            .order_by(p.c.occurred_at, p.c.id)
        )

    async def expired(self, now: datetime, limit: int) -> list[ParkedEvent]:
        p = t.parked_event
        return await self._with_units(
            select(p).where(p.c.expires_at <= now).order_by(p.c.expires_at, p.c.id).limit(limit)
        )

    async def started_waits(self, limit: int) -> list[PairingKey]:
        p, w = t.parked_event, t.cfx_work
        found = await self._exec(
            select(p.c.source_system, p.c.waiting_for_transaction)
            .join(
                w,
                (w.c.source_system == p.c.source_system)
                & (w.c.transaction_id == p.c.waiting_for_transaction),
            )
            .where(w.c.started_at.is_not(None))
            .distinct()
            .limit(limit)
        )
        return [PairingKey(source, tx) for source, tx in found]

    async def remove(self, parked_id: int) -> bool:
        await self._exec(
            delete(t.parked_event_unit).where(t.parked_event_unit.c.parked_event_id == parked_id)
        )
        gone = await self._exec(
            delete(t.parked_event)
            .where(t.parked_event.c.id == parked_id)
            .returning(t.parked_event.c.id)
        )
        return gone.first() is not None

    async def _with_units(self, stmt: Any) -> list[ParkedEvent]:
        """The parked events `stmt` selects, each with its units (one more statement)."""
        found = list((await self._exec(stmt)).all())
        if not found:
            return []
        link = t.parked_event_unit
        units: dict[int, list[int]] = {}
        for r in (
            await self._exec(
                select(link.c.parked_event_id, link.c.unit_id)
                .where(link.c.parked_event_id.in_([r.id for r in found]))
                .order_by(link.c.parked_event_id, link.c.unit_id)
            )
        ).all():
            units.setdefault(r.parked_event_id, []).append(r.unit_id)
        return [rows.parked_from_row(r, units.get(r.id, ())) for r in found]
