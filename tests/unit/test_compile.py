"""Route compile and the execution-config merge, pure (DOMAIN.md §2): no database, no bus.

Each CompileCode has a test that provokes exactly it, on the step it names; a valid route
compiles READY with its specs copied; the merge takes step > operation > route > the
operation's default, field by field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import master as dm
from domain.compile import merge_config
from domain.enums import CollectionMethod, DataType, RouteVersionStatus, StationType, TriggerType
from domain.errors import CompileCode
from domain.routes import RouteVersion
from domain.usecases import master_data as md
from tests.compile_inputs import (
    GOOD_CONFIGS,
    OPERATIONS,
    REFLOW_MAPPING,
    SPECS,
    compiled,
    config,
    with_step,
)
from tests.fakes import fake_bus
from tests.ingest_builders import ACTOR, AOI_MAPPING

N, A, M = DataType.NUMBER, CollectionMethod.AUTO, CollectionMethod.MANUAL


def only_error(version: RouteVersion) -> tuple[int | None, str, str]:
    assert version.status is RouteVersionStatus.INVALID
    assert len(version.errors) == 1, version.errors
    e = version.errors[0]
    return e.step_no, e.code, e.message


# ------------------------------------------------------------------ READY


def test_a_valid_route_compiles_ready_with_its_specs_copied() -> None:
    version = compiled()
    assert version.status is RouteVersionStatus.READY and version.errors == ()
    assert [(s.step_no, s.station_type) for s in version.steps] == [
        (10, StationType.AUTO),
        (20, StationType.TEST),
        (30, StationType.MANUAL),
    ]
    aoi = version.steps[0]
    assert aoi.station_group_code == "AOI-G" and aoi.ingest_mapping == AOI_MAPPING
    assert [s.name for s in aoi.data_specs] == ["VoidRatio", "Snapshot", "OperatorNote"]
    assert aoi.data_specs[0].limits == dm.SpecLimits(0, 25, "%")
    assert version.route.code == "R" and version.version_no == 1


def test_a_version_does_not_change_when_its_inputs_do_later() -> None:
    specs = list(SPECS)
    mapping = dict(AOI_MAPPING)
    configs = with_step(10, ingest_mapping=mapping)
    version = compiled(specs=specs, configs=configs)
    before = version.steps[0]
    specs[0] = replace(specs[0], limits=dm.SpecLimits(0, 99, "%"))
    configs[0] = replace(configs[0], station_group_code="OVEN-G")
    mapping["snPath"] = "payload.other"
    mapping["dataSpecMap"] = {}
    assert version.steps[0].ingest_mapping is not mapping
    assert version.steps[0].ingest_mapping == AOI_MAPPING  # not the edited dict
    assert version.steps[0] == before
    assert version.steps[0].data_specs[0].limits == dm.SpecLimits(0, 25, "%")
    assert compiled(specs=specs).steps[0].data_specs[0].limits == dm.SpecLimits(0, 99, "%")


def test_steps_come_out_in_step_order_and_inactive_specs_are_left_out() -> None:
    specs = [replace(s, is_active=False) if s.name == "Snapshot" else s for s in SPECS]
    version = compiled(steps=((30, "PACK"), (10, "AOI"), (20, "ICT")), specs=specs)
    assert [s.step_no for s in version.steps] == [10, 20, 30]
    assert "Snapshot" not in [s.name for s in version.steps[0].data_specs]


# ------------------------------------------------------------------ one test per CompileCode


def test_routing_empty() -> None:
    assert only_error(compiled(steps=(), configs=[])) == (
        None,
        "ROUTING_EMPTY",
        "the routing has no steps",
    )


def test_duplicate_step_no() -> None:
    step, code, message = only_error(compiled(steps=((10, "AOI"), (10, "AOI"), (30, "PACK"))))
    assert (step, code) == (10, "DUPLICATE_STEP_NO") and "2 times" in message


def test_operation_not_found_with_a_station_type_given_by_config() -> None:
    configs = [
        *GOOD_CONFIGS,
        config(step_no=40, station_type=StationType.MANUAL, station_group_code="PACK-G"),
    ]
    step, code, message = only_error(compiled(steps=((40, "GHOST"),), configs=configs))
    assert (step, code) == (40, "OPERATION_NOT_FOUND") and "GHOST" in message


def test_station_type_missing_when_no_scope_and_no_operation_gives_one() -> None:
    version = compiled(steps=((40, "GHOST"),), configs=[])
    assert [(e.step_no, e.code) for e in version.errors] == [
        (40, "OPERATION_NOT_FOUND"),
        (40, "STATION_TYPE_MISSING"),
    ]
    assert version.steps == ()  # a step without a type cannot be built


def test_station_constraint_missing_on_a_manual_step() -> None:
    step, code, message = only_error(compiled(configs=with_step(30, station_group_code=None)))
    assert (step, code) == (30, "STATION_CONSTRAINT_MISSING") and "MANUAL" in message


def test_a_manual_step_with_allowed_stations_instead_of_a_group_is_fine() -> None:
    configs = with_step(30, station_group_code=None, allowed_station_codes=("PACK-1",))
    assert compiled(configs=configs).status is RouteVersionStatus.READY


@pytest.mark.parametrize(("step_no", "stype"), [(10, "AUTO"), (20, "TEST")])
def test_ingest_mapping_missing(step_no: int, stype: str) -> None:
    step, code, message = only_error(compiled(configs=with_step(step_no, ingest_mapping=None)))
    assert (step, code) == (step_no, "INGEST_MAPPING_MISSING") and stype in message


def test_ingest_mapping_missing_on_a_batch_step() -> None:
    configs = [config(step_no=10, station_group_code="OVEN-G")]
    step, code, _ = only_error(compiled(steps=((10, "REFLOW"),), configs=configs))
    assert (step, code) == (10, "INGEST_MAPPING_MISSING")


@pytest.mark.parametrize(
    "mapping",
    [
        {**AOI_MAPPING, "snPathh": "payload.sn"},  # an unknown key
        {k: v for k, v in AOI_MAPPING.items() if k != "snPath"},  # AUTO needs an SN path
        {**AOI_MAPPING, "result": "payload.judgement"},  # result must be an object
    ],
    ids=["unknown-key", "no-sn-path", "result-not-an-object"],
)
def test_ingest_mapping_invalid(mapping: dict[str, Any]) -> None:
    version = compiled(configs=with_step(10, ingest_mapping=mapping))
    assert version.status is RouteVersionStatus.INVALID
    assert {(e.step_no, e.code) for e in version.errors} == {(10, "INGEST_MAPPING_INVALID")}
    assert all(e.message.startswith("ingestMapping ") for e in version.errors)


def test_event_type_mismatch() -> None:
    mapping = {**AOI_MAPPING, "eventType": "TEST"}
    version = compiled(configs=with_step(10, ingest_mapping=mapping))
    codes = {(e.step_no, e.code) for e in version.errors}
    assert (10, "EVENT_TYPE_MISMATCH") in codes
    assert {c for _, c in codes} <= {"EVENT_TYPE_MISMATCH", "INGEST_MAPPING_INVALID"}
    mismatch = next(e for e in version.errors if e.code == "EVENT_TYPE_MISMATCH")
    assert "TEST" in mismatch.message and "AUTO" in mismatch.message


def test_station_not_found() -> None:
    configs = with_step(30, allowed_station_codes=("PACK-1", "PACK-404"))
    step, code, message = only_error(compiled(configs=configs))
    assert (step, code) == (30, "STATION_NOT_FOUND") and "PACK-404" in message


def test_station_group_not_found() -> None:
    step, code, message = only_error(compiled(configs=with_step(20, station_group_code="NOPE")))
    assert (step, code) == (20, "STATION_GROUP_NOT_FOUND") and "NOPE" in message


def test_data_spec_not_found_names_the_operation_it_belongs_to() -> None:
    mapping = {**AOI_MAPPING, "dataSpecMap": {}}
    configs = with_step(10, data_spec_names=("VoidRatio", "R1"), ingest_mapping=mapping)
    step, code, message = only_error(compiled(configs=configs))
    assert (step, code) == (10, "DATA_SPEC_NOT_FOUND")
    assert "'R1'" in message and "belongs to ICT" in message


def test_data_spec_not_found_when_inactive() -> None:
    specs = [replace(s, is_active=False) if s.name == "Weight" else s for s in SPECS]
    configs = with_step(30, data_spec_names=("Weight",))
    step, code, message = only_error(compiled(configs=configs, specs=specs))
    assert (step, code) == (30, "DATA_SPEC_NOT_FOUND") and "inactive" in message


def test_data_spec_map_invalid_for_a_spec_not_bound_to_the_step() -> None:
    configs = with_step(10, data_spec_names=("VoidRatio", "OperatorNote"))  # Snapshot unbound
    step, code, message = only_error(compiled(configs=configs))
    assert (step, code) == (10, "DATA_SPEC_MAP_INVALID") and "'Snapshot'" in message


def test_spec_trigger_invalid_each_carrier_off_a_batch_step() -> None:
    specs = [
        *SPECS,
        dm.DataCollectionSpec("AOI", "OvenZone", N, A, trigger_type=TriggerType.EACH_CARRIER),
    ]
    step, code, message = only_error(compiled(specs=specs))
    assert (step, code) == (10, "SPEC_TRIGGER_INVALID")
    assert "OvenZone" in message and "EACH_CARRIER" in message


def test_spec_trigger_invalid_required_unit_data_on_a_batch_step_without_units() -> None:
    specs = [*SPECS, dm.DataCollectionSpec("REFLOW", "BoardTemp", N, A, is_required=True)]
    configs = [config(step_no=10, station_group_code="OVEN-G", ingest_mapping=REFLOW_MAPPING)]
    step, code, message = only_error(
        compiled(steps=((10, "REFLOW"),), configs=configs, specs=specs)
    )
    assert (step, code) == (10, "SPEC_TRIGGER_INVALID") and "BoardTemp" in message


def test_a_batch_step_with_carrier_specs_compiles_ready() -> None:
    configs = [config(step_no=10, station_group_code="OVEN-G", ingest_mapping=REFLOW_MAPPING)]
    version = compiled(steps=((10, "REFLOW"),), configs=configs)
    assert version.status is RouteVersionStatus.READY, version.errors
    assert [s.trigger_type for s in version.steps[0].data_specs] == [TriggerType.EACH_CARRIER]


def test_every_compile_code_has_a_test_here() -> None:
    with open(__file__, encoding="utf-8") as f:
        source = f.read()
    untested = [
        c.value
        for c in CompileCode
        if f'"{c.value}"' not in source.replace("def test_every_compile_code_has_a_test_here", "")
    ]
    assert untested == []


def test_errors_of_several_steps_are_all_reported() -> None:
    configs = [
        *with_step(20, station_group_code="NOPE"),
    ]
    configs = [replace(c, ingest_mapping=None) if c.step_no == 10 else c for c in configs]
    version = compiled(configs=configs)
    assert [(e.step_no, e.code) for e in version.errors] == [
        (10, "INGEST_MAPPING_MISSING"),
        (20, "STATION_GROUP_NOT_FOUND"),
    ]


# ------------------------------------------------------------------ the merge


def test_merge_precedence_field_by_field() -> None:
    op = OPERATIONS["AOI"]
    configs = [
        config(station_group_code="ROUTE-G", requires_fai=True, max_attempts=5),
        config(operation_code="AOI", station_group_code="OP-G", max_attempts=3),
        config(step_no=10, max_attempts=2),
        config(step_no=20, station_type=StationType.MANUAL, max_attempts=9),  # another step
        config(operation_code="ICT", requires_authorization=True),  # another operation
    ]
    merged = merge_config(10, op, "AOI", configs)
    assert merged.max_attempts == 2  # step
    assert merged.station_group_code == "OP-G"  # operation over route
    assert merged.requires_fai is True  # only the route says it
    assert merged.requires_authorization is False  # the other operation's does not apply
    assert merged.station_type is StationType.AUTO  # the operation's default
    assert merge_config(10, op, "AOI", []).max_attempts == 1


LEVELS = ("step", "operation", "route")


@given(
    st.fixed_dictionaries({level: st.none() | st.integers(1, 100) for level in LEVELS}),
    st.fixed_dictionaries(
        {level: st.none() | st.sampled_from(list(StationType)) for level in LEVELS}
    ),
)
def test_the_most_specific_set_value_wins(
    attempts: dict[str, int | None], types: dict[str, StationType | None]
) -> None:
    configs = [
        config(step_no=10, max_attempts=attempts["step"], station_type=types["step"]),
        config(
            operation_code="AOI",
            max_attempts=attempts["operation"],
            station_type=types["operation"],
        ),
        config(max_attempts=attempts["route"], station_type=types["route"]),
    ]
    merged = merge_config(10, OPERATIONS["AOI"], "AOI", configs)
    expected_attempts = next((attempts[lv] for lv in LEVELS if attempts[lv] is not None), 1)
    expected_type = next((types[lv] for lv in LEVELS if types[lv] is not None), StationType.AUTO)
    assert (merged.max_attempts, merged.station_type) == (expected_attempts, expected_type)


def test_max_attempts_reaches_the_compiled_step() -> None:
    configs = [
        *GOOD_CONFIGS[:1],
        replace(GOOD_CONFIGS[1], max_attempts=3),
        GOOD_CONFIGS[2],
        config(max_attempts=2),
    ]
    version = compiled(configs=configs)
    assert [s.max_attempts for s in version.steps] == [2, 3, 2]


# ------------------------------------------------------------------ the use cases over fakes


async def test_compile_routing_through_the_bus_numbers_versions_and_reports_errors() -> None:
    bus, _ = fake_bus()

    async def do(cmd: Any) -> Any:
        return await bus.handle(cmd, ACTOR)

    await do(md.UpsertLine(dm.Line("L", "Line")))
    for group in ("AOI-G", "ICT-G", "PACK-G"):
        await do(md.UpsertStationGroup(dm.StationGroup(group, group)))
    for operation in OPERATIONS.values():
        await do(md.UpsertOperation(operation))
    for spec in SPECS:
        await do(md.UpsertDataSpec(spec))
    steps = tuple(dm.RoutingStep(n, op) for n, op in ((10, "AOI"), (20, "ICT"), (30, "PACK")))
    await do(md.UpsertRouting(dm.Routing("R", "Route", steps=steps)))
    for cfg in GOOD_CONFIGS[:2]:
        await do(md.SetExecutionConfig(cfg))
    first = await do(md.CompileRouting("R"))
    assert (first.version_no, first.status) == (1, RouteVersionStatus.INVALID)
    assert [(e.step_no, e.code) for e in first.errors] == [(30, "STATION_CONSTRAINT_MISSING")]
    await do(md.SetExecutionConfig(GOOD_CONFIGS[2]))
    second = await do(md.CompileRouting("R"))
    assert (second.version_no, second.status) == (2, RouteVersionStatus.READY)
    # a config set afterwards reaches the next compile only
    await do(md.SetExecutionConfig(replace(GOOD_CONFIGS[0], max_attempts=4)))
    third = await do(md.CompileRouting("R"))
    assert (second.steps[0].max_attempts, third.steps[0].max_attempts) == (1, 4)
    assert third.version_no == 3
