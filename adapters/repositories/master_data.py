"""Master data: lines, station groups, stations, operations, data specs, routings, execution
configs and route versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg
from adapters.repositories.base import SqlRepository, chunks
from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    RoutingStep,
    Station,
    StationGroup,
)
from domain.routes import RouteVersion
from domain.shifts import Shift


class SqlLineRepository(SqlRepository):
    async def get(self, code: str) -> Line | None:
        r = await self._one(select(t.line).where(t.line.c.code == code))
        return rows.line_from_row(r) if r else None

    async def upsert(self, line: Line) -> None:
        await self._upsert(t.line, {"code": line.code, "name": line.name}, ["code"])

    async def shifts(self, code: str) -> tuple[Shift, ...]:
        found = await self._exec(select(t.line_shift).where(t.line_shift.c.line_code == code))
        return rows.shifts_from_rows(found)

    async def replace_shifts(self, code: str, shifts: Sequence[Shift]) -> None:
        await self._exec(delete(t.line_shift).where(t.line_shift.c.line_code == code))
        if shifts:
            await self._exec(insert(t.line_shift), [rows.shift_to_values(code, s) for s in shifts])


class SqlStationGroupRepository(SqlRepository):
    async def get(self, code: str) -> StationGroup | None:
        r = await self._one(select(t.station_group).where(t.station_group.c.code == code))
        return rows.group_from_row(r) if r else None

    async def upsert(self, group: StationGroup) -> None:
        await self._upsert(t.station_group, {"code": group.code, "name": group.name}, ["code"])

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        return await self._existing(t.station_group.c.code, codes)


#: the key space of the CFX handle locks (the bytes of "CFXH"): the two-key advisory locks
#: never meet the one-key ones (the registration and ingest key locks); two handles of one
#: hash only wait for each other
HANDLE_LOCKS = int.from_bytes(b"CFXH", "big")


class SqlStationRepository(SqlRepository):
    async def get(self, code: str) -> Station | None:
        r = await self._one(select(t.station).where(t.station.c.code == code))
        return rows.station_from_row(r) if r else None

    async def get_by_handle(self, cfx_handle: str) -> Station | None:
        r = await self._one(select(t.station).where(t.station.c.cfx_handle == cfx_handle))
        return rows.station_from_row(r) if r else None

    async def lock_handle(self, cfx_handle: str) -> None:
        """PostgreSQL: the next statement reads what the lock's last holder committed (read
        committed); SQLite: nothing to lock, writers are serialized."""
        if self.conn.dialect.name == "postgresql":
            await self._exec(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:handle))"),
                {"space": HANDLE_LOCKS, "handle": cfx_handle},
            )

    async def upsert(self, station: Station) -> None:
        values = {
            "code": station.code,
            "name": station.name,
            "station_type": station.station_type.value,
            "line_code": station.line_code,
            "group_code": station.group_code,
            "cfx_handle": station.cfx_handle,
        }
        await self._upsert(t.station, values, ["code"])

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        return await self._existing(t.station.c.code, codes)


class SqlOperationRepository(SqlRepository):
    async def get(self, code: str) -> Operation | None:
        r = await self._one(select(t.operation).where(t.operation.c.code == code))
        return rows.operation_from_row(r) if r else None

    async def get_many(self, codes: Iterable[str]) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        for part in chunks(sorted(set(codes))):
            for r in await self._exec(select(t.operation).where(t.operation.c.code.in_(part))):
                found[r.code] = rows.operation_from_row(r)
        return found

    async def upsert(self, operation: Operation) -> None:
        values = {
            "code": operation.code,
            "name": operation.name,
            "default_station_type": operation.default_station_type.value,
        }
        await self._upsert(t.operation, values, ["code"])


class SqlDataSpecRepository(SqlRepository):
    async def upsert(self, spec: DataCollectionSpec) -> DataCollectionSpec:
        await self._upsert(t.data_spec, rows.spec_to_values(spec), ["operation_code", "name"])
        r = await self._one(
            select(t.data_spec).where(
                t.data_spec.c.operation_code == spec.operation_code,
                t.data_spec.c.name == spec.name,
            )
        )
        return rows.spec_from_row(r)

    async def for_operations(self, operation_codes: Iterable[str]) -> list[DataCollectionSpec]:
        result: list[DataCollectionSpec] = []
        for part in chunks(sorted(set(operation_codes))):
            stmt = (
                select(t.data_spec)
                .where(t.data_spec.c.operation_code.in_(part))
                .order_by(t.data_spec.c.operation_code, t.data_spec.c.id)
            )
            result += [rows.spec_from_row(r) for r in await self._exec(stmt)]
        return result

    async def with_names(self, names: Iterable[str]) -> list[DataCollectionSpec]:
        result: list[DataCollectionSpec] = []
        for part in chunks(sorted(set(names))):
            stmt = (
                select(t.data_spec).where(t.data_spec.c.name.in_(part)).order_by(t.data_spec.c.id)
            )
            result += [rows.spec_from_row(r) for r in await self._exec(stmt)]
        return result


class SqlRoutingRepository(SqlRepository):
    async def get(self, code: str, *, for_update: bool = False) -> Routing | None:
        r = await self._one(select(t.routing).where(t.routing.c.code == code), for_update)
        if r is None:
            return None
        steps = await self._exec(
            select(t.routing_step.c.step_no, t.routing_step.c.operation_code)
            .where(t.routing_step.c.routing_code == code)
            .order_by(t.routing_step.c.position)
        )
        return Routing(
            code=r.code,
            name=r.name,
            source_system=r.source_system,
            source_key=r.source_key,
            product_code=r.product_code,
            is_active=r.is_active,
            steps=tuple(RoutingStep(s.step_no, s.operation_code) for s in steps),
        )

    async def upsert(self, routing: Routing) -> None:
        values = {
            "code": routing.code,
            "name": routing.name,
            "source_system": routing.source_system,
            "source_key": routing.source_key,
            "product_code": routing.product_code,
            "is_active": routing.is_active,
        }
        await self._upsert(t.routing, values, ["code"])
        # lock the routing row so concurrent upserts of its steps serialize
        await self._one(select(t.routing.c.code).where(t.routing.c.code == routing.code), True)
        await self._exec(
            delete(t.routing_step).where(t.routing_step.c.routing_code == routing.code)
        )
        if routing.steps:
            await self._exec(
                insert(t.routing_step),
                [
                    {
                        "routing_code": routing.code,
                        "position": i,
                        "step_no": s.step_no,
                        "operation_code": s.operation_code,
                    }
                    for i, s in enumerate(routing.steps)
                ],
            )


class SqlExecutionConfigRepository(SqlRepository):
    async def for_routing(self, routing_code: str) -> list[ExecutionConfig]:
        result = await self._exec(
            select(t.execution_config.c.config)
            .where(t.execution_config.c.routing_code == routing_code)
            .order_by(t.execution_config.c.scope, t.execution_config.c.scope_key)
        )
        return [rows.config_from_document(doc) for doc in result.scalars()]

    async def put(self, config: ExecutionConfig) -> None:
        scope, key = rows.config_scope(config)
        await self._upsert(
            t.execution_config,
            {
                "routing_code": config.routing_code,
                "scope": scope,
                "scope_key": key,
                "config": rows.config_to_document(config),
            },
            ["routing_code", "scope", "scope_key"],
        )


class VersionCache:
    """Route versions never change once stored, so every transaction of a process may share
    them (bounded; a miss just reads the row)."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._items: dict[int, RouteVersion] = {}

    def __contains__(self, version_id: int) -> bool:
        return version_id in self._items

    def __getitem__(self, version_id: int) -> RouteVersion:
        return self._items[version_id]

    def put(self, version: RouteVersion) -> None:
        if version.id is None:
            return
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[version.id] = version


class SqlRouteVersionRepository(SqlRepository):
    def __init__(
        self, conn: AsyncConnection, cache: VersionCache | None = None, pg: Pg | None = None
    ):
        super().__init__(conn, pg)
        self.cache = cache if cache is not None else VersionCache()

    async def add(self, version: RouteVersion) -> RouteVersion:
        result = await self._exec(
            insert(t.route_version).returning(t.route_version.c.id),
            rows.version_to_values(version),
        )
        new_id = result.scalar_one()
        return replace(version, id=new_id)

    async def max_version_no(self, routing_code: str) -> int:
        result = await self._exec(
            select(func.coalesce(func.max(t.route_version.c.version_no), 0)).where(
                t.route_version.c.routing_code == routing_code
            )
        )
        return int(result.scalar_one())

    async def latest_ready(self, routing_code: str) -> RouteVersion | None:
        r = await self._one(
            select(t.route_version)
            .where(
                t.route_version.c.routing_code == routing_code,
                t.route_version.c.status == "READY",
            )
            .order_by(t.route_version.c.version_no.desc())
            .limit(1)
        )
        return rows.version_from_row(r) if r else None

    async def get_by_id(self, version_id: int) -> RouteVersion | None:
        return (await self.get_many([version_id])).get(version_id)

    async def get_many(self, version_ids: Sequence[int]) -> dict[int, RouteVersion]:
        found = {i: self.cache[i] for i in version_ids if i in self.cache}
        wanted = sorted(set(version_ids) - found.keys())
        for part in chunks(wanted):
            for r in await self._exec(
                select(t.route_version).where(t.route_version.c.id.in_(part))
            ):
                version = found[r.id] = rows.version_from_row(r)
                self.cache.put(version)
        return found
