"""The query side: batch reads, each on its own short-lived connection.

Strawberry resolves sibling fields concurrently, so no connection is shared between loader
batches (STYLE.md). Each method issues a bounded number of statements whatever the keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg, columns
from adapters.repositories import CHUNK, VersionCache
from domain.execution import (
    Carrier,
    CarrierLoad,
    CarrierTrack,
    DataValue,
    DeviceDataRecord,
    IngestEvent,
    IngestRejection,
    ProductionCountRecord,
    Track,
)
from domain.holds import HeldUnit, Hold
from domain.master import (
    DataCollectionSpec,
    Line,
    Operation,
    Routing,
    RoutingStep,
    Station,
    StationGroup,
)
from domain.ports import AuditFilter, EventFilter, RejectionFilter
from domain.production import AuditEvent, Disposition, Run, Unit, WorkOrder
from domain.routes import RouteVersion
from domain.security import ApiToken
from domain.shifts import Shift

_TOKEN_BY_LOOKUP = f"SELECT {columns(t.api_token)} FROM api_token WHERE lookup = $1"
_TRACKS_OF_UNITS = f"""SELECT {columns(t.track, "track.")}, unit.sn FROM track
JOIN unit ON unit.id = track.unit_id WHERE track.unit_id = ANY($1::bigint[]) ORDER BY track.id"""
_VALUES_OF_TRACKS = (
    f"SELECT {columns(t.data_value)} FROM data_value WHERE track_id = ANY($1::bigint[]) ORDER BY id"
)
_VALUES_OF_EVENTS = (
    f"SELECT {columns(t.data_value)} FROM data_value "
    "WHERE ingest_event_id = ANY($1::bigint[]) ORDER BY id"
)
_EVENTS_OF_UNITS = f"""SELECT {columns(t.ingest_event, "e.")}, link.unit_id FROM ingest_event e
JOIN ingest_event_unit link ON link.event_id = e.id WHERE link.unit_id = ANY($1::bigint[])
ORDER BY e.id"""

V = TypeVar("V")


class SqlReadStore:
    def __init__(self, engine: AsyncEngine, versions: VersionCache | None = None):
        # reads run in autocommit on PostgreSQL: one round trip per statement instead of three
        # (BEGIN, the query, ROLLBACK); each read was its own transaction anyway. (SQLite keeps
        # its explicit BEGIN: reads there cost no round trip.)
        self.engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # frozen route versions, decoded once per process (the decode of a big snapshot
        # costs more than reading it); shared with the writers' unit of work
        self.versions = versions if versions is not None else VersionCache()

    async def _rows(self, stmt: Select[Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(stmt))

    async def _in(
        self, stmt: Select[Any], column: Any, keys: Sequence[Any], pg_sql: str | None = None
    ) -> list[Any]:
        """Rows whose column is among the keys; one statement per CHUNK keys. On PostgreSQL a
        written-out `pg_sql` (the keys as one array, $1) reads the big relations of a trace
        straight from the driver (adapters/pg.py): thousands of values per unit."""
        keys = list(dict.fromkeys(keys))
        out: list[Any] = []
        async with self.engine.connect() as conn:
            pg = Pg.for_connection(conn, autocommit=True)
            if pg is not None and pg_sql is not None:
                return await pg.fetch(pg_sql, keys)
            for i in range(0, len(keys), CHUNK):
                out += list(await conn.execute(stmt.where(column.in_(keys[i : i + CHUNK]))))
        return out

    # ------------------------------------------------------------ execution and ingest

    async def units_by_ids(self, ids: Sequence[int]) -> dict[int, Unit]:
        found = await self._in(select(t.unit), t.unit.c.id, ids)
        return {r.id: rows.unit_from_row(r) for r in found}

    async def tracks_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(t.track.c.id),
            t.track.c.unit_id,
            unit_ids,
            _TRACKS_OF_UNITS,
        )
        return _grouped(found, "unit_id", rows.track_from_row)

    async def tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(t.track.c.id),
            t.track.c.ingest_event_id,
            event_ids,
        )
        return _grouped(found, "ingest_event_id", rows.track_from_row)

    async def values_of_tracks(self, track_ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id),
            t.data_value.c.track_id,
            track_ids,
            _VALUES_OF_TRACKS,
        )
        return _grouped(found, "track_id", rows.value_from_row)

    async def values_of_events(self, event_ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id),
            t.data_value.c.ingest_event_id,
            event_ids,
            _VALUES_OF_EVENTS,
        )
        return _grouped(found, "ingest_event_id", rows.value_from_row)

    async def value_counts_of_events(self, event_ids: Sequence[int]) -> dict[int, int]:
        dv = t.data_value
        found = await self._in(
            select(dv.c.ingest_event_id, func.count().label("n")).group_by(dv.c.ingest_event_id),
            dv.c.ingest_event_id,
            event_ids,
        )
        return {r.ingest_event_id: int(r.n) for r in found}

    async def events(self, ids: Sequence[int]) -> dict[int, IngestEvent]:
        found = await self._in(select(t.ingest_event), t.ingest_event.c.id, ids)
        return {r.id: rows.event_from_row(r) for r in found}

    async def events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[IngestEvent]]:
        link = t.ingest_event_unit
        found = await self._in(
            select(t.ingest_event, link.c.unit_id)
            .join(link, link.c.event_id == t.ingest_event.c.id)
            .order_by(t.ingest_event.c.id),
            link.c.unit_id,
            unit_ids,
            _EVENTS_OF_UNITS,
        )
        return _grouped(found, "unit_id", rows.event_from_row)

    async def event_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        found = await self._rows(
            select(t.ingest_event).where(
                t.ingest_event.c.source_system == source_system,
                t.ingest_event.c.dedupe_key == dedupe_key,
            )
        )
        return rows.event_from_row(found[0]) if found else None

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
        found = await self._rows(_newest_first(stmt, e.c.received_at, e.c.id, after, first))
        return [rows.event_from_row(r) for r in found[:first]], len(found) > first

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
        found = await self._rows(_newest_first(stmt, j.c.received_at, j.c.id, after, first))
        return [rows.rejection_from_row(r) for r in found[:first]], len(found) > first

    # ------------------------------------------------------------ carriers, devices, counts

    async def carriers_by_no(self, carrier_nos: Sequence[str]) -> dict[str, Carrier]:
        found = await self._in(select(t.carrier), t.carrier.c.carrier_no, carrier_nos)
        return {r.carrier_no: rows.carrier_from_row(r) for r in found}

    async def carriers_by_id(self, ids: Sequence[int]) -> dict[int, Carrier]:
        found = await self._in(select(t.carrier), t.carrier.c.id, ids)
        return {r.id: rows.carrier_from_row(r) for r in found}

    async def _loads_by(self, column: Any, keys: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        found = await self._in(select(t.carrier_load).order_by(t.carrier_load.c.id), column, keys)
        grouped: dict[int, list[CarrierLoad]] = defaultdict(list)
        for r in found:
            grouped[r._mapping[column.name]].append(rows.load_from_row(r))
        return grouped

    async def loads_of_carriers(self, carrier_ids: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        return await self._loads_by(t.carrier_load.c.carrier_id, carrier_ids)

    async def loads_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        return await self._loads_by(t.carrier_load.c.unit_id, unit_ids)

    async def carrier_tracks(self, ids: Sequence[int]) -> dict[int, CarrierTrack]:
        found = await self._in(select(t.carrier_track), t.carrier_track.c.id, ids)
        return {r.id: rows.carrier_track_from_row(r) for r in found}

    async def carrier_tracks_of_carriers(
        self, carrier_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]:
        found = await self._in(
            select(t.carrier_track).order_by(t.carrier_track.c.id),
            t.carrier_track.c.carrier_id,
            carrier_ids,
        )
        return _grouped(found, "carrier_id", rows.carrier_track_from_row)

    async def carrier_tracks_of_units(
        self, unit_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]:
        found = await self._in(
            select(t.carrier_track, t.track.c.unit_id.label("of_unit"))
            .join(t.track, t.track.c.carrier_track_id == t.carrier_track.c.id)
            .order_by(t.carrier_track.c.id),
            t.track.c.unit_id,
            unit_ids,
        )
        return _grouped(found, "of_unit", rows.carrier_track_from_row)

    async def carrier_tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, CarrierTrack]:
        found = await self._in(
            select(t.carrier_track), t.carrier_track.c.ingest_event_id, event_ids
        )
        return {r.ingest_event_id: rows.carrier_track_from_row(r) for r in found}

    async def tracks_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(t.track.c.id),
            t.track.c.carrier_track_id,
            ids,
        )
        return _grouped(found, "carrier_track_id", rows.track_from_row)

    async def values_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id), t.data_value.c.carrier_track_id, ids
        )
        return _grouped(found, "carrier_track_id", rows.value_from_row)

    async def values_of_device_records(self, ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id), t.data_value.c.device_record_id, ids
        )
        return _grouped(found, "device_record_id", rows.value_from_row)

    async def tracks_by_id(self, ids: Sequence[int]) -> dict[int, Track]:
        found = await self._in(
            select(t.track, t.unit.c.sn).join(t.unit, t.unit.c.id == t.track.c.unit_id),
            t.track.c.id,
            ids,
        )
        return {r.id: rows.track_from_row(r) for r in found}

    async def device_records_page(
        self, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[DeviceDataRecord], bool]:
        d = t.device_data_record
        found = await self._rows(_newest_first(select(d), d.c.received_at, d.c.id, after, first))
        return [rows.device_record_from_row(r) for r in found[:first]], len(found) > first

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

    async def dispositions_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Disposition]]:
        found = await self._in(
            select(t.disposition).order_by(t.disposition.c.id), t.disposition.c.unit_id, unit_ids
        )
        return _grouped(found, "unit_id", rows.disposition_from_row)

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
        return _grouped(found, "hold_id", rows.held_unit_from_row)

    async def holds(self, open_: bool | None, limit: int) -> list[Hold]:
        stmt = select(t.hold).order_by(t.hold.c.id.desc()).limit(limit)
        if open_ is True:
            stmt = stmt.where(t.hold.c.closed_at.is_(None))
        elif open_ is False:
            stmt = stmt.where(t.hold.c.closed_at.is_not(None))
        async with self.engine.connect() as conn:
            return [rows.hold_from_row(r) for r in await conn.execute(stmt)]

    async def token_by_lookup(self, lookup: str) -> ApiToken | None:
        # every request's first statement: the PostgreSQL one is written out (adapters/pg.py)
        async with self.engine.connect() as conn:
            pg = Pg.for_connection(conn, autocommit=True)
            if pg is not None:
                r = await pg.fetchrow(_TOKEN_BY_LOOKUP, lookup)
            else:
                r = (
                    await conn.execute(select(t.api_token).where(t.api_token.c.lookup == lookup))
                ).first()
        return rows.token_from_row(r) if r else None

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
        found = await self._rows(_newest_first(stmt, a.c.at, a.c.id, after, first))
        return [rows.audit_from_row(r) for r in found[:first]], len(found) > first

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def lines(self, codes: Sequence[str]) -> dict[str, Line]:
        found = await self._in(select(t.line), t.line.c.code, codes)
        return {r.code: rows.line_from_row(r) for r in found}

    async def station_groups(self, codes: Sequence[str]) -> dict[str, StationGroup]:
        found = await self._in(select(t.station_group), t.station_group.c.code, codes)
        return {r.code: rows.group_from_row(r) for r in found}

    async def stations(self, codes: Sequence[str]) -> dict[str, Station]:
        found = await self._in(select(t.station), t.station.c.code, codes)
        return {r.code: rows.station_from_row(r) for r in found}

    async def _stations_by(self, column: Any, codes: Sequence[str]) -> dict[str, list[Station]]:
        found = await self._in(select(t.station).order_by(t.station.c.code), column, codes)
        grouped: dict[str, list[Station]] = defaultdict(list)
        for r in found:
            grouped[r._mapping[column.name]].append(rows.station_from_row(r))
        return grouped

    async def stations_of_lines(self, codes: Sequence[str]) -> dict[str, list[Station]]:
        return await self._stations_by(t.station.c.line_code, codes)

    async def stations_of_groups(self, codes: Sequence[str]) -> dict[str, list[Station]]:
        return await self._stations_by(t.station.c.group_code, codes)

    async def operations(self, codes: Sequence[str]) -> dict[str, Operation]:
        found = await self._in(select(t.operation), t.operation.c.code, codes)
        return {r.code: rows.operation_from_row(r) for r in found}

    async def specs_of_operations(
        self, codes: Sequence[str]
    ) -> dict[str, list[DataCollectionSpec]]:
        found = await self._in(
            select(t.data_spec).order_by(t.data_spec.c.id), t.data_spec.c.operation_code, codes
        )
        return _grouped(found, "operation_code", rows.spec_from_row)

    async def routings(self, codes: Sequence[str]) -> dict[str, Routing]:
        heads = await self._in(select(t.routing), t.routing.c.code, codes)
        steps = await self._in(
            select(t.routing_step).order_by(t.routing_step.c.position),
            t.routing_step.c.routing_code,
            [h.code for h in heads],
        )
        by_routing: dict[str, list[RoutingStep]] = defaultdict(list)
        for s in steps:
            by_routing[s.routing_code].append(RoutingStep(s.step_no, s.operation_code))
        return {
            h.code: Routing(
                code=h.code,
                name=h.name,
                source_system=h.source_system,
                source_key=h.source_key,
                product_code=h.product_code,
                is_active=h.is_active,
                steps=tuple(by_routing[h.code]),
            )
            for h in heads
        }

    async def versions_of_routings(self, codes: Sequence[str]) -> dict[str, list[RouteVersion]]:
        found = await self._in(
            select(t.route_version).order_by(t.route_version.c.version_no),
            t.route_version.c.routing_code,
            codes,
        )
        return _grouped(found, "routing_code", self._version)

    async def route_versions(self, ids: Sequence[int]) -> dict[int, RouteVersion]:
        out = {i: self.versions[i] for i in ids if i in self.versions}
        missing = [i for i in ids if i not in out]
        if missing:
            found = await self._in(select(t.route_version), t.route_version.c.id, missing)
            out.update((r.id, self._version(r)) for r in found)
        return out

    def _version(self, r: Any) -> RouteVersion:
        if r.id in self.versions:
            return self.versions[r.id]
        version = rows.version_from_row(r)
        self.versions.put(version)
        return version

    async def route_versions_by_no(
        self, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], RouteVersion]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        rv = t.route_version
        out: dict[tuple[str, int], RouteVersion] = {}
        for i in range(0, len(keys), CHUNK):
            part = keys[i : i + CHUNK]
            cond = or_(*(and_(rv.c.routing_code == c, rv.c.version_no == n) for c, n in part))
            for r in await self._rows(select(rv).where(cond)):
                out[(r.routing_code, r.version_no)] = self._version(r)
        return out

    async def work_orders(self, wo_nos: Sequence[str]) -> dict[str, WorkOrder]:
        found = await self._in(select(t.work_order), t.work_order.c.wo_no, wo_nos)
        return {r.wo_no: rows.work_order_from_row(r) for r in found}

    async def runs_of_work_orders(self, wo_nos: Sequence[str]) -> dict[str, list[Run]]:
        found = await self._in(
            select(t.run).order_by(t.run.c.created_at, t.run.c.run_no), t.run.c.wo_no, wo_nos
        )
        return _grouped(found, "wo_no", rows.run_from_row)

    async def runs(self, run_nos: Sequence[str]) -> dict[str, Run]:
        found = await self._in(select(t.run), t.run.c.run_no, run_nos)
        return {r.run_no: rows.run_from_row(r) for r in found}

    async def units(self, sns: Sequence[str]) -> dict[str, Unit]:
        found = await self._in(select(t.unit), t.unit.c.sn, sns)
        return {r.sn: rows.unit_from_row(r) for r in found}

    async def unit_counts_of_runs(self, run_nos: Sequence[str]) -> dict[str, int]:
        found = await self._in(
            select(t.unit.c.run_no, func.count().label("n")).group_by(t.unit.c.run_no),
            t.unit.c.run_no,
            run_nos,
        )
        return {r.run_no: int(r.n) for r in found}

    async def units_of_run(
        self, run_no: str, first: int, after_id: int | None
    ) -> tuple[list[Unit], bool]:
        stmt = select(t.unit).where(t.unit.c.run_no == run_no)
        if after_id is not None:
            stmt = stmt.where(t.unit.c.id > after_id)
        found = await self._rows(stmt.order_by(t.unit.c.id).limit(first + 1))
        return [rows.unit_from_row(r) for r in found[:first]], len(found) > first


def _newest_first(
    stmt: Select[Any], at: Any, id_: Any, after: tuple[datetime, int] | None, first: int
) -> Select[Any]:
    """Keyset paging, newest first by (received_at, id): cursors stay stable as rows arrive."""
    if after is not None:
        after_at, after_id = after
        stmt = stmt.where(or_(at < after_at, and_(at == after_at, id_ < after_id)))
    return stmt.order_by(at.desc(), id_.desc()).limit(first + 1)


def _grouped(found: Iterable[Any], key: str, convert: Callable[[Any], V]) -> dict[Any, list[V]]:
    """Rows converted and grouped by one of their columns, in the rows' order (a loader's
    batch answer)."""
    grouped: dict[Any, list[V]] = defaultdict(list)
    for r in found:
        grouped[getattr(r, key)].append(convert(r))
    return grouped
