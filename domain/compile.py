"""Route compile: merge execution configs into an immutable, validated snapshot (DOMAIN.md §2).

Pure: the caller hands in everything the compile may look at, so a version depends only on
its inputs and later edits of master data can never change it.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import LateKeyFailAction, RouteVersionStatus, StationType, TriggerType
from domain.errors import CompileCode
from domain.mapping.info import info_mapping_problems
from domain.mapping.schema import alternatives_of, mapping_problems
from domain.master import DataCollectionSpec, ExecutionConfig, Operation, Routing
from domain.routes import (
    DEFAULT_MAX_REWORKS,
    CompileError,
    RouteIdentity,
    RouteStep,
    RouteVersion,
    StepDataSpec,
)

INGEST_STATION_TYPES = frozenset({StationType.AUTO, StationType.BATCH, StationType.TEST})


@dataclass(frozen=True, slots=True)
class MergedConfig:
    """Execution semantics of one step after the scopes were merged."""

    station_type: StationType | None
    station_group_code: str | None
    allowed_station_codes: tuple[str, ...]
    requires_fai: bool
    requires_authorization: bool
    data_spec_names: tuple[str, ...] | None
    ingest_mapping: dict[str, Any] | None
    max_attempts: int
    recipe: str | None = None
    on_late_key_fail: LateKeyFailAction = LateKeyFailAction.HOLD


@dataclass(frozen=True, slots=True)
class CompileInputs:
    """Everything a compile reads, fetched by the use case in one go."""

    routing: Routing
    configs: Sequence[ExecutionConfig]
    operations: Mapping[str, Operation]
    specs: Sequence[DataCollectionSpec]
    station_codes: frozenset[str]
    group_codes: frozenset[str]


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def merge_config(
    step_no: int,
    operation: Operation | None,
    operation_code: str,
    configs: Iterable[ExecutionConfig],
) -> MergedConfig:
    """step > operation > route > defaults (the operation's defaultStationType, maxAttempts 1)."""
    step_cfg = op_cfg = route_cfg = None
    for cfg in configs:
        if cfg.step_no is not None:
            if cfg.step_no == step_no:
                step_cfg = cfg
        elif cfg.operation_code is not None:
            if cfg.operation_code == operation_code:
                op_cfg = cfg
        else:
            route_cfg = cfg
    scopes = [c for c in (step_cfg, op_cfg, route_cfg) if c is not None]

    def pick(attr: str) -> Any:
        return _first(*(getattr(c, attr) for c in scopes))

    return MergedConfig(
        station_type=_first(
            pick("station_type"), operation.default_station_type if operation else None
        ),
        station_group_code=pick("station_group_code"),
        allowed_station_codes=tuple(pick("allowed_station_codes") or ()),
        requires_fai=bool(pick("requires_fai")),
        requires_authorization=bool(pick("requires_authorization")),
        data_spec_names=pick("data_spec_names"),
        ingest_mapping=pick("ingest_mapping"),
        max_attempts=pick("max_attempts") or 1,
        recipe=pick("recipe"),
        on_late_key_fail=pick("on_late_key_fail") or LateKeyFailAction.HOLD,
    )


def _freeze_spec(spec: DataCollectionSpec) -> StepDataSpec:
    return StepDataSpec(
        name=spec.name,
        data_type=spec.data_type,
        method=spec.method,
        item_type=spec.item_type,
        trigger_type=spec.trigger_type,
        is_required=spec.is_required,
        limits=spec.limits,
        alarm=spec.alarm,
    )


class _StepCompiler:
    def __init__(self, inputs: CompileInputs, step_no: int, operation_code: str):
        self.inputs = inputs
        self.step_no = step_no
        self.operation_code = operation_code
        self.errors: list[CompileError] = []

    def error(self, code: CompileCode, message: str) -> None:
        self.errors.append(CompileError(self.step_no, code.value, message))

    def compile(self) -> RouteStep | None:
        operation = self.inputs.operations.get(self.operation_code)
        if operation is None:
            self.error(
                CompileCode.OPERATION_NOT_FOUND, f"operation {self.operation_code!r} not found"
            )
        merged = merge_config(self.step_no, operation, self.operation_code, self.inputs.configs)
        if merged.station_type is None:
            self.error(
                CompileCode.STATION_TYPE_MISSING,
                "no stationType at any scope and no operation default",
            )
            return None
        stype = merged.station_type
        self._check_stations(stype, merged)
        self._check_mapping(stype, merged.ingest_mapping)
        specs = self._bind_specs(merged.data_spec_names)
        self._check_triggers(stype, specs, merged.ingest_mapping)
        self._check_spec_map(specs, merged.ingest_mapping)
        return RouteStep(
            step_no=self.step_no,
            operation_code=self.operation_code,
            operation_name=operation.name if operation else self.operation_code,
            station_type=stype,
            station_group_code=merged.station_group_code,
            allowed_station_codes=merged.allowed_station_codes,
            requires_fai=merged.requires_fai,
            requires_authorization=merged.requires_authorization,
            data_specs=tuple(_freeze_spec(s) for s in specs),
            # a copy: the version must not share a dict that its config still holds
            ingest_mapping=copy.deepcopy(merged.ingest_mapping),
            max_attempts=merged.max_attempts,
            recipe=merged.recipe,
            on_late_key_fail=merged.on_late_key_fail,
        )

    def _check_stations(self, stype: StationType, merged: MergedConfig) -> None:
        group = merged.station_group_code
        if group is not None and group not in self.inputs.group_codes:
            self.error(CompileCode.STATION_GROUP_NOT_FOUND, f"station group {group!r} not found")
        for code in merged.allowed_station_codes:
            if code not in self.inputs.station_codes:
                self.error(CompileCode.STATION_NOT_FOUND, f"station {code!r} not found")
        if stype is StationType.MANUAL and group is None and not merged.allowed_station_codes:
            self.error(
                CompileCode.STATION_CONSTRAINT_MISSING,
                "a MANUAL step needs a station group or allowed stations",
            )

    def _check_mapping(self, stype: StationType, mapping: dict[str, Any] | None) -> None:
        if stype not in INGEST_STATION_TYPES:
            return
        if mapping is None:
            self.error(
                CompileCode.INGEST_MAPPING_MISSING, f"a {stype.value} step needs an ingestMapping"
            )
            return
        for problem in mapping_problems(mapping, stype):
            self.error(CompileCode.INGEST_MAPPING_INVALID, f"ingestMapping {problem}")
        if not isinstance(mapping, dict):
            return
        for alternative in alternatives_of(mapping):
            event_type = alternative.get("eventType") if isinstance(alternative, dict) else None
            if isinstance(event_type, str) and event_type != stype.value:
                self.error(
                    CompileCode.EVENT_TYPE_MISMATCH,
                    f"ingestMapping.eventType {event_type} differs from the step's stationType "
                    f"{stype.value}",
                )

    def _bind_specs(self, names: tuple[str, ...] | None) -> list[DataCollectionSpec]:
        own = [s for s in self.inputs.specs if s.operation_code == self.operation_code]
        if names is None:
            return [s for s in own if s.is_active]
        by_name = {s.name: s for s in own}
        bound: list[DataCollectionSpec] = []
        for name in dict.fromkeys(names):
            spec = by_name.get(name)
            if spec is None:
                elsewhere = sorted({s.operation_code for s in self.inputs.specs if s.name == name})
                hint = f" (it belongs to {', '.join(elsewhere)})" if elsewhere else ""
                self.error(
                    CompileCode.DATA_SPEC_NOT_FOUND,
                    f"data spec {name!r} not found for operation {self.operation_code!r}{hint}",
                )
            elif not spec.is_active:
                self.error(CompileCode.DATA_SPEC_NOT_FOUND, f"data spec {name!r} is inactive")
            else:
                bound.append(spec)
        return bound

    def _check_triggers(
        self,
        stype: StationType,
        specs: list[DataCollectionSpec],
        mapping: dict[str, Any] | None,
    ) -> None:
        has_units = isinstance(mapping, dict) and isinstance(mapping.get("units"), dict)
        for spec in specs:
            if spec.trigger_type is TriggerType.EACH_CARRIER and stype is not StationType.BATCH:
                self.error(
                    CompileCode.SPEC_TRIGGER_INVALID,
                    f"data spec {spec.name!r} is EACH_CARRIER but the step is {stype.value}, "
                    "not BATCH",
                )
            elif (
                stype is StationType.BATCH
                and spec.trigger_type is not TriggerType.EACH_CARRIER
                and spec.is_required
                and not has_units
            ):
                self.error(
                    CompileCode.SPEC_TRIGGER_INVALID,
                    f"required unit-level data spec {spec.name!r} on a BATCH step whose mapping "
                    "has no `units`: nothing could ever satisfy it",
                )

    def _check_spec_map(
        self, specs: list[DataCollectionSpec], mapping: dict[str, Any] | None
    ) -> None:
        if not isinstance(mapping, dict) or not isinstance(mapping.get("dataSpecMap"), dict):
            return
        bound = {s.name for s in specs}
        for source_name, target in mapping["dataSpecMap"].items():
            if not isinstance(target, str) or target not in bound:
                self.error(
                    CompileCode.DATA_SPEC_MAP_INVALID,
                    f"dataSpecMap {source_name!r} → {target!r}: {target!r} is not a bound spec "
                    "of this step",
                )


def compile_route(inputs: CompileInputs, version_no: int, compiled_at: datetime) -> RouteVersion:
    """Merge and validate every step; READY when no step has an error, else INVALID."""
    routing = inputs.routing
    errors: list[CompileError] = []
    steps: list[RouteStep] = []
    if not routing.steps:
        errors.append(
            CompileError(None, CompileCode.ROUTING_EMPTY.value, "the routing has no steps")
        )
    counts = Counter(s.step_no for s in routing.steps)
    seen: set[int] = set()
    for rstep in sorted(routing.steps, key=lambda s: s.step_no):
        if rstep.step_no in seen:
            continue
        seen.add(rstep.step_no)
        if counts[rstep.step_no] > 1:
            errors.append(
                CompileError(
                    rstep.step_no,
                    CompileCode.DUPLICATE_STEP_NO.value,
                    f"stepNo {rstep.step_no} appears {counts[rstep.step_no]} times",
                )
            )
        compiler = _StepCompiler(inputs, rstep.step_no, rstep.operation_code)
        compiled = compiler.compile()
        errors.extend(compiler.errors)
        if compiled is not None:
            steps.append(compiled)
    info_mappings = route_info_mappings(inputs.configs)
    errors += [
        CompileError(None, CompileCode.INGEST_MAPPING_INVALID.value, problem)
        for problem in info_mapping_problems(info_mappings)
    ]
    return RouteVersion(
        routing_code=routing.code,
        version_no=version_no,
        status=RouteVersionStatus.INVALID if errors else RouteVersionStatus.READY,
        compiled_at=compiled_at,
        route=RouteIdentity(
            code=routing.code,
            name=routing.name,
            source_system=routing.source_system,
            source_key=routing.source_key,
            product_code=routing.product_code,
        ),
        steps=tuple(steps),
        errors=tuple(errors),
        max_reworks=route_max_reworks(inputs.configs),
        info_mappings=info_mappings,
    )


def route_info_mappings(configs: Iterable[ExecutionConfig]) -> tuple[dict[str, Any], ...]:
    """infoMappings of the route-scope config (copied: the version is immutable), or none."""
    for cfg in configs:
        if cfg.step_no is None and cfg.operation_code is None and cfg.info_mappings is not None:
            return tuple(copy.deepcopy(list(cfg.info_mappings)))
    return ()


def route_max_reworks(configs: Iterable[ExecutionConfig]) -> int:
    """maxReworks of the route-scope config (it exists at no other scope), default 3."""
    for cfg in configs:
        if cfg.step_no is None and cfg.operation_code is None and cfg.max_reworks is not None:
            return cfg.max_reworks
    return DEFAULT_MAX_REWORKS
