"""SQL implementations of the domain's repositories, on one AsyncConnection (one transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters import rows
from adapters import tables as t
from adapters.pg import ChildRowsInsert, Pg, Piece, RowsInsert, columns
from domain.enums import (
    UNFINISHED_RUN_STATUSES,
    DispositionAction,
    Judge,
    RunStatus,
    TrackFlag,
    UnitStatus,
)
from domain.errors import KeyTaken
from domain.execution import (
    Carrier,
    CarrierLoad,
    CarrierTrack,
    DataValue,
    DeviceDataRecord,
    IngestEvent,
    IngestRejection,
    ProductionCountRecord,
    TesterResultKey,
    Track,
)
from domain.holds import Hold
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
from domain.production import AuditEvent, Disposition, Run, Unit, WorkOrder
from domain.routes import RouteVersion
from domain.security import ApiToken
from domain.shifts import Shift

#: Keep IN lists well under every driver's parameter limit.
CHUNK = 1000


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SqlRepository:
    def __init__(self, conn: AsyncConnection, pg: Pg | None = None):
        self.conn = conn
        #: the hot statements written for PostgreSQL (adapters/pg.py); None on SQLite
        self.pg = pg if pg is not None else Pg.for_connection(conn)

    async def _exec(self, statement: Any, parameters: Any = None) -> Any:
        """Every Core statement: after the deferred PostgreSQL writes (adapters/pg.py)."""
        if self.pg is not None:
            await self.pg.flush()
        return await self.conn.execute(statement, parameters)

    async def _upsert(self, table: Table, values: dict[str, Any], keys: list[str]) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE: concurrent upserts of one key never collide."""
        ins = (postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert)(
            table
        ).values(**values)
        changes = {k: ins.excluded[k] for k in values if k not in keys}
        stmt = (
            ins.on_conflict_do_update(index_elements=keys, set_=changes)
            if changes
            else ins.on_conflict_do_nothing(index_elements=keys)
        )
        await self._exec(stmt)

    async def _insert_ignore(self, table: Table, values: dict[str, Any], keys: list[str]) -> Any:
        """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING id: the new id, or None when the
        key is taken (PostgreSQL waits for a concurrent inserter to finish first)."""
        ins = (postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert)(
            table
        )
        stmt = (
            ins.values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.c.id)
        )
        return (await self._exec(stmt)).scalar_one_or_none()

    async def _one(self, stmt: Select[Any], for_update: bool = False) -> Any:
        if for_update:
            stmt = stmt.with_for_update()
        return (await self._exec(stmt)).first()

    async def _existing(self, column: Any, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(sorted(set(keys))):
            found.update((await self._exec(select(column).where(column.in_(part)))).scalars())
        return found


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


_STATION = f"SELECT {columns(t.station)} FROM station WHERE code = $1"


class SqlStationRepository(SqlRepository):
    async def get(self, code: str) -> Station | None:
        if self.pg is not None:
            r = await self.pg.fetchrow(_STATION, code)
        else:
            r = await self._one(select(t.station).where(t.station.c.code == code))
        return rows.station_from_row(r) if r else None

    async def upsert(self, station: Station) -> None:
        values = {
            "code": station.code,
            "name": station.name,
            "station_type": station.station_type.value,
            "line_code": station.line_code,
            "group_code": station.group_code,
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


_UNFINISHED_VERSIONS = """SELECT route_version_id FROM (
  SELECT DISTINCT ON (route_version_id) route_version_id, created_at, run_no FROM run
  WHERE status = ANY($1::varchar[]) ORDER BY route_version_id, created_at, run_no) AS firsts
ORDER BY created_at, run_no"""


@dataclass
class RunsSeen:
    """Runs one transaction read (and held: FOR KEY SHARE) along with its locked units
    (PostgreSQL): `runs.get` answers them without a statement until the transaction writes
    that run."""

    runs: dict[str, Run] = field(default_factory=dict)


_RUN_STATUS_IF = "UPDATE run SET status = $3 WHERE run_no = $1 AND status = $2"


class SqlRunRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, seen: RunsSeen | None = None, pg: Pg | None = None):
        super().__init__(conn, pg)
        self.seen = seen if seen is not None else RunsSeen()

    async def get(
        self, run_no: str, *, for_update: bool = False, for_share: bool = False
    ) -> Run | None:
        if not for_update and run_no in self.seen.runs:
            return self.seen.runs[run_no]  # held already (FOR KEY SHARE, with its units)
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
        self.seen.runs.pop(run.run_no, None)
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
        if self.pg is not None:
            return [r.route_version_id for r in await self.pg.fetch(_UNFINISHED_VERSIONS, statuses)]
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
        self.seen.runs.pop(run_no, None)
        if self.pg is not None:
            return bool(await self.pg.execute(_RUN_STATUS_IF, run_no, expected.value, new.value))
        result = await self._exec(
            update(t.run)
            .where(t.run.c.run_no == run_no, t.run.c.status == expected.value)
            .values(status=new.value)
        )
        return bool(result.rowcount)


_UNITS_BY_SN = f"SELECT {columns(t.unit)} FROM unit WHERE sn = ANY($1::varchar[]) ORDER BY sn"
# the units locked (in SN order), their runs read along and held against a status change
# (RunsSeen): KEY SHARE waits for an authorize, revoke or close (FOR UPDATE) and makes them
# wait, but never another execution of the run
_UNITS_LOCKED = f"""SELECT {columns(t.unit, "unit.")},
  {", ".join(f"run.{c.name} AS run__{c.name}" for c in t.run.c)}
FROM unit JOIN run ON run.run_no = unit.run_no
WHERE unit.{{key}} ORDER BY unit.sn FOR UPDATE OF unit FOR KEY SHARE OF run"""
_UNITS_BY_SN_FOR_UPDATE = _UNITS_LOCKED.format(key="sn = ANY($1::varchar[])")
_UNITS_BY_ID_FOR_UPDATE = _UNITS_LOCKED.format(key="id = ANY($1::bigint[])")


class _Prefixed:
    """The columns of one table in a joined row, read by their own names."""

    __slots__ = ("prefix", "row")

    def __init__(self, row: Any, prefix: str):
        self.row = row
        self.prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, self.prefix + name)


def _run_of(row: Any) -> Run:
    return rows.run_from_row(_Prefixed(row, "run__"))  # type: ignore[arg-type]


_UNITS_UPDATE = """UPDATE unit
SET status = u.status, current_step_no = u.step, step_fails = u.fails, held_from = u.held
FROM unnest($1::bigint[], $2::varchar[], $3::integer[], $4::integer[], $5::varchar[])
  AS u(id, status, step, fails, held)
WHERE unit.id = u.id"""


class SqlUnitRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, seen: RunsSeen | None = None, pg: Pg | None = None):
        super().__init__(conn, pg)
        self.seen = seen if seen is not None else RunsSeen()

    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None:
        r = await self._one(select(t.unit).where(t.unit.c.sn == sn), for_update)
        return rows.unit_from_row(r) if r else None

    async def existing_sns(self, sns: Sequence[str]) -> list[str]:
        return sorted(await self._existing(t.unit.c.sn, sns))

    async def add_many(self, units: Sequence[Unit]) -> None:
        ins = (postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert)(
            t.unit
        )
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

    async def get_by_id(self, unit_id: int, *, for_update: bool = False) -> Unit | None:
        r = await self._one(select(t.unit).where(t.unit.c.id == unit_id), for_update)
        return rows.unit_from_row(r) if r else None

    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        if self.pg is not None and for_update:
            return self._seen(await self.pg.fetch(_UNITS_BY_ID_FOR_UPDATE, sorted(set(unit_ids))))
        found: list[Unit] = []
        for part in chunks(sorted(set(unit_ids))):
            stmt = select(t.unit).where(t.unit.c.id.in_(part)).order_by(t.unit.c.sn)
            if for_update:
                stmt = stmt.with_for_update()
            found += [rows.unit_from_row(r) for r in await self._exec(stmt)]
        return found

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        if self.pg is not None and for_update:
            return self._seen(await self.pg.fetch(_UNITS_BY_SN_FOR_UPDATE, sorted(set(sns))))
        if self.pg is not None:
            return [
                rows.unit_from_row(r) for r in await self.pg.fetch(_UNITS_BY_SN, sorted(set(sns)))
            ]
        found: list[Unit] = []
        for part in chunks(sorted(set(sns))):
            stmt = select(t.unit).where(t.unit.c.sn.in_(part)).order_by(t.unit.c.sn)
            if for_update:
                stmt = stmt.with_for_update()
            found += [rows.unit_from_row(r) for r in await self._exec(stmt)]
        return found

    def _seen(self, locked: list[Any]) -> list[Unit]:
        """The locked units; their runs, held with them, are remembered (RunsSeen)."""
        for r in locked:
            self.seen.runs[r.run__run_no] = _run_of(r)
        return [rows.unit_from_row(r) for r in locked]

    async def update_many(self, units: Sequence[Unit]) -> None:
        if not units:
            return
        if self.pg is not None:
            await self.pg.defer(
                (
                    None,
                    _UNITS_UPDATE,
                    [
                        [u.id for u in units],
                        [u.status.value for u in units],
                        [u.current_step_no for u in units],
                        [u.step_fails for u in units],
                        [u.held_from.value if u.held_from else None for u in units],
                    ],
                )
            )
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
        ins = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        take = ins(t.sn_sequence).values(prefix=prefix, last_value=count)
        upsert = take.on_conflict_do_update(
            index_elements=["prefix"],
            set_={"last_value": t.sn_sequence.c.last_value + take.excluded.last_value},
        ).returning(t.sn_sequence.c.last_value)
        last = int((await self._exec(upsert)).scalar_one())
        return last - count + 1


# built once: the values go as parameters (the hot path builds no statement per event)
_EVENT_INSERT = {
    name: dialect_insert(t.ingest_event)
    .on_conflict_do_nothing(index_elements=["source_system", "dedupe_key"])
    .returning(t.ingest_event.c.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


_LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_EVENT_BY_KEY = f"""SELECT {columns(t.ingest_event, "e.")}, EXISTS (
    SELECT 1 FROM ingest_rejection j WHERE j.source_system = $1 AND j.dedupe_key = $2
    AND j.resolved_by_event_id IS NULL) AS has_open_rejection
FROM (SELECT 1) AS one
LEFT JOIN ingest_event e ON e.source_system = $1 AND e.dedupe_key = $2"""
_EVENT_ROW = RowsInsert(
    t.ingest_event, "ON CONFLICT (source_system, dedupe_key) DO NOTHING RETURNING id"
)
# the event and its units in one statement; no id (and no link) when the key is taken
_EVENT_AND_UNITS = (
    f"WITH e AS ({_EVENT_ROW.sql}), "
    "l AS (INSERT INTO ingest_event_unit (event_id, unit_id) SELECT e.id, u "
    "FROM e, unnest($2::bigint[]) AS u) SELECT id FROM e"
)


_TEST_RESULTS = f"""SELECT {columns(t.test_result_key)} FROM test_result_key
WHERE source_system = $1 AND test_result_id = ANY($2::varchar[]) AND unit_id = ANY($3::bigint[])"""
_TEST_RESULT_ROWS = RowsInsert(t.test_result_key)


@dataclass
class KeyKnowledge:
    """What one transaction learnt of dedupe keys it holds the lock of: whether each has open
    rejections. Rejections of a key are only stored under its lock, so it stays true until
    the transaction ends."""

    open_rejections: dict[tuple[str, str], bool] = field(default_factory=dict)


class SqlIngestEventRepository(SqlRepository):
    def __init__(
        self, conn: AsyncConnection, keys: KeyKnowledge | None = None, pg: Pg | None = None
    ):
        super().__init__(conn, pg)
        self.keys = keys if keys is not None else KeyKnowledge()

    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        if self.pg is not None:
            # transaction-scoped: senders of one key queue here, other keys pass freely
            await self.pg.execute(_LOCK_KEY, f"{source_system}\x1f{dedupe_key}")

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        """The event of a key, and in the same statement whether the key has open rejections
        (remembered for this transaction: an accept then resolves them only if there are)."""
        if self.pg is not None:
            r = await self.pg.fetchrow(_EVENT_BY_KEY, source_system, dedupe_key)
        else:
            r = await self._one(self._by_key(source_system, dedupe_key))
        assert r is not None
        self.keys.open_rejections[(source_system, dedupe_key)] = bool(r.has_open_rejection)
        return rows.event_from_row(r) if r.id is not None else None

    @staticmethod
    def _by_key(source_system: str, dedupe_key: str) -> Select[Any]:
        e, j = t.ingest_event, t.ingest_rejection
        has_open = (
            select(j.c.id)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.resolved_by_event_id.is_(None),
            )
            .exists()
        )
        one = select(literal(1).label("one")).subquery()
        return select(e, has_open.label("has_open_rejection")).select_from(
            one.outerjoin(e, and_(e.c.source_system == source_system, e.c.dedupe_key == dedupe_key))
        )

    async def get_by_id(self, event_id: int) -> IngestEvent | None:
        r = await self._one(select(t.ingest_event).where(t.ingest_event.c.id == event_id))
        return rows.event_from_row(r) if r else None

    async def add(self, event: IngestEvent, unit_ids: Sequence[int]) -> IngestEvent | None:
        if self.pg is not None:
            # the event and its units in one statement
            found = await self.pg.fetch(
                _EVENT_AND_UNITS,
                *_EVENT_ROW.args([rows.event_to_values(event)]),
                list(dict.fromkeys(unit_ids)),
            )
            return replace(event, id=found[0].id) if found else None
        stmt = _EVENT_INSERT[self.conn.dialect.name]
        new_id = (await self._exec(stmt, rows.event_to_values(event))).scalar_one_or_none()
        if new_id is None:
            return None
        if unit_ids:
            await self._exec(
                insert(t.ingest_event_unit),
                [{"event_id": new_id, "unit_id": u} for u in dict.fromkeys(unit_ids)],
            )
        return replace(event, id=new_id)

    async def tester_results(
        self, source_system: str, test_result_ids: Sequence[str], unit_ids: Sequence[int]
    ) -> list[TesterResultKey]:
        if self.pg is not None:
            found = await self.pg.fetch(
                _TEST_RESULTS, source_system, list(test_result_ids), list(unit_ids)
            )
            return [rows.tester_key_from_row(r) for r in found]
        k = t.test_result_key
        result: list[TesterResultKey] = []
        for part in chunks(unit_ids):
            stmt = select(k).where(
                k.c.source_system == source_system,
                k.c.test_result_id.in_(list(test_result_ids)),
                k.c.unit_id.in_(part),
            )
            result += [rows.tester_key_from_row(r) for r in await self._exec(stmt)]
        return result

    async def add_tester_results(self, keys: Sequence[TesterResultKey]) -> None:
        if not keys:
            return
        values = [rows.tester_key_to_values(k) for k in keys]
        if self.pg is not None:
            # with the event's other deferred writes: no statement of its own
            await self.pg.defer((None, _TEST_RESULT_ROWS.sql, _TEST_RESULT_ROWS.args(values)))
            return
        await self._exec(insert(t.test_result_key), values)


class SqlRejectionRepository(SqlRepository):
    def __init__(
        self, conn: AsyncConnection, keys: KeyKnowledge | None = None, pg: Pg | None = None
    ):
        super().__init__(conn, pg)
        self.keys = keys if keys is not None else KeyKnowledge()

    async def find_open(
        self, source_system: str, dedupe_key: str, input_hash: str
    ) -> IngestRejection | None:
        j = t.ingest_rejection
        r = await self._one(
            select(j)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.input_hash == input_hash,
                j.c.resolved_by_event_id.is_(None),
            )
            .order_by(j.c.id)
            .limit(1),
            for_update=True,
        )
        return rows.rejection_from_row(r) if r else None

    async def get(self, rejection_id: int, *, for_update: bool = False) -> IngestRejection | None:
        r = await self._one(
            select(t.ingest_rejection).where(t.ingest_rejection.c.id == rejection_id), for_update
        )
        return rows.rejection_from_row(r) if r else None

    async def add(self, rejection: IngestRejection) -> IngestRejection:
        new_id = (
            await self._exec(
                insert(t.ingest_rejection).returning(t.ingest_rejection.c.id),
                rows.rejection_to_values(rejection),
            )
        ).scalar_one()
        await self._link_sns(new_id, rejection.sns)
        return replace(rejection, id=new_id)

    async def update(self, rejection: IngestRejection) -> None:
        await self._exec(
            update(t.ingest_rejection)
            .where(t.ingest_rejection.c.id == rejection.id)
            .values(rows.rejection_to_values(rejection))
        )
        await self._link_sns(rejection.id or 0, rejection.sns)

    async def _link_sns(self, rejection_id: int, sns: Sequence[str]) -> None:
        if not sns:
            return
        linked = set(
            (
                await self._exec(
                    select(t.ingest_rejection_sn.c.sn).where(
                        t.ingest_rejection_sn.c.rejection_id == rejection_id
                    )
                )
            ).scalars()
        )
        new = [sn for sn in dict.fromkeys(sns) if sn not in linked]
        if new:
            await self._exec(
                insert(t.ingest_rejection_sn),
                [{"rejection_id": rejection_id, "sn": sn} for sn in new],
            )

    async def resolve_key(self, source_system: str, dedupe_key: str, event_id: int) -> int:
        if self.keys.open_rejections.get((source_system, dedupe_key)) is False:
            return 0  # none open when this transaction looked, under the key's lock
        j = t.ingest_rejection
        result = await self._exec(
            update(j)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.resolved_by_event_id.is_(None),
            )
            .values(resolved_by_event_id=event_id)
        )
        return int(result.rowcount or 0)


_TRACKS = RowsInsert(t.track, "RETURNING id")
# the tracks of an event and their values, deferred as one statement (adapters/pg.py)
_NEW_TRACKS = RowsInsert(t.track, "RETURNING id, unit_id")
_VALUES_OF_NEW_TRACKS = ChildRowsInsert(t.data_value, "track_id", "new_tracks", "unit_id", "bigint")


class SqlTrackRepository(SqlRepository):
    async def get(self, track_id: int) -> Track | None:
        r = await self._one(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(t.track.c.id == track_id)
        )
        return rows.track_from_row(r) if r else None

    async def open_of_unit(self, unit_id: int) -> Track | None:
        r = await self._one(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(t.track.c.unit_id == unit_id, t.track.c.out_at.is_(None))
            .order_by(t.track.c.id.desc())
            .limit(1)
        )
        return rows.track_from_row(r) if r else None

    async def close(self, track: Track) -> None:
        await self._exec(
            update(t.track)
            .where(t.track.c.id == track.id)
            .values(
                out_at=track.out_at,
                result=track.result.value if track.result else None,
                operator_id=track.operator_id,
            )
        )

    async def set_flag(self, track_id: int, flag: TrackFlag) -> None:
        await self._exec(update(t.track).where(t.track.c.id == track_id).values(flag=flag.value))

    async def units_of_carrier_track(self, carrier_track_id: int) -> list[int]:
        result = await self._exec(
            select(t.track.c.unit_id).where(t.track.c.carrier_track_id == carrier_track_id)
        )
        return list(result.scalars())

    async def matching(
        self, run_no: str, unit_id: int, step_no: int, station_code: str | None
    ) -> list[Track]:
        stmt = (
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(
                t.track.c.unit_id == unit_id,
                t.track.c.run_no == run_no,
                t.track.c.step_no == step_no,
            )
        )
        if station_code is not None:
            stmt = stmt.where(t.track.c.station_code == station_code)
        result = await self._exec(stmt.order_by(t.track.c.id.desc()))
        return [rows.track_from_row(r) for r in result]

    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        if not tracks:
            return []
        if self.pg is not None:
            values = [rows.track_to_values(tr) for tr in tracks]
            found = await self.pg.insert(_TRACKS, values)
            ids = sorted(r.id for r in found)  # ascending in the order given (RowsInsert)
            return [replace(tr, id=i) for tr, i in zip(tracks, ids, strict=True)]
        result = await self._exec(
            insert(t.track).returning(t.track.c.id, sort_by_parameter_order=True),
            [rows.track_to_values(tr) for tr in tracks],
        )
        return [replace(tr, id=i) for tr, i in zip(tracks, result.scalars(), strict=True)]

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        if not tracks:
            return
        units = [tr.unit_id for tr, _ in tracks]
        if self.pg is None or len(set(units)) < len(units):
            stored = await self.add_many([tr for tr, _ in tracks])
            await SqlDataValueRepository(self.conn, self.pg).add_many(
                [
                    replace(v, track_id=track.id)
                    for track, (_, vs) in zip(stored, tracks, strict=True)
                    for v in vs
                ]
            )
            return
        # one piece per table, both sent with the writes deferred after them: the values find
        # their track by its unit (unique here)
        keys = [tr.unit_id for tr, vs in tracks for _ in vs]
        values = [rows.value_to_values(v) for _, vs in tracks for v in vs]
        pieces: list[Piece] = [
            (
                "new_tracks",
                _NEW_TRACKS.sql,
                _NEW_TRACKS.args([rows.track_to_values(tr) for tr, _ in tracks]),
            )
        ]
        if values:
            pieces.append(
                (None, _VALUES_OF_NEW_TRACKS.sql, _VALUES_OF_NEW_TRACKS.args(keys, values))
            )
        await self.pg.defer(*pieces)


_CLOSE_LOADS_OF_UNITS = """UPDATE carrier_load SET unloaded_at = $2
WHERE unit_id = ANY($1::bigint[]) AND unloaded_at IS NULL"""


class SqlCarrierRepository(SqlRepository):
    async def get(self, carrier_no: str) -> Carrier | None:
        r = await self._one(select(t.carrier).where(t.carrier.c.carrier_no == carrier_no))
        return rows.carrier_from_row(r) if r else None

    async def get_or_create(self, carrier_no: str, at: datetime) -> Carrier:
        await self._insert_ignore(
            t.carrier, {"carrier_no": carrier_no, "created_at": at}, ["carrier_no"]
        )
        r = await self._one(
            select(t.carrier).where(t.carrier.c.carrier_no == carrier_no), for_update=True
        )
        return rows.carrier_from_row(r)

    async def open_loads(self, carrier_id: int) -> list[CarrierLoad]:
        result = await self._exec(
            select(t.carrier_load)
            .where(
                t.carrier_load.c.carrier_id == carrier_id, t.carrier_load.c.unloaded_at.is_(None)
            )
            .order_by(t.carrier_load.c.id)
        )
        return [rows.load_from_row(r) for r in result]

    async def open_loads_of_units(self, unit_ids: Sequence[int]) -> list[CarrierLoad]:
        found: list[CarrierLoad] = []
        for part in chunks(sorted(set(unit_ids))):
            result = await self._exec(
                select(t.carrier_load).where(
                    t.carrier_load.c.unit_id.in_(part), t.carrier_load.c.unloaded_at.is_(None)
                )
            )
            found += [rows.load_from_row(r) for r in result]
        return found

    async def add_loads(self, loads: Sequence[CarrierLoad]) -> None:
        if loads:
            await self._exec(
                insert(t.carrier_load),
                [
                    {
                        "carrier_id": ld.carrier_id,
                        "unit_id": ld.unit_id,
                        "loaded_at": ld.loaded_at,
                        "unloaded_at": ld.unloaded_at,
                    }
                    for ld in loads
                ],
            )

    async def close_loads(self, load_ids: Sequence[int], at: datetime) -> None:
        for part in chunks(sorted(set(load_ids))):
            await self._exec(
                update(t.carrier_load)
                .where(t.carrier_load.c.id.in_(part), t.carrier_load.c.unloaded_at.is_(None))
                .values(unloaded_at=at)
            )

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        if not unit_ids:
            return
        if self.pg is not None:
            # deferred: sent with the event's other writes as one statement (adapters/pg.py)
            await self.pg.defer((None, _CLOSE_LOADS_OF_UNITS, [sorted(set(unit_ids)), at]))
            return
        for part in chunks(sorted(set(unit_ids))):
            await self._exec(
                update(t.carrier_load)
                .where(t.carrier_load.c.unit_id.in_(part), t.carrier_load.c.unloaded_at.is_(None))
                .values(unloaded_at=at)
            )

    async def add_track(self, track: CarrierTrack) -> CarrierTrack:
        new_id = (
            await self._exec(
                insert(t.carrier_track).returning(t.carrier_track.c.id),
                rows.carrier_track_to_values(track),
            )
        ).scalar_one()
        return replace(track, id=new_id)

    async def get_track(self, carrier_track_id: int) -> CarrierTrack | None:
        r = await self._one(select(t.carrier_track).where(t.carrier_track.c.id == carrier_track_id))
        return rows.carrier_track_from_row(r) if r else None

    async def set_track_flag(self, carrier_track_id: int, flag: TrackFlag) -> None:
        await self._exec(
            update(t.carrier_track)
            .where(t.carrier_track.c.id == carrier_track_id)
            .values(flag=flag.value)
        )


class SqlDeviceDataRepository(SqlRepository):
    async def get_by_event_id(self, event_id: str) -> DeviceDataRecord | None:
        r = await self._one(
            select(t.device_data_record).where(t.device_data_record.c.event_id == event_id)
        )
        return rows.device_record_from_row(r) if r else None

    async def add(self, record: DeviceDataRecord) -> DeviceDataRecord | None:
        new_id = await self._insert_ignore(
            t.device_data_record, rows.device_record_to_values(record), ["event_id"]
        )
        return replace(record, id=new_id) if new_id is not None else None

    async def set_values_created(self, record_id: int, count: int) -> None:
        await self._exec(
            update(t.device_data_record)
            .where(t.device_data_record.c.id == record_id)
            .values(values_created=count)
        )


class SqlProductionCountRepository(SqlRepository):
    async def get_by_event_id(self, event_id: str) -> ProductionCountRecord | None:
        r = await self._one(
            select(t.production_count).where(t.production_count.c.event_id == event_id)
        )
        return rows.count_from_row(r) if r else None

    async def add(self, record: ProductionCountRecord) -> ProductionCountRecord | None:
        new_id = await self._insert_ignore(
            t.production_count, rows.count_to_values(record), ["event_id"]
        )
        return replace(record, id=new_id) if new_id is not None else None


_VALUES = RowsInsert(t.data_value)
_AUDIT = RowsInsert(t.audit_event)


class SqlDataValueRepository(SqlRepository):
    async def add_many(self, values: Sequence[DataValue]) -> None:
        if self.pg is not None:
            if values:
                rows_ = [rows.value_to_values(v) for v in values]
                await self.pg.defer((None, _VALUES.sql, _VALUES.args(rows_)))
            return
        for part in chunks(list(values)):
            await self._exec(insert(t.data_value), [rows.value_to_values(v) for v in part])

    async def failed_spec_names(self, track_id: int) -> set[str]:
        found = await self._exec(
            select(t.data_value.c.spec_name)
            .where(t.data_value.c.track_id == track_id, t.data_value.c.judge == Judge.FAIL.value)
            .distinct()
        )
        return set(found.scalars())


class SqlAuditRepository(SqlRepository):
    async def add(self, event: AuditEvent) -> None:
        if self.pg is not None:
            await self.pg.defer((None, _AUDIT.sql, _AUDIT.args([rows.audit_to_values(event)])))
            return
        await self._exec(insert(t.audit_event), rows.audit_to_values(event))

    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        values = [rows.audit_to_values(e) for e in events]
        if self.pg is not None:
            await self.pg.defer((None, _AUDIT.sql, _AUDIT.args(values)))
            return
        await self._exec(insert(t.audit_event), values)


class SqlHoldRepository(SqlRepository):
    """Holds and the units they hold (issue 16): writes in a fixed number of statements."""

    async def add(self, hold: Hold) -> Hold:
        new_id = (
            await self._exec(
                insert(t.hold).returning(t.hold.c.id),
                {
                    "reason": hold.reason,
                    "actor": hold.actor,
                    "opened_at": hold.opened_at,
                    "closed_at": hold.closed_at,
                },
            )
        ).scalar_one()
        if hold.units:
            await self._exec(
                insert(t.hold_unit),
                [
                    {"hold_id": new_id, "unit_id": u.unit_id, "sn": u.sn, "released_at": None}
                    for u in hold.units
                ],
            )
        return replace(hold, id=new_id)

    async def get(self, hold_id: int, *, for_update: bool = False) -> Hold | None:
        r = await self._one(select(t.hold).where(t.hold.c.id == hold_id), for_update=for_update)
        if r is None:
            return None
        units = await self._exec(
            select(t.hold_unit).where(t.hold_unit.c.hold_id == hold_id).order_by(t.hold_unit.c.sn)
        )
        return replace(
            rows.hold_from_row(r), units=tuple(rows.held_unit_from_row(u) for u in units)
        )

    async def open_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        found: dict[int, list[Hold]] = {}
        for part in chunks(sorted(set(unit_ids))):
            stmt = (
                select(t.hold, t.hold_unit.c.unit_id, t.hold_unit.c.sn, t.hold_unit.c.released_at)
                .join(t.hold_unit, t.hold_unit.c.hold_id == t.hold.c.id)
                .where(t.hold_unit.c.unit_id.in_(part), t.hold_unit.c.released_at.is_(None))
                .order_by(t.hold.c.id)
            )
            for r in await self._exec(stmt):
                hold = replace(rows.hold_from_row(r), units=(rows.held_unit_from_row(r),))
                found.setdefault(r.unit_id, []).append(hold)
        return found

    async def release(
        self, unit_ids: Sequence[int], at: datetime, hold_id: int | None = None
    ) -> None:
        hu = t.hold_unit
        touched: set[int] = set()
        for part in chunks(sorted(set(unit_ids))):
            where: list[ColumnElement[bool]] = [
                hu.c.unit_id.in_(part),
                hu.c.released_at.is_(None),
            ]
            if hold_id is not None:
                where.append(hu.c.hold_id == hold_id)
            result = await self._exec(
                update(hu).where(*where).values(released_at=at).returning(hu.c.hold_id)
            )
            touched.update(result.scalars())
        if touched:
            # each hold row locked (in id order) before it is judged: two releases of one
            # hold's units at once must not both see the other's unit still open
            await self._exec(
                select(t.hold.c.id)
                .where(t.hold.c.id.in_(sorted(touched)))
                .order_by(t.hold.c.id)
                .with_for_update()
            )
        still_open = (
            select(hu.c.hold_id)
            .where(hu.c.hold_id == t.hold.c.id, hu.c.released_at.is_(None))
            .exists()
        )
        for part in chunks(sorted(touched)):
            await self._exec(
                update(t.hold)
                .where(t.hold.c.id.in_(part), t.hold.c.closed_at.is_(None), ~still_open)
                .values(closed_at=at)
            )


_TOKEN_HOLD = "SELECT 1 AS active FROM api_token WHERE id = $1 AND revoked_at IS NULL FOR SHARE"


class SqlTokenRepository(SqlRepository):
    async def add(self, token: ApiToken) -> ApiToken:
        existing = await self.get(token.name)
        if existing is not None and existing.active:
            raise KeyTaken([token.name])
        new_id = (
            await self._exec(
                insert(t.api_token).returning(t.api_token.c.id), rows.token_to_values(token)
            )
        ).scalar_one()
        return replace(token, id=new_id)

    async def get(self, name: str) -> ApiToken | None:
        # the active token is the newest of its name: a name is reused only once revoked
        r = await self._one(
            select(t.api_token)
            .where(t.api_token.c.name == name)
            .order_by(t.api_token.c.id.desc())
            .limit(1)
        )
        return rows.token_from_row(r) if r else None

    async def all(self) -> list[ApiToken]:
        result = await self._exec(
            select(t.api_token).order_by(t.api_token.c.name, t.api_token.c.id)
        )
        return [rows.token_from_row(r) for r in result]

    async def hold(self, token_id: int) -> bool:
        if self.pg is not None:
            # FOR SHARE: a revoke (UPDATE) waits for this transaction, and this statement for
            # a revoke in flight (then reads the revoked row); requests never wait for each other
            return bool(await self.pg.fetchrow(_TOKEN_HOLD, token_id))
        active = await self._one(
            select(t.api_token.c.id).where(
                t.api_token.c.id == token_id, t.api_token.c.revoked_at.is_(None)
            )
        )
        return active is not None

    async def revoke(self, name: str, at: datetime) -> bool:
        result = await self._exec(
            update(t.api_token)
            .where(t.api_token.c.name == name, t.api_token.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)
