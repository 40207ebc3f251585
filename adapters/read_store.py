"""The query side: batch reads, each on its own short-lived connection.

Strawberry resolves sibling fields concurrently, so no connection is shared between loader
batches (STYLE.md). Each method issues a bounded number of statements whatever the keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from adapters.repositories import CHUNK
from domain.master import (
    DataCollectionSpec,
    Line,
    Operation,
    Routing,
    RoutingStep,
    Station,
    StationGroup,
)
from domain.production import Run, Unit, WorkOrder
from domain.routes import RouteVersion


class SqlReadStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def _rows(self, stmt: Select[Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(stmt))

    async def _in(self, stmt: Select[Any], column: Any, keys: Sequence[Any]) -> list[Any]:
        """Rows whose column is among the keys; one statement per CHUNK keys."""
        keys = list(dict.fromkeys(keys))
        out: list[Any] = []
        async with self.engine.connect() as conn:
            for i in range(0, len(keys), CHUNK):
                out += list(await conn.execute(stmt.where(column.in_(keys[i : i + CHUNK]))))
        return out

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
        grouped: dict[str, list[DataCollectionSpec]] = defaultdict(list)
        for r in found:
            grouped[r.operation_code].append(rows.spec_from_row(r))
        return grouped

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
        grouped: dict[str, list[RouteVersion]] = defaultdict(list)
        for r in found:
            grouped[r.routing_code].append(rows.version_from_row(r))
        return grouped

    async def route_versions(self, ids: Sequence[int]) -> dict[int, RouteVersion]:
        found = await self._in(select(t.route_version), t.route_version.c.id, ids)
        return {r.id: rows.version_from_row(r) for r in found}

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
                out[(r.routing_code, r.version_no)] = rows.version_from_row(r)
        return out

    async def work_orders(self, wo_nos: Sequence[str]) -> dict[str, WorkOrder]:
        found = await self._in(select(t.work_order), t.work_order.c.wo_no, wo_nos)
        return {r.wo_no: rows.work_order_from_row(r) for r in found}

    async def runs_of_work_orders(self, wo_nos: Sequence[str]) -> dict[str, list[Run]]:
        found = await self._in(
            select(t.run).order_by(t.run.c.created_at, t.run.c.run_no), t.run.c.wo_no, wo_nos
        )
        grouped: dict[str, list[Run]] = defaultdict(list)
        for r in found:
            grouped[r.wo_no].append(rows.run_from_row(r))
        return grouped

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
