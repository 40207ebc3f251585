"""Compiled, immutable route versions (what a run freezes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import (
    CollectionMethod,
    DataType,
    LateKeyFailAction,
    RouteVersionStatus,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.master import SpecAlarm, SpecLimits

DEFAULT_MAX_REWORKS = 3


@dataclass(frozen=True, slots=True)
class RouteIdentity:
    code: str
    name: str
    source_system: str
    source_key: str | None = None
    product_code: str | None = None


@dataclass(frozen=True, slots=True)
class StepDataSpec:
    """A data spec as frozen in a route version: a copy, limits as at compile time."""

    name: str
    data_type: DataType
    method: CollectionMethod
    item_type: SpecItemType
    trigger_type: TriggerType
    is_required: bool
    limits: SpecLimits | None = None
    alarm: SpecAlarm | None = None


@dataclass(frozen=True, slots=True)
class RouteStep:
    step_no: int
    operation_code: str
    operation_name: str
    station_type: StationType | None
    station_group_code: str | None = None
    allowed_station_codes: tuple[str, ...] = ()
    requires_fai: bool = False
    requires_authorization: bool = False
    data_specs: tuple[StepDataSpec, ...] = ()
    ingest_mapping: dict[str, Any] | None = field(default=None, hash=False)
    max_attempts: int = 1
    #: the program (recipe) the step's machine must run, frozen at compile (issue 16)
    recipe: str | None = None
    #: a KEY spec judged FAIL by device data after the track passed: hold the unit or only
    #: flag the track (versions compiled before issue 16 read HOLD)
    on_late_key_fail: LateKeyFailAction = LateKeyFailAction.HOLD


@dataclass(frozen=True, slots=True)
class CompileError:
    step_no: int | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RouteVersion:
    routing_code: str
    version_no: int
    status: RouteVersionStatus
    compiled_at: datetime
    route: RouteIdentity
    steps: tuple[RouteStep, ...]
    errors: tuple[CompileError, ...] = ()
    id: int | None = None
    #: RETEST and REWORK dispositions together allowed per unit (route execution config;
    #: versions compiled before it existed read 3)
    max_reworks: int = DEFAULT_MAX_REWORKS
    #: the route's infoMappings (INFO events), frozen like the steps' mappings
    info_mappings: tuple[dict[str, Any], ...] = field(default=(), hash=False)

    @property
    def is_ready(self) -> bool:
        return self.status is RouteVersionStatus.READY

    @property
    def first_step_no(self) -> int | None:
        return self.steps[0].step_no if self.steps else None

    def step(self, step_no: int | None) -> RouteStep | None:
        return next((s for s in self.steps if s.step_no == step_no), None)

    def next_step_no(self, step_no: int) -> int | None:
        """The next larger stepNo (never assume +1), or None after the last step."""
        return next((s.step_no for s in self.steps if s.step_no > step_no), None)
