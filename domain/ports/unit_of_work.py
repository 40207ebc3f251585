"""The unit of work (one transaction over every repository), its factory, the clock."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.changes import Change
from domain.ports.carriers import CarrierRepository, DeviceDataRepository, ProductionCountRepository
from domain.ports.cfx import CfxWorkRepository
from domain.ports.ingest import (
    DataValueRepository,
    IngestEventRepository,
    IngestWrites,
    ParkedEventRepository,
    RejectionRepository,
    TrackRepository,
)
from domain.ports.master_data import (
    DataSpecRepository,
    ExecutionConfigRepository,
    LineRepository,
    OperationRepository,
    RouteVersionRepository,
    RoutingRepository,
    StationGroupRepository,
    StationRepository,
)
from domain.ports.runs_and_units import (
    HoldRepository,
    RunRepository,
    UnitRepository,
    WorkOrderRepository,
)
from domain.ports.security import AuditRepository, TokenRepository


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Nothing is saved without commit(); leaving the block rolls back."""

    @property
    def lines(self) -> LineRepository: ...

    @property
    def station_groups(self) -> StationGroupRepository: ...

    @property
    def stations(self) -> StationRepository: ...

    @property
    def operations(self) -> OperationRepository: ...

    @property
    def data_specs(self) -> DataSpecRepository: ...

    @property
    def routings(self) -> RoutingRepository: ...

    @property
    def execution_configs(self) -> ExecutionConfigRepository: ...

    @property
    def route_versions(self) -> RouteVersionRepository: ...

    @property
    def work_orders(self) -> WorkOrderRepository: ...

    @property
    def runs(self) -> RunRepository: ...

    @property
    def units(self) -> UnitRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def ingest_events(self) -> IngestEventRepository: ...

    @property
    def ingest_writes(self) -> IngestWrites:
        """The accepted event's writes, as one operation."""
        ...

    @property
    def rejections(self) -> RejectionRepository: ...

    @property
    def parked(self) -> ParkedEventRepository:
        """Events waiting for their units to reach their step (issue 20)."""
        ...

    @property
    def tracks(self) -> TrackRepository: ...

    @property
    def cfx_work(self) -> CfxWorkRepository:
        """CFX work transactions: WorkStarted → result pairing (issue 21)."""
        ...

    @property
    def data_values(self) -> DataValueRepository: ...

    @property
    def carriers(self) -> CarrierRepository: ...

    @property
    def device_data(self) -> DeviceDataRepository: ...

    @property
    def production_counts(self) -> ProductionCountRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def holds(self) -> HoldRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def publish(self, change: Change) -> None:
        """Announce a change to live subscribers once this transaction commits (never when it
        rolls back)."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
