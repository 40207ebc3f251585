"""Input types of the contract (master data and production)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    LateKeyFailAction,
    SpecItemType,
    StationType,
    TriggerType,
)
from graphql_api.scalars import JSON


@strawberry.input
class LineInput:
    code: str
    name: str


@strawberry.input
class StationGroupInput:
    code: str
    name: str


@strawberry.input
class StationInput:
    code: str
    name: str
    station_type: StationType
    line_code: str | None = None
    group_code: str | None = None
    cfx_handle: str | None = strawberry.field(
        default=None,
        description="The machine's IPC-CFX handle (an envelope's Source), unique across stations",
    )


@strawberry.input
class OperationInput:
    code: str
    name: str
    default_station_type: StationType


@strawberry.input
class SpecLimitsInput:
    min: float | None = None
    max: float | None = None
    unit: str | None = None


@strawberry.input
class SpecAlarmInput:
    action: AlarmAction
    min: float | None = None
    max: float | None = None


@strawberry.input
class DataCollectionSpecInput:
    operation_code: str
    name: str
    data_type: DataType
    method: CollectionMethod
    item_type: SpecItemType | None = SpecItemType.OBSERVATION
    trigger_type: TriggerType | None = TriggerType.EVENT
    is_required: bool | None = False
    is_active: bool | None = True
    limits: SpecLimitsInput | None = None
    alarm: SpecAlarmInput | None = None


@strawberry.input
class RoutingStepInput:
    step_no: int
    operation_code: str


@strawberry.input
class RoutingInput:
    code: str
    name: str
    steps: list[RoutingStepInput]
    source_system: str | None = "MES"
    source_key: str | None = None
    product_code: str | None = None


@strawberry.input(
    description="Execution semantics. Exactly one scope is set: stepNo (step level), "
    "operationCode (operation level), or neither (route level). Higher precedence non-null "
    "fields win: step > operation > route > the operation's defaultStationType."
)
class ExecutionConfigInput:
    routing_code: str
    step_no: int | None = None
    operation_code: str | None = None
    station_type: StationType | None = None
    station_group_code: str | None = None
    allowed_station_codes: list[str] | None = None
    requires_fai: bool | None = strawberry.field(default=None, name="requiresFAI")
    requires_authorization: bool | None = None
    data_spec_names: list[str] | None = None
    ingest_mapping: JSON | None = None
    max_attempts: int | None = None
    max_reworks: int | None = strawberry.field(
        default=None,
        description="Route scope only (no stepNo, no operationCode): RETEST and REWORK "
        "dispositions together allowed per unit, 0..100; default 3.",
    )
    info_mappings: list[JSON] | None = strawberry.field(
        default=None,
        description="Route scope only: mappings without result that read INFO events "
        "(arrivals, departures, work started, materials installed); the first whose units "
        "path yields a unit reads the event. Frozen in the version by compile.",
    )
    recipe: str | None = strawberry.field(
        default=None,
        description="The program (recipe) the step's machine must run, frozen at compile. An "
        "ingest event whose mapping reads another one (recipePath) is RECIPE_MISMATCH; null: "
        "inherit (none at any scope: any program).",
    )
    on_late_key_fail: LateKeyFailAction | None = strawberry.field(
        default=None,
        description="What a KEY spec judged FAIL by device data after the track passed does: "
        "HOLD the unit (reason LATE_KEY_FAIL; the default) or only FLAG the track. Null: "
        "inherit.",
    )


@strawberry.input
class WorkOrderInput:
    wo_no: str
    product_code: str
    planned_qty: int
    routing_code: str | None = None
    due_date: datetime | None = None


@strawberry.input
class CreateRunInput:
    wo_no: str
    line_code: str
    plan_qty: int
    run_no: str | None = None
    shift_code: str | None = None


@strawberry.input(
    description="A panel: one barcode over boards at positions 1..positions. sns gives the "
    "boards' own labels by position (null where a board has none); the others are named by "
    "snPattern ({panel} and {position}, default {panel}-{position}). xOutPositions "
    "names skipped boards: registered X_OUT (terminal, never worked) with an X_OUT disposition."
)
class PanelInput:
    panel_sn: str
    positions: int
    sns: list[str | None] | None = None
    sn_pattern: str | None = None
    x_out_positions: list[int] | None = None


@strawberry.input(
    description="One of: explicit sns, count (+ optional snPrefix) to generate serial numbers, "
    "or panels whose boards are the units."
)
class RegisterUnitsInput:
    run_no: str
    sns: list[str] | None = None
    count: int | None = None
    sn_prefix: str | None = None
    panels: list[PanelInput] | None = None
