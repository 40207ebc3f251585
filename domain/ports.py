"""Ports: what the use cases need from the world (repositories, unit of work, clock, reads).

Adapters implement them (SQLAlchemy), tests implement them as Fake* classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.production import AuditEvent, Run, Unit, WorkOrder
from domain.routes import RouteVersion


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class LineRepository(Protocol):
    async def get(self, code: str) -> Line | None: ...
    async def upsert(self, line: Line) -> None: ...


class StationGroupRepository(Protocol):
    async def get(self, code: str) -> StationGroup | None: ...
    async def upsert(self, group: StationGroup) -> None: ...
    async def existing_codes(self, codes: Iterable[str]) -> set[str]: ...


class StationRepository(Protocol):
    async def get(self, code: str) -> Station | None: ...
    async def upsert(self, station: Station) -> None: ...
    async def existing_codes(self, codes: Iterable[str]) -> set[str]: ...


class OperationRepository(Protocol):
    async def get(self, code: str) -> Operation | None: ...
    async def get_many(self, codes: Iterable[str]) -> dict[str, Operation]: ...
    async def upsert(self, operation: Operation) -> None: ...


class DataSpecRepository(Protocol):
    async def upsert(self, spec: DataCollectionSpec) -> DataCollectionSpec:
        """Insert or update by (operation, name); returns the spec with its id."""
        ...

    async def for_operations(self, operation_codes: Iterable[str]) -> list[DataCollectionSpec]:
        """Every spec (active or not) of these operations."""
        ...

    async def with_names(self, names: Iterable[str]) -> list[DataCollectionSpec]:
        """Specs of any operation bearing one of these names (for helpful compile messages)."""
        ...


class RoutingRepository(Protocol):
    async def get(self, code: str, *, for_update: bool = False) -> Routing | None: ...
    async def upsert(self, routing: Routing) -> None: ...


class ExecutionConfigRepository(Protocol):
    async def for_routing(self, routing_code: str) -> list[ExecutionConfig]: ...
    async def put(self, config: ExecutionConfig) -> None:
        """Replace the record of the config's scope."""
        ...


class RouteVersionRepository(Protocol):
    async def add(self, version: RouteVersion) -> RouteVersion:
        """Store a new version; returns it with its id."""
        ...

    async def max_version_no(self, routing_code: str) -> int: ...
    async def latest_ready(self, routing_code: str) -> RouteVersion | None: ...
    async def get_by_id(self, version_id: int) -> RouteVersion | None: ...


class WorkOrderRepository(Protocol):
    async def get(self, wo_no: str, *, for_update: bool = False) -> WorkOrder | None: ...
    async def add(self, work_order: WorkOrder) -> None: ...
    async def update(self, work_order: WorkOrder) -> None: ...


class RunRepository(Protocol):
    async def get(self, run_no: str, *, for_update: bool = False) -> Run | None: ...
    async def add(self, run: Run) -> None: ...
    async def update(self, run: Run) -> None: ...
    async def count_for_work_order(self, wo_no: str) -> int: ...


class UnitRepository(Protocol):
    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None: ...
    async def existing_sns(self, sns: Sequence[str]) -> list[str]: ...
    async def add_many(self, units: Sequence[Unit]) -> None: ...


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Nothing is saved without commit(); leaving the block rolls back."""

    lines: LineRepository
    station_groups: StationGroupRepository
    stations: StationRepository
    operations: OperationRepository
    data_specs: DataSpecRepository
    routings: RoutingRepository
    execution_configs: ExecutionConfigRepository
    route_versions: RouteVersionRepository
    work_orders: WorkOrderRepository
    runs: RunRepository
    units: UnitRepository
    audit: AuditRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
