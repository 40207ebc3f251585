"""The unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters import repositories as r
from adapters.db import write_connection


class SqlUnitOfWork:
    def __init__(self, engine: AsyncEngine, versions: r.VersionCache | None = None):
        self.engine = engine
        self.versions = versions
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        self._conn = conn = await write_connection(self.engine)
        self._tx = await conn.begin()
        self.lines = r.SqlLineRepository(conn)
        self.station_groups = r.SqlStationGroupRepository(conn)
        self.stations = r.SqlStationRepository(conn)
        self.operations = r.SqlOperationRepository(conn)
        self.data_specs = r.SqlDataSpecRepository(conn)
        self.routings = r.SqlRoutingRepository(conn)
        self.execution_configs = r.SqlExecutionConfigRepository(conn)
        self.route_versions = r.SqlRouteVersionRepository(conn, self.versions)
        self.work_orders = r.SqlWorkOrderRepository(conn)
        self.runs = r.SqlRunRepository(conn)
        self.units = r.SqlUnitRepository(conn)
        self.audit = r.SqlAuditRepository(conn)
        keys = r.KeyKnowledge()
        self.ingest_events = r.SqlIngestEventRepository(conn, keys)
        self.rejections = r.SqlRejectionRepository(conn, keys)
        self.tracks = r.SqlTrackRepository(conn)
        self.data_values = r.SqlDataValueRepository(conn)
        self.carriers = r.SqlCarrierRepository(conn)
        self.device_data = r.SqlDeviceDataRepository(conn)
        self.production_counts = r.SqlProductionCountRepository(conn)
        self.tokens = r.SqlTokenRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        finally:
            if self._conn is not None:
                await self._conn.close()
            self._conn = self._tx = None

    async def commit(self) -> None:
        assert self._tx is not None, "commit outside the unit of work"
        await self._tx.commit()

    async def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            await self._tx.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, versions: r.VersionCache | None = None):
        self.engine = engine
        self.versions = versions if versions is not None else r.VersionCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.versions)
