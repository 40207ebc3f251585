"""Rows ↔ master data: lines and their shifts, groups, stations, operations, data specs,
execution configs, route versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from sqlalchemy import Row

from adapters.documents import from_document, to_document
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    RouteVersionStatus,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    SpecAlarm,
    SpecLimits,
    Station,
    StationGroup,
)
from domain.routes import (
    DEFAULT_MAX_REWORKS,
    CompileError,
    RouteIdentity,
    RouteStep,
    RouteVersion,
)
from domain.shifts import Shift

INFO_MAPPINGS = "infoMappings"


def line_from_row(r: Row[Any]) -> Line:
    return Line(code=r.code, name=r.name)


def group_from_row(r: Row[Any]) -> StationGroup:
    return StationGroup(code=r.code, name=r.name)


def station_from_row(r: Row[Any]) -> Station:
    return Station(
        code=r.code,
        name=r.name,
        station_type=StationType(r.station_type),
        line_code=r.line_code,
        group_code=r.group_code,
        cfx_handle=r.cfx_handle,
    )


def operation_from_row(r: Row[Any]) -> Operation:
    return Operation(
        code=r.code, name=r.name, default_station_type=StationType(r.default_station_type)
    )


def spec_to_values(s: DataCollectionSpec) -> dict[str, Any]:
    return {
        "operation_code": s.operation_code,
        "name": s.name,
        "data_type": s.data_type.value,
        "method": s.method.value,
        "item_type": s.item_type.value,
        "trigger_type": s.trigger_type.value,
        "is_required": s.is_required,
        "is_active": s.is_active,
        "has_limits": s.limits is not None,
        "limits_min": s.limits.min if s.limits else None,
        "limits_max": s.limits.max if s.limits else None,
        "limits_unit": s.limits.unit if s.limits else None,
        "alarm_action": s.alarm.action.value if s.alarm else None,
        "alarm_min": s.alarm.min if s.alarm else None,
        "alarm_max": s.alarm.max if s.alarm else None,
    }


def spec_from_row(r: Row[Any]) -> DataCollectionSpec:
    return DataCollectionSpec(
        id=r.id,
        operation_code=r.operation_code,
        name=r.name,
        data_type=DataType(r.data_type),
        method=CollectionMethod(r.method),
        item_type=SpecItemType(r.item_type),
        trigger_type=TriggerType(r.trigger_type),
        is_required=r.is_required,
        is_active=r.is_active,
        limits=SpecLimits(r.limits_min, r.limits_max, r.limits_unit) if r.has_limits else None,
        alarm=SpecAlarm(AlarmAction(r.alarm_action), r.alarm_min, r.alarm_max)
        if r.alarm_action
        else None,
    )


def config_scope(cfg: ExecutionConfig) -> tuple[str, str]:
    if cfg.step_no is not None:
        return "STEP", str(cfg.step_no)
    if cfg.operation_code is not None:
        return "OPERATION", cfg.operation_code
    return "ROUTE", ""


def config_to_document(cfg: ExecutionConfig) -> Any:
    return to_document(cfg)


def config_from_document(doc: dict[str, Any]) -> ExecutionConfig:
    return from_document(ExecutionConfig, doc)


def version_to_values(v: RouteVersion) -> dict[str, Any]:
    return {
        "routing_code": v.routing_code,
        "version_no": v.version_no,
        "status": v.status.value,
        "compiled_at": v.compiled_at,
        # the infoMappings ride in the route document: route-level like its identity, and no
        # column of their own (versions compiled before them have none)
        "route": {**to_document(v.route), INFO_MAPPINGS: list(v.info_mappings)},
        "steps": to_document(v.steps),
        "errors": to_document(v.errors),
        "max_reworks": v.max_reworks,
    }


def version_from_row(r: Row[Any]) -> RouteVersion:
    return RouteVersion(
        id=r.id,
        routing_code=r.routing_code,
        version_no=r.version_no,
        status=RouteVersionStatus(r.status),
        compiled_at=r.compiled_at,
        route=from_document(
            RouteIdentity, {k: v for k, v in r.route.items() if k != INFO_MAPPINGS}
        ),
        info_mappings=tuple(r.route.get(INFO_MAPPINGS) or ()),
        steps=tuple(from_document(RouteStep, s) for s in r.steps),
        errors=tuple(from_document(CompileError, e) for e in r.errors),
        # versions compiled before maxReworks existed read the default
        max_reworks=r.max_reworks if r.max_reworks is not None else DEFAULT_MAX_REWORKS,
    )


def shift_to_values(line_code: str, s: Shift) -> dict[str, Any]:
    return {
        "line_code": line_code,
        "code": s.code,
        "start_time": s.start.strftime("%H:%M"),
        "end_time": s.end.strftime("%H:%M"),
    }


def shifts_from_rows(found: Iterable[Any]) -> tuple[Shift, ...]:
    shifts = (
        Shift(r.code, time.fromisoformat(r.start_time), time.fromisoformat(r.end_time))
        for r in found
    )
    return tuple(sorted(shifts, key=lambda s: s.start))
