"""Ports of master data: lines, station groups, stations, operations, data specs, routings,
execution configs, route versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.routes import RouteVersion
from domain.shifts import Shift


class LineRepository(Protocol):
    async def get(self, code: str) -> Line | None: ...
    async def upsert(self, line: Line) -> None: ...
    async def shifts(self, code: str) -> tuple[Shift, ...]:
        """The line's shift calendar, by start time."""
        ...

    async def replace_shifts(self, code: str, shifts: Sequence[Shift]) -> None: ...


class StationGroupRepository(Protocol):
    async def get(self, code: str) -> StationGroup | None: ...
    async def upsert(self, group: StationGroup) -> None: ...
    async def existing_codes(self, codes: Iterable[str]) -> set[str]: ...


class StationRepository(Protocol):
    async def get(self, code: str) -> Station | None: ...
    async def get_by_handle(self, cfx_handle: str) -> Station | None:
        """The station whose CFX handle this is (handles are unique)."""
        ...

    async def lock_handle(self, cfx_handle: str) -> None:
        """Until the transaction ends, no other transaction claims this handle: two stations
        given one handle at once would both find it free and one would break the unique index
        (PostgreSQL: a transaction-level advisory lock keyed by the handle, other handles
        pass freely; SQLite serializes writers)."""
        ...

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
    async def get_many(self, version_ids: Sequence[int]) -> dict[int, RouteVersion]:
        """Versions are immutable: adapters may cache them across transactions."""
        ...
