"""CompileRouting and SetExecutionConfig through the message bus over the fakes (no database):
versions READY or INVALID, their numbering, and what a config change does to the next compile."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain import master as dm
from domain.enums import (
    AuditOutcome,
    CollectionMethod,
    DataType,
    RouteVersionStatus,
    StationType,
)
from domain.errors import CompileCode, DomainError, ErrorCode
from domain.routes import RouteVersion
from domain.usecases import master_data as md
from tests.builders import AUTO_MAPPING, Factory
from tests.fakes import FakeStore, fake_bus


async def factory() -> tuple[Factory, FakeStore]:
    """Master data and routing {tag}-R (10 PRINT MANUAL, 20 AOI AUTO), not compiled yet."""
    bus, store = fake_bus()
    f = Factory(bus)
    await f.master_data()
    await f.routing(compile_it=False)
    return f, store


async def compile_(f: Factory) -> RouteVersion:
    version: RouteVersion = await f.do(md.CompileRouting(f.code("R")))
    return version


async def config(f: Factory, **kw: Any) -> None:
    await f.do(md.SetExecutionConfig(dm.ExecutionConfig(f.code("R"), **kw)))


async def test_compile_makes_a_ready_version_and_stores_it() -> None:
    f, store = await factory()
    version = await compile_(f)
    assert (version.status, version.version_no, version.errors) == (
        RouteVersionStatus.READY,
        1,
        (),
    )
    assert version.id is not None and store.versions == [version]
    print_step, aoi_step = version.steps
    assert (print_step.step_no, print_step.station_type) == (10, StationType.MANUAL)
    assert print_step.station_group_code == f.code("PRN-G")
    assert [(d.name, d.limits) for d in print_step.data_specs] == [
        ("Pressure", dm.SpecLimits(4.0, 8.0, "kg"))
    ]
    assert (aoi_step.station_type, aoi_step.ingest_mapping) == (StationType.AUTO, AUTO_MAPPING)
    audit = store.audit[-1]
    assert (audit.action, audit.entity_key, audit.outcome) == (
        "compileRouting",
        f.code("R"),
        AuditOutcome.OK,
    )


async def test_an_invalid_routing_makes_an_invalid_version_with_its_errors() -> None:
    f, store = await factory()
    await config(f, step_no=10)  # the printer step loses its station group
    await config(f, step_no=20, station_group_code=f.code("AOI-G"), ingest_mapping=None)
    version = await compile_(f)
    assert version.status is RouteVersionStatus.INVALID
    assert [(e.step_no, e.code) for e in version.errors] == [
        (10, CompileCode.STATION_CONSTRAINT_MISSING.value),
        (20, CompileCode.INGEST_MAPPING_MISSING.value),
    ]
    assert all(e.message for e in version.errors)
    assert store.versions == [version]  # stored, so the engineer can read the errors
    async with f.bus.uow_factory() as uow:
        assert await uow.route_versions.latest_ready(f.code("R")) is None


async def test_version_numbers_grow_by_one_per_compile_ready_or_not() -> None:
    f, store = await factory()
    first = await compile_(f)
    await config(f, step_no=10)
    second = await compile_(f)
    await config(f, step_no=10, station_group_code=f.code("PRN-G"))
    third = await compile_(f)
    assert [(v.version_no, v.status) for v in (first, second, third)] == [
        (1, RouteVersionStatus.READY),
        (2, RouteVersionStatus.INVALID),
        (3, RouteVersionStatus.READY),
    ]
    # the numbers count per routing
    other = replace(store.routings[f.code("R")], code=f.code("R2"))
    await f.do(md.UpsertRouting(other))
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(f.code("R2"), step_no=10, station_group_code=f.code("PRN-G"))
        )
    )
    assert (await f.do(md.CompileRouting(f.code("R2")))).version_no == 1
    assert (await compile_(f)).version_no == 4
    async with f.bus.uow_factory() as uow:
        latest = await uow.route_versions.latest_ready(f.code("R"))
        assert latest is not None and latest.version_no == 4


async def test_compile_of_an_unknown_routing_is_route_not_found_and_stores_nothing() -> None:
    f, store = await factory()
    with pytest.raises(DomainError) as refused:
        await f.do(md.CompileRouting(f.code("NOPE")))
    assert refused.value.code is ErrorCode.ROUTE_NOT_FOUND
    assert store.versions == []
    assert (store.audit[-1].outcome, store.audit[-1].error_code) == (
        AuditOutcome.REFUSED,
        "ROUTE_NOT_FOUND",
    )


async def test_a_spec_edit_after_compile_reaches_the_next_version_only() -> None:
    f, store = await factory()
    v1 = await compile_(f)
    pressure = dm.DataCollectionSpec(
        f.code("PRINT"),
        "Pressure",
        DataType.NUMBER,
        CollectionMethod.MANUAL,
        limits=dm.SpecLimits(5.0, 6.0, "bar"),
    )
    await f.do(md.UpsertDataSpec(pressure))
    v2 = await compile_(f)
    assert v1.steps[0].data_specs[0].limits == dm.SpecLimits(4.0, 8.0, "kg")
    assert store.versions[0] == v1  # the stored version is untouched
    assert v2.steps[0].data_specs[0].limits == dm.SpecLimits(5.0, 6.0, "bar")


async def test_set_execution_config_changes_the_next_compile_scope_by_scope() -> None:
    f, _ = await factory()
    c = f.code
    assert [s.max_attempts for s in (await compile_(f)).steps] == [1, 1]
    await config(f, max_attempts=2, requires_fai=True)  # route scope
    assert [(s.max_attempts, s.requires_fai) for s in (await compile_(f)).steps] == [
        (2, True),
        (2, True),
    ]
    await config(f, operation_code=c("AOI"), max_attempts=3)
    assert [s.max_attempts for s in (await compile_(f)).steps] == [2, 3]
    await config(
        f,
        step_no=20,
        station_group_code=c("AOI-G"),
        ingest_mapping=AUTO_MAPPING,
        max_attempts=5,
        requires_fai=False,
    )
    latest = await compile_(f)
    assert [(s.max_attempts, s.requires_fai) for s in latest.steps] == [(2, True), (5, False)]
    # setExecutionConfig replaces its scope's record: omitted fields inherit again
    await config(f, step_no=20, station_group_code=c("AOI-G"), ingest_mapping=AUTO_MAPPING)
    again = await compile_(f)
    assert [(s.max_attempts, s.requires_fai) for s in again.steps] == [(2, True), (3, True)]
    assert [v.version_no for v in (latest, again)] == [4, 5]
    assert latest.steps[1].max_attempts == 5  # an earlier version never changes


async def test_a_station_type_set_at_the_route_scope_reaches_every_step() -> None:
    f, _ = await factory()
    await config(f, station_type=StationType.MANUAL)
    version = await compile_(f)
    # AOI is MANUAL now: its group is a station constraint and its mapping is not checked
    assert version.is_ready, version.errors
    assert [s.station_type for s in version.steps] == [StationType.MANUAL, StationType.MANUAL]


async def test_compile_checks_stations_groups_and_specs_against_the_store() -> None:
    f, _ = await factory()
    c = f.code
    await config(
        f,
        step_no=10,
        station_group_code=c("GHOST-G"),
        allowed_station_codes=(c("PRN-1"), c("GHOST")),
        data_spec_names=("Pressure", "VoidRatio"),
    )
    version = await compile_(f)
    errors = {(e.step_no, e.code): e.message for e in version.errors}
    assert sorted(errors) == [
        (10, CompileCode.DATA_SPEC_NOT_FOUND.value),
        (10, CompileCode.STATION_GROUP_NOT_FOUND.value),
        (10, CompileCode.STATION_NOT_FOUND.value),
    ]
    assert c("GHOST") in errors[(10, "STATION_NOT_FOUND")]
    # the use case loads specs of other operations too, so the message can say where it is
    assert f"belongs to {c('AOI')}" in errors[(10, "DATA_SPEC_NOT_FOUND")]
