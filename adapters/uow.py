"""The unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.changes import NOTIFY_SQL, LocalFeed, encode
from adapters.db import write_connection
from adapters.pg import Pg
from adapters.repositories import (
    carriers,
    cfx,
    holds,
    ingest,
    master_data,
    parking,
    postgres,
    runs_and_units,
    security,
)
from adapters.repositories.ingest_writes import RepositoryIngestWrites
from adapters.repositories.transaction import TransactionState
from domain.changes import Change


@dataclass(frozen=True, slots=True)
class Implementations:
    """The repositories that have a PostgreSQL fast path: one set or the other per unit of
    work (the others are Core on both databases)."""

    stations: type[master_data.SqlStationRepository]
    runs: type[runs_and_units.SqlRunRepository]
    units: type[runs_and_units.SqlUnitRepository]
    audit: type[security.SqlAuditRepository]
    ingest_events: type[ingest.SqlIngestEventRepository]
    tracks: type[ingest.SqlTrackRepository]
    data_values: type[ingest.SqlDataValueRepository]
    carriers: type[carriers.SqlCarrierRepository]
    tokens: type[security.SqlTokenRepository]


#: SQLite, and the reference
CORE = Implementations(
    stations=master_data.SqlStationRepository,
    runs=runs_and_units.SqlRunRepository,
    units=runs_and_units.SqlUnitRepository,
    audit=security.SqlAuditRepository,
    ingest_events=ingest.SqlIngestEventRepository,
    tracks=ingest.SqlTrackRepository,
    data_values=ingest.SqlDataValueRepository,
    carriers=carriers.SqlCarrierRepository,
    tokens=security.SqlTokenRepository,
)
#: PostgreSQL: the hot statements written out (adapters/repositories/postgres.py)
POSTGRES = Implementations(
    stations=postgres.PgStationRepository,
    runs=postgres.PgRunRepository,
    units=postgres.PgUnitRepository,
    audit=postgres.PgAuditRepository,
    ingest_events=postgres.PgIngestEventRepository,
    tracks=postgres.PgTrackRepository,
    data_values=postgres.PgDataValueRepository,
    carriers=postgres.PgCarrierRepository,
    tokens=postgres.PgTokenRepository,
)


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        versions: master_data.VersionCache | None = None,
        feed: LocalFeed | None = None,
    ):
        self.engine = engine
        self.versions = versions
        #: SQLite: where this process's subscribers hear of a commit (PostgreSQL: NOTIFY)
        self.feed = feed
        self._changes: list[Change] = []
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._pg: Pg | None = None

    async def __aenter__(self) -> Self:
        self._conn = conn = await write_connection(self.engine)
        self._tx = await conn.begin()
        # one for every repository: the PostgreSQL writes they defer keep their order
        self._pg = pg = Pg.for_connection(conn)
        # the implementations, chosen once: Core, or its PostgreSQL fast paths
        kind = CORE if pg is None else POSTGRES
        self.lines = master_data.SqlLineRepository(conn, pg)
        self.station_groups = master_data.SqlStationGroupRepository(conn, pg)
        self.stations = kind.stations(conn, pg)
        self.operations = master_data.SqlOperationRepository(conn, pg)
        self.data_specs = master_data.SqlDataSpecRepository(conn, pg)
        self.routings = master_data.SqlRoutingRepository(conn, pg)
        self.execution_configs = master_data.SqlExecutionConfigRepository(conn, pg)
        self.route_versions = master_data.SqlRouteVersionRepository(conn, self.versions, pg)
        self.work_orders = runs_and_units.SqlWorkOrderRepository(conn, pg)
        #: what this transaction learnt that its later statements may trust (its rule there)
        self.state = state = TransactionState()
        self.runs = kind.runs(conn, state, pg)
        self.units = kind.units(conn, state, pg)
        self.audit = kind.audit(conn, pg)
        self.ingest_events = kind.ingest_events(conn, state, pg)
        self.rejections = ingest.SqlRejectionRepository(conn, state, pg)
        self.parked = parking.SqlParkedEventRepository(conn, state, pg)
        self.tracks = kind.tracks(conn, pg)
        self.cfx_work = cfx.SqlCfxWorkRepository(conn, pg)
        self.data_values = kind.data_values(conn, pg)
        self.carriers = kind.carriers(conn, pg)
        self.device_data = carriers.SqlDeviceDataRepository(conn, pg)
        self.production_counts = carriers.SqlProductionCountRepository(conn, pg)
        self.tokens = kind.tokens(conn, pg)
        self.holds = holds.SqlHoldRepository(conn, pg)
        # the accepted event's writes, over the repositories chosen above
        self.ingest_writes = RepositoryIngestWrites(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._changes.clear()
        try:
            if self._pg is not None:
                self._pg.discard()
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        finally:
            if self._conn is not None:
                await self._conn.close()
            self._conn = self._tx = None

    def publish(self, change: Change) -> None:
        self._changes.append(change)

    async def commit(self) -> None:
        assert self._tx is not None, "commit outside the unit of work"
        changes, self._changes = self._changes, []
        if self._pg is not None:
            payloads = encode(changes)
            if payloads:
                # in the transaction, with its last deferred writes (one statement): delivered
                # at commit, never for a rollback
                await self._pg.defer((None, NOTIFY_SQL, [payloads]))
            await self._pg.flush()
        await self._tx.commit()
        if self._pg is None and changes and self.feed is not None:
            self.feed.publish(changes)

    async def rollback(self) -> None:
        self._changes.clear()
        if self._pg is not None:
            self._pg.discard()
        if self._tx is not None and self._tx.is_active:
            await self._tx.rollback()


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        engine: AsyncEngine,
        versions: master_data.VersionCache | None = None,
        feed: LocalFeed | None = None,
    ):
        self.engine = engine
        self.versions = versions if versions is not None else master_data.VersionCache()
        self.feed = feed

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.versions, self.feed)
