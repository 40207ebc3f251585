"""Master data: lines, stations, operations, data specs, routings and their execution configs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    LateKeyFailAction,
    SpecItemType,
    StationType,
    TriggerType,
)


@dataclass(frozen=True, slots=True)
class Line:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class StationGroup:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Station:
    code: str
    name: str
    station_type: StationType
    line_code: str | None = None
    group_code: str | None = None
    #: the machine's IPC-CFX handle (an envelope's `Source`), unique across stations
    cfx_handle: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    code: str
    name: str
    default_station_type: StationType


@dataclass(frozen=True, slots=True)
class SpecLimits:
    min: float | None = None
    max: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class SpecAlarm:
    action: AlarmAction
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class DataCollectionSpec:
    operation_code: str
    name: str
    data_type: DataType
    method: CollectionMethod
    item_type: SpecItemType = SpecItemType.OBSERVATION
    trigger_type: TriggerType = TriggerType.EVENT
    is_required: bool = False
    is_active: bool = True
    limits: SpecLimits | None = None
    alarm: SpecAlarm | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingStep:
    step_no: int
    operation_code: str


@dataclass(frozen=True, slots=True)
class Routing:
    code: str
    name: str
    source_system: str = "MES"
    source_key: str | None = None
    product_code: str | None = None
    is_active: bool = True
    steps: tuple[RoutingStep, ...] = ()


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    """One scope's execution semantics; None means 'inherit from the scope below'.

    Scope: step_no set (step), operation_code set (operation), neither (route).
    """

    routing_code: str
    step_no: int | None = None
    operation_code: str | None = None
    station_type: StationType | None = None
    station_group_code: str | None = None
    allowed_station_codes: tuple[str, ...] | None = None
    requires_fai: bool | None = None
    requires_authorization: bool | None = None
    data_spec_names: tuple[str, ...] | None = None
    ingest_mapping: dict[str, Any] | None = field(default=None, hash=False)
    max_attempts: int | None = None
    #: the program (recipe) a machine must run at the step (issue 16); None: any
    recipe: str | None = None
    #: a KEY spec judged FAIL after the track passed: hold the unit (default) or flag the track
    on_late_key_fail: LateKeyFailAction | None = None
    #: route scope only: RETEST and REWORK dispositions allowed per unit (default 3)
    max_reworks: int | None = None
    #: route scope only: mappings without result that read INFO events (tried in order)
    info_mappings: tuple[dict[str, Any], ...] | None = field(default=None, hash=False)

    @property
    def scope(self) -> str:
        if self.step_no is not None:
            return "STEP"
        if self.operation_code is not None:
            return "OPERATION"
        return "ROUTE"
