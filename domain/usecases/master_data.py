"""Master data upserts (keyed by code: the same input twice changes nothing) and compile."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from domain.compile import CompileInputs, compile_route
from domain.enums import DataType
from domain.errors import DomainError, ErrorCode, not_found
from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.ports import UnitOfWork
from domain.routes import RouteVersion
from domain.usecases.bus import Command, Deps
from domain.validation import (
    check_code,
    check_json_input,
    check_name,
    check_optional_code,
    check_positive,
)


@dataclass(frozen=True, slots=True)
class UpsertLine(Command):
    line: Line
    action: ClassVar[str] = "upsertLine"
    entity_type: ClassVar[str] = "Line"

    def entity_key(self) -> str:
        return self.line.code


async def upsert_line(cmd: UpsertLine, uow: UnitOfWork, deps: Deps) -> Line:
    line = cmd.line
    check_code(line.code, "code")
    check_name(line.name, "name")
    await uow.lines.upsert(line)
    return line


@dataclass(frozen=True, slots=True)
class UpsertStationGroup(Command):
    group: StationGroup
    action: ClassVar[str] = "upsertStationGroup"
    entity_type: ClassVar[str] = "StationGroup"

    def entity_key(self) -> str:
        return self.group.code


async def upsert_station_group(
    cmd: UpsertStationGroup, uow: UnitOfWork, deps: Deps
) -> StationGroup:
    group = cmd.group
    check_code(group.code, "code")
    check_name(group.name, "name")
    await uow.station_groups.upsert(group)
    return group


@dataclass(frozen=True, slots=True)
class UpsertStation(Command):
    station: Station
    action: ClassVar[str] = "upsertStation"
    entity_type: ClassVar[str] = "Station"

    def entity_key(self) -> str:
        return self.station.code


async def upsert_station(cmd: UpsertStation, uow: UnitOfWork, deps: Deps) -> Station:
    station = cmd.station
    check_code(station.code, "code")
    check_name(station.name, "name")
    if check_optional_code(station.line_code, "lineCode") and not await uow.lines.get(
        station.line_code or ""
    ):
        raise not_found(ErrorCode.LINE_NOT_FOUND, "line", station.line_code or "")
    if check_optional_code(station.group_code, "groupCode") and not await uow.station_groups.get(
        station.group_code or ""
    ):
        raise not_found(
            ErrorCode.STATION_GROUP_NOT_FOUND, "station group", station.group_code or ""
        )
    if check_optional_code(station.cfx_handle, "cfxHandle") is not None:
        # locked before the check: a concurrent claim of the handle is refused as a late one
        await uow.stations.lock_handle(station.cfx_handle or "")
        holder = await uow.stations.get_by_handle(station.cfx_handle or "")
        if holder is not None and holder.code != station.code:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"cfxHandle {station.cfx_handle!r} is station {holder.code!r}'s already",
                {"field": "cfxHandle", "stationCode": holder.code},
            )
    await uow.stations.upsert(station)
    return station


@dataclass(frozen=True, slots=True)
class UpsertOperation(Command):
    operation: Operation
    action: ClassVar[str] = "upsertOperation"
    entity_type: ClassVar[str] = "Operation"

    def entity_key(self) -> str:
        return self.operation.code


async def upsert_operation(cmd: UpsertOperation, uow: UnitOfWork, deps: Deps) -> Operation:
    op = cmd.operation
    check_code(op.code, "code")
    check_name(op.name, "name")
    await uow.operations.upsert(op)
    return op


@dataclass(frozen=True, slots=True)
class UpsertDataSpec(Command):
    spec: DataCollectionSpec
    action: ClassVar[str] = "upsertDataCollectionSpec"
    entity_type: ClassVar[str] = "DataCollectionSpec"

    def entity_key(self) -> str:
        return f"{self.spec.operation_code}/{self.spec.name}"


def _check_range(lo: float | None, hi: float | None, what: str) -> None:
    for v in (lo, hi):
        if v is not None and not math.isfinite(v):
            raise DomainError(ErrorCode.VALIDATION_FAILED, f"{what} must be finite numbers")
    if lo is not None and hi is not None and lo > hi:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{what}: min {lo} is greater than max {hi}",
            {"field": what, "min": lo, "max": hi},
        )


async def upsert_data_spec(cmd: UpsertDataSpec, uow: UnitOfWork, deps: Deps) -> DataCollectionSpec:
    spec = cmd.spec
    check_code(spec.operation_code, "operationCode")
    check_code(spec.name, "name")
    numeric_bounds = [
        b
        for b in (
            spec.limits and spec.limits.min,
            spec.limits and spec.limits.max,
            spec.alarm and spec.alarm.min,
            spec.alarm and spec.alarm.max,
        )
        if b is not None
    ]
    if numeric_bounds and spec.data_type is not DataType.NUMBER:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"limits and alarm bounds apply to NUMBER specs, not {spec.data_type.value}",
            {"field": "limits", "dataType": spec.data_type.value},
        )
    if spec.limits:
        _check_range(spec.limits.min, spec.limits.max, "limits")
        if spec.limits.unit is not None:
            check_name(spec.limits.unit, "limits.unit", max_length=50)
    if spec.alarm:
        _check_range(spec.alarm.min, spec.alarm.max, "alarm")
    if not await uow.operations.get(spec.operation_code):
        raise not_found(ErrorCode.OPERATION_NOT_FOUND, "operation", spec.operation_code)
    return await uow.data_specs.upsert(spec)


@dataclass(frozen=True, slots=True)
class UpsertRouting(Command):
    routing: Routing
    action: ClassVar[str] = "upsertRouting"
    entity_type: ClassVar[str] = "Routing"

    def entity_key(self) -> str:
        return self.routing.code


async def upsert_routing(cmd: UpsertRouting, uow: UnitOfWork, deps: Deps) -> Routing:
    routing = cmd.routing
    check_code(routing.code, "code")
    check_name(routing.name, "name")
    check_code(routing.source_system, "sourceSystem")
    check_optional_code(routing.source_key, "sourceKey")
    check_optional_code(routing.product_code, "productCode")
    if len(routing.steps) > deps.limits.max_routing_steps:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"a routing has at most {deps.limits.max_routing_steps} steps",
            {"field": "steps", "count": len(routing.steps), "max": deps.limits.max_routing_steps},
        )
    codes = {check_code(s.operation_code, "steps.operationCode") for s in routing.steps}
    known = await uow.operations.get_many(codes)
    missing = sorted(codes - known.keys())
    if missing:
        raise DomainError(
            ErrorCode.OPERATION_NOT_FOUND,
            f"operations not found: {', '.join(missing)}",
            {"missing": missing},
        )
    # Duplicate stepNos are kept: compile reports them (DUPLICATE_STEP_NO) with the rest.
    await uow.routings.upsert(routing)
    return routing


@dataclass(frozen=True, slots=True)
class SetExecutionConfig(Command):
    config: ExecutionConfig
    action: ClassVar[str] = "setExecutionConfig"
    entity_type: ClassVar[str] = "Routing"

    def entity_key(self) -> str:
        return self.config.routing_code


MAX_REWORKS_LIMIT = 100


def check_route_scope(cfg: ExecutionConfig, field_name: str) -> None:
    if cfg.step_no is not None or cfg.operation_code is not None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} is set at the route scope only (no stepNo, no operationCode)",
            {"field": field_name},
        )


def check_max_reworks(cfg: ExecutionConfig) -> None:
    """maxReworks counts per unit over the whole route: the route scope only, 0..100."""
    check_route_scope(cfg, "maxReworks")
    assert cfg.max_reworks is not None
    if not 0 <= cfg.max_reworks <= MAX_REWORKS_LIMIT:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"maxReworks must be between 0 and {MAX_REWORKS_LIMIT}",
            {"field": "maxReworks", "min": 0, "max": MAX_REWORKS_LIMIT},
        )


async def set_execution_config(cmd: SetExecutionConfig, uow: UnitOfWork, deps: Deps) -> Routing:
    cfg = cmd.config
    check_code(cfg.routing_code, "routingCode")
    if cfg.step_no is not None and cfg.operation_code is not None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "set stepNo (step scope) or operationCode (operation scope), not both",
            {"field": "stepNo"},
        )
    routing = await uow.routings.get(cfg.routing_code)
    if routing is None:
        raise not_found(ErrorCode.ROUTE_NOT_FOUND, "routing", cfg.routing_code)
    if cfg.step_no is not None and all(s.step_no != cfg.step_no for s in routing.steps):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"routing {routing.code!r} has no step {cfg.step_no}",
            {"field": "stepNo", "stepNo": cfg.step_no},
        )
    if cfg.operation_code is not None:
        check_code(cfg.operation_code, "operationCode")
        if not await uow.operations.get(cfg.operation_code):
            raise not_found(ErrorCode.OPERATION_NOT_FOUND, "operation", cfg.operation_code)
    check_optional_code(cfg.station_group_code, "stationGroupCode")
    for code in cfg.allowed_station_codes or ():
        check_code(code, "allowedStationCodes")
    for name in cfg.data_spec_names or ():
        check_code(name, "dataSpecNames")
    if cfg.max_attempts is not None:
        check_positive(cfg.max_attempts, "maxAttempts", maximum=100)
    if cfg.max_reworks is not None:
        check_max_reworks(cfg)
    if cfg.info_mappings is not None:
        check_route_scope(cfg, "infoMappings")
        check_json_input(list(cfg.info_mappings), "infoMappings", deps.limits.max_json_depth)
    if cfg.recipe is not None:
        check_code(cfg.recipe, "recipe")
    check_json_input(cfg.ingest_mapping, "ingestMapping", deps.limits.max_json_depth)
    await uow.execution_configs.put(cfg)
    return routing


@dataclass(frozen=True, slots=True)
class CompileRouting(Command):
    code: str
    action: ClassVar[str] = "compileRouting"
    entity_type: ClassVar[str] = "Routing"

    def entity_key(self) -> str:
        return self.code


async def compile_routing(cmd: CompileRouting, uow: UnitOfWork, deps: Deps) -> RouteVersion:
    """Always creates a version when the routing exists: READY, or INVALID with its errors."""
    # The lock serializes compiles of one routing so version numbers never collide.
    routing = await uow.routings.get(cmd.code, for_update=True)
    if routing is None:
        raise not_found(ErrorCode.ROUTE_NOT_FOUND, "routing", cmd.code)
    configs = await uow.execution_configs.for_routing(routing.code)
    op_codes = {s.operation_code for s in routing.steps}
    operations = await uow.operations.get_many(op_codes)
    spec_names = {n for c in configs for n in (c.data_spec_names or ())}
    specs = await uow.data_specs.for_operations(op_codes)
    specs += [
        s for s in await uow.data_specs.with_names(spec_names) if s.operation_code not in op_codes
    ]
    station_codes = {c for cfg in configs for c in (cfg.allowed_station_codes or ())}
    group_codes = {cfg.station_group_code for cfg in configs if cfg.station_group_code}
    inputs = CompileInputs(
        routing=routing,
        configs=configs,
        operations=operations,
        specs=specs,
        station_codes=frozenset(await uow.stations.existing_codes(station_codes)),
        group_codes=frozenset(await uow.station_groups.existing_codes(group_codes)),
    )
    version_no = await uow.route_versions.max_version_no(routing.code) + 1
    version = compile_route(inputs, version_no, deps.clock.now())
    return await uow.route_versions.add(version)
