"""Parked events (issue 20 item 4): the `parkedEvents` listing and a unit's parked events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from adapters.reads.base import ReadBase, grouped
from domain.ingest.records import ParkedEvent
from domain.ports import ParkedFilter
from domain.runs_and_units import Unit


class ParkingReads(ReadBase):
    async def parked_events_page(
        self, where: ParkedFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[ParkedEvent], bool]:
        p = t.parked_event
        stmt = select(p)
        if where.source_system is not None:
            stmt = stmt.where(p.c.source_system == where.source_system)
        if where.sn is not None:
            link = t.parked_event_unit
            waiting = (
                select(link.c.parked_event_id)
                .join(t.unit, t.unit.c.id == link.c.unit_id)
                .where(t.unit.c.sn == where.sn)
            )
            stmt = stmt.where(p.c.id.in_(waiting))
        return await self._newest_first(
            stmt, p.c.received_at, p.c.id, after, first, rows.parked_from_row
        )

    async def parked_events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[ParkedEvent]]:
        p, link = t.parked_event, t.parked_event_unit
        found = await self._in(
            select(p, link.c.unit_id)
            .join(link, link.c.parked_event_id == p.c.id)
            .order_by(p.c.occurred_at, p.c.id),
            link.c.unit_id,
            unit_ids,
        )
        return grouped(found, "unit_id", rows.parked_from_row)

    async def units_of_parked_events(self, ids: Sequence[int]) -> dict[int, list[Unit]]:
        link = t.parked_event_unit
        found = await self._in(
            select(t.unit, link.c.parked_event_id)
            .join(link, link.c.unit_id == t.unit.c.id)
            .order_by(t.unit.c.id),
            link.c.parked_event_id,
            ids,
        )
        return grouped(found, "parked_event_id", rows.unit_from_row)
