"""Mutation payloads: the result, or `error` for a business failure (never a GraphQL error)."""

from __future__ import annotations

import strawberry

from graphql_api.types.common import MesError
from graphql_api.types.master import (
    DataCollectionSpec,
    Line,
    Operation,
    RouteVersion,
    Routing,
    Station,
    StationGroup,
)
from graphql_api.types.runs_and_units import Run, Unit, WorkOrder


@strawberry.type
class LinePayload:
    line: Line | None = None
    error: MesError | None = None


@strawberry.type
class StationGroupPayload:
    station_group: StationGroup | None = None
    error: MesError | None = None


@strawberry.type
class StationPayload:
    station: Station | None = None
    error: MesError | None = None


@strawberry.type
class OperationPayload:
    operation: Operation | None = None
    error: MesError | None = None


@strawberry.type
class DataCollectionSpecPayload:
    data_spec: DataCollectionSpec | None = None
    error: MesError | None = None


@strawberry.type
class RoutingPayload:
    routing: Routing | None = None
    error: MesError | None = None


@strawberry.type
class ExecutionConfigPayload:
    routing: Routing | None = None
    error: MesError | None = None


@strawberry.type(
    description="compileRouting always creates a version when the routing exists: READY, or "
    "INVALID with errors."
)
class CompilePayload:
    version: RouteVersion | None = None
    error: MesError | None = None


@strawberry.type
class WorkOrderPayload:
    work_order: WorkOrder | None = None
    error: MesError | None = None


@strawberry.type
class RunPayload:
    run: Run | None = None
    error: MesError | None = None


@strawberry.type
class RegisterUnitsPayload:
    units: list[Unit] = strawberry.field(default_factory=list)
    error: MesError | None = None
