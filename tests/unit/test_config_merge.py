"""The execution-config merge (DOMAIN.md §2): step > operation > route > defaults (the
operation's defaultStationType, maxAttempts 1), field by field; a higher scope's non-null field
wins, None inherits."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.compile import CompileInputs, MergedConfig, compile_route, merge_config
from domain.enums import LateKeyFailAction, StationType
from domain.master import ExecutionConfig, Operation, Routing, RoutingStep

R = "R"
STEP_NO, OP = 20, "AOI"
AOI_TYPE = StationType.AUTO
AOI = Operation(OP, "Inspect", AOI_TYPE)
#: what merge_config gives a field no scope sets
DEFAULTS: dict[str, Any] = {
    "station_type": AOI_TYPE,
    "station_group_code": None,
    "allowed_station_codes": (),
    "requires_fai": False,
    "requires_authorization": False,
    "data_spec_names": None,
    "ingest_mapping": None,
    "max_attempts": 1,
    "recipe": None,
    "on_late_key_fail": LateKeyFailAction.HOLD,
}
FIELDS = list(DEFAULTS)
#: fields of the route scope only, frozen on the version rather than merged per step
#: (their own tests: tests/unit/test_max_reworks.py, tests/api/test_info_events.py)
ROUTE_FIELDS = ["max_reworks", "info_mappings"]


def test_the_merged_fields_are_the_config_fields() -> None:
    """Guards the tables below: a new config field must get a default and a precedence test."""
    merged = [f.name for f in fields(MergedConfig)]
    scoped = [f.name for f in fields(ExecutionConfig)]
    assert merged == FIELDS
    assert scoped == ["routing_code", "step_no", "operation_code", *FIELDS, *ROUTE_FIELDS]


def merge(*configs: ExecutionConfig, operation: Operation | None = AOI) -> MergedConfig:
    return merge_config(STEP_NO, operation, OP, configs)


def step(**kw: Any) -> ExecutionConfig:
    return ExecutionConfig(R, step_no=STEP_NO, **kw)


def operation(**kw: Any) -> ExecutionConfig:
    return ExecutionConfig(R, operation_code=OP, **kw)


def route(**kw: Any) -> ExecutionConfig:
    return ExecutionConfig(R, **kw)


# ------------------------------------------------------------------ examples


def test_no_config_gives_the_defaults() -> None:
    merged = merge()
    assert {f: getattr(merged, f) for f in FIELDS} == DEFAULTS


def test_max_attempts_step_over_operation_over_route_over_one() -> None:
    assert merge().max_attempts == 1
    assert merge(route(max_attempts=2)).max_attempts == 2
    assert merge(route(max_attempts=2), operation(max_attempts=3)).max_attempts == 3
    assert merge(route(max_attempts=2), operation(max_attempts=3), step(max_attempts=4)) == merge(
        step(max_attempts=4), route(max_attempts=2), operation(max_attempts=3)
    )
    assert merge(step(max_attempts=4), operation(max_attempts=3)).max_attempts == 4
    # an omitted maxAttempts at the step inherits
    assert merge(step(station_group_code="G"), route(max_attempts=2)).max_attempts == 2


def test_station_type_falls_back_to_the_operation_default_last() -> None:
    assert merge().station_type is StationType.AUTO
    assert merge(route(station_type=StationType.TEST)).station_type is StationType.TEST
    assert (
        merge(
            route(station_type=StationType.TEST), step(station_type=StationType.BATCH)
        ).station_type
        is StationType.BATCH
    )
    assert merge(operation=None).station_type is None


def test_the_merge_is_field_by_field() -> None:
    merged = merge(
        step(station_group_code="STEP-G"),
        operation(max_attempts=3, requires_fai=True),
        route(station_group_code="ROUTE-G", max_attempts=2, requires_authorization=True),
    )
    assert merged.station_group_code == "STEP-G"
    assert merged.max_attempts == 3
    assert (merged.requires_fai, merged.requires_authorization) == (True, True)


def test_a_false_or_empty_value_at_a_higher_scope_still_wins() -> None:
    """False, [] and () are set values, not "inherit": only None inherits."""
    merged = merge(
        step(requires_fai=False, allowed_station_codes=(), data_spec_names=()),
        route(requires_fai=True, allowed_station_codes=("S1",), data_spec_names=("Spec",)),
    )
    assert merged.requires_fai is False
    assert merged.allowed_station_codes == ()  # no restriction
    assert merged.data_spec_names == ()  # binds none (None would bind all)


def test_configs_of_other_steps_and_operations_are_ignored() -> None:
    merged = merge(
        ExecutionConfig(R, step_no=STEP_NO + 10, max_attempts=9, station_group_code="OTHER"),
        ExecutionConfig(R, operation_code="PRINT", max_attempts=8, station_type=StationType.MANUAL),
    )
    assert (merged.max_attempts, merged.station_group_code) == (1, None)
    assert merged.station_type is StationType.AUTO


# ------------------------------------------------------------------ any combination of levels

CODES = st.sampled_from(["A", "B", "C-1", "D_2"])
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "station_type": st.sampled_from(StationType),
    "station_group_code": CODES,
    "allowed_station_codes": st.lists(CODES, max_size=3).map(tuple),
    "requires_fai": st.booleans(),
    "requires_authorization": st.booleans(),
    "data_spec_names": st.lists(CODES, max_size=3).map(tuple),
    "ingest_mapping": st.dictionaries(CODES, CODES, max_size=2),
    "max_attempts": st.integers(1, 100),
    "recipe": CODES,
    "on_late_key_fail": st.sampled_from(LateKeyFailAction),
}
LEVELS = ("step", "operation", "route")
SCOPES: dict[str, dict[str, Any]] = {
    "step": {"step_no": STEP_NO},
    "operation": {"operation_code": OP},
    "route": {},
}


@st.composite
def level_values(draw: st.DrawFn) -> dict[str, Any]:
    """One scope's record: each field set or left None (inherit)."""
    return {f: draw(st.none() | VALUES[f]) for f in FIELDS}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, dict[str, Any] | None], list[ExecutionConfig]]:
    """Which scopes have a record and what it sets, plus the records in any order with noise:
    records of another step and another operation that set every field and must never win."""
    levels = {lvl: draw(st.none() | level_values()) for lvl in LEVELS}
    configs = [ExecutionConfig(R, **SCOPES[lvl], **v) for lvl, v in levels.items() if v is not None]
    noise = {f: draw(VALUES[f]) for f in FIELDS}
    configs.append(ExecutionConfig(R, step_no=STEP_NO + 5, **noise))
    configs.append(ExecutionConfig(R, operation_code="OTHER-OP", **noise))
    return levels, draw(st.permutations(configs))


def expected(
    levels: dict[str, dict[str, Any] | None], field: str, default_type: StationType = AOI_TYPE
) -> Any:
    for lvl in LEVELS:
        record = levels[lvl]
        if record is not None and record[field] is not None:
            return record[field]
    return default_type if field == "station_type" else DEFAULTS[field]


@settings(max_examples=120, deadline=None)
@given(scenarios(), st.sampled_from(StationType))
def test_the_most_specific_set_value_wins(
    scenario: tuple[dict[str, dict[str, Any] | None], list[ExecutionConfig]],
    default_type: StationType,
) -> None:
    levels, configs = scenario
    merged = merge_config(STEP_NO, Operation(OP, "Op", default_type), OP, configs)
    want = {f: expected(levels, f, default_type) for f in FIELDS}
    assert {f: getattr(merged, f) for f in FIELDS} == want


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_the_compiled_step_carries_the_merged_values(
    scenario: tuple[dict[str, dict[str, Any] | None], list[ExecutionConfig]],
) -> None:
    """Whether the version is READY or not, each step it holds shows the merge's result."""
    levels, configs = scenario
    routing = Routing(R, "Main", steps=(RoutingStep(STEP_NO, OP),))
    inputs = CompileInputs(routing, configs, {OP: AOI}, [], frozenset(), frozenset())
    version = compile_route(inputs, 1, datetime(2026, 3, 2, tzinfo=UTC))
    (compiled,) = version.steps
    for f in FIELDS:
        if f != "data_spec_names":  # bound specs, not names, are frozen (no specs exist here)
            assert getattr(compiled, f) == expected(levels, f), f
