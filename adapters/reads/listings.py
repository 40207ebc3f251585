"""Keyset-paged listings: events, rejections, device records, audit, holds, a run's units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from adapters.pg import columns
from adapters.reads.base import ReadBase
from domain.audit import AuditEvent
from domain.device_records import DeviceDataRecord
from domain.holds import Hold
from domain.ingest.records import IngestEvent, IngestRejection
from domain.ports import AuditFilter, EventFilter, RejectionFilter
from domain.runs_and_units import Unit

_UNITS_OF_RUN = f"""SELECT {columns(t.unit)} FROM unit WHERE run_no = $1 AND id > $2
ORDER BY id LIMIT $3"""


class ListingReads(ReadBase):
    """One page per call (newest first unless said), and whether more follow."""

    async def events_page(
        self, where: EventFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[IngestEvent], bool]:
        e = t.ingest_event
        stmt = select(e)
        if where.source_system is not None:
            stmt = stmt.where(e.c.source_system == where.source_system)
        if where.event_type is not None:
            stmt = stmt.where(e.c.event_type == where.event_type.value)
        if where.run_no is not None:
            stmt = stmt.where(e.c.run_no == where.run_no)
        if where.station_code is not None:
            stmt = stmt.where(e.c.station_code == where.station_code)
        if where.carrier_code is not None:
            stmt = stmt.where(e.c.carrier_code == where.carrier_code)
        if where.occurred_from is not None:
            stmt = stmt.where(e.c.occurred_at >= where.occurred_from)
        if where.occurred_to is not None:
            stmt = stmt.where(e.c.occurred_at < where.occurred_to)
        if where.sn is not None:
            link = t.ingest_event_unit
            touched = (
                select(link.c.event_id)
                .join(t.unit, t.unit.c.id == link.c.unit_id)
                .where(t.unit.c.sn == where.sn)
            )
            stmt = stmt.where(e.c.id.in_(touched))
        return await self._newest_first(
            stmt, e.c.received_at, e.c.id, after, first, rows.event_from_row
        )

    async def rejections(self, ids: Sequence[int]) -> dict[int, IngestRejection]:
        found = await self._in(select(t.ingest_rejection), t.ingest_rejection.c.id, ids)
        return {r.id: rows.rejection_from_row(r) for r in found}

    async def rejections_page(
        self, where: RejectionFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[IngestRejection], bool]:
        j = t.ingest_rejection
        stmt = select(j)
        if where.source_system is not None:
            stmt = stmt.where(j.c.source_system == where.source_system)
        if where.code is not None:
            stmt = stmt.where(j.c.error_code == where.code.value)
        if where.unresolved_only:
            stmt = stmt.where(j.c.resolved_by_event_id.is_(None))
        if where.received_from is not None:
            stmt = stmt.where(j.c.received_at >= where.received_from)
        if where.received_to is not None:
            stmt = stmt.where(j.c.received_at < where.received_to)
        if where.sn is not None:
            named = select(t.ingest_rejection_sn.c.rejection_id).where(
                t.ingest_rejection_sn.c.sn == where.sn
            )
            stmt = stmt.where(j.c.id.in_(named))
        return await self._newest_first(
            stmt, j.c.received_at, j.c.id, after, first, rows.rejection_from_row
        )

    async def device_records_page(
        self, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[DeviceDataRecord], bool]:
        d = t.device_data_record
        return await self._newest_first(
            select(d), d.c.received_at, d.c.id, after, first, rows.device_record_from_row
        )

    async def holds(self, open_: bool | None, limit: int) -> list[Hold]:
        stmt = select(t.hold).order_by(t.hold.c.id.desc()).limit(limit)
        if open_ is True:
            stmt = stmt.where(t.hold.c.closed_at.is_(None))
        elif open_ is False:
            stmt = stmt.where(t.hold.c.closed_at.is_not(None))
        async with self.engine.connect() as conn:
            return [rows.hold_from_row(r) for r in await conn.execute(stmt)]

    async def audit_page(
        self, where: AuditFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[AuditEvent], bool]:
        a = t.audit_event
        stmt = select(a)
        for column, value in (
            (a.c.actor, where.actor),
            (a.c.action, where.action),
            (a.c.entity_type, where.entity_type),
            (a.c.entity_key, where.entity_key),
            (a.c.outcome, where.outcome),
            (a.c.request_id, where.request_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if where.since is not None:
            stmt = stmt.where(a.c.at >= where.since)
        if where.until is not None:
            stmt = stmt.where(a.c.at < where.until)
        return await self._newest_first(stmt, a.c.at, a.c.id, after, first, rows.audit_from_row)

    async def units_of_run(
        self, run_no: str, first: int, after_id: int | None
    ) -> tuple[list[Unit], bool]:
        stmt = select(t.unit).where(t.unit.c.run_no == run_no)
        if after_id is not None:
            stmt = stmt.where(t.unit.c.id > after_id)
        found = await self._rows(
            stmt.order_by(t.unit.c.id).limit(first + 1),
            _UNITS_OF_RUN,
            run_no,
            after_id or 0,  # ids start at 1
            first + 1,
        )
        return [rows.unit_from_row(r) for r in found[:first]], len(found) > first
