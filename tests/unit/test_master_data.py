"""Master-data refusals over the fakes (DOMAIN.md §2), each checked to write nothing. The wire
(inputs, payloads, queries, compile and route versions on both databases) is
tests/api/test_master_data.py."""

from __future__ import annotations

from typing import Any

import pytest

from domain import master as dm
from domain.enums import AlarmAction, CollectionMethod, DataType, StationType
from domain.errors import DomainError, ErrorCode
from domain.usecases import master_data as md
from domain.usecases.bus import Command
from tests.builders import Factory
from tests.conftest import unique
from tests.fakes import FakeStore, fake_bus


def state(store: FakeStore) -> dict[str, Any]:
    """Every master-data table of the fakes: a refusal leaves all of them as they were."""
    return {
        "lines": dict(store.lines),
        "groups": dict(store.groups),
        "stations": dict(store.stations),
        "operations": dict(store.operations),
        "specs": dict(store.specs),
        "routings": dict(store.routings),
        "configs": dict(store.configs),
        "versions": list(store.versions),
    }


async def refused(f: Factory, store: FakeStore, cmd: Command, code: ErrorCode) -> DomainError:
    before = state(store)
    with pytest.raises(DomainError) as err:
        await f.do(cmd)
    assert err.value.code is code, (cmd, err.value)
    assert err.value.message
    assert state(store) == before, "a refusal wrote something"
    return err.value


def bus_factory() -> tuple[Factory, FakeStore]:
    bus, store = fake_bus()
    return Factory(bus), store


async def test_station_refusals_write_nothing() -> None:
    f, store = bus_factory()
    tag = unique("SR")
    await f.do(md.UpsertLine(dm.Line(f"{tag}-L", "L")))
    no_line = dm.Station(f"{tag}-S", "S", StationType.AUTO, f"{tag}-NOLINE")
    err = await refused(f, store, md.UpsertStation(no_line), ErrorCode.LINE_NOT_FOUND)
    assert err.details == {"key": f"{tag}-NOLINE"}
    no_group = dm.Station(f"{tag}-S", "S", StationType.AUTO, f"{tag}-L", f"{tag}-NOGROUP")
    await refused(f, store, md.UpsertStation(no_group), ErrorCode.STATION_GROUP_NOT_FOUND)
    assert f"{tag}-S" not in store.stations


async def test_operation_not_found_refusals() -> None:
    f, store = bus_factory()
    tag = unique("OR")
    spec = dm.DataCollectionSpec(f"{tag}-NOOP", "X", DataType.TEXT, CollectionMethod.AUTO)
    await refused(f, store, md.UpsertDataSpec(spec), ErrorCode.OPERATION_NOT_FOUND)
    routing = dm.Routing(f"{tag}-R", "R", steps=(dm.RoutingStep(10, f"{tag}-NOOP"),))
    err = await refused(f, store, md.UpsertRouting(routing), ErrorCode.OPERATION_NOT_FOUND)
    assert err.details == {"missing": [f"{tag}-NOOP"]}


async def test_execution_config_refusals() -> None:
    f, store = bus_factory()
    await f.master_data()
    await f.routing()
    c = f.code
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(c("R"), step_no=10, station_group_code=c("PRN-G"), max_attempts=2)
        )
    )
    await refused(
        f,
        store,
        md.SetExecutionConfig(dm.ExecutionConfig(f"{c('R')}-NONE", max_attempts=2)),
        ErrorCode.ROUTE_NOT_FOUND,
    )
    refusals: list[tuple[dict[str, Any], ErrorCode]] = [
        ({"operation_code": c("NOOP"), "max_attempts": 2}, ErrorCode.OPERATION_NOT_FOUND),
        ({"step_no": 99, "max_attempts": 2}, ErrorCode.VALIDATION_FAILED),  # no such step
        ({"step_no": 10, "operation_code": c("AOI")}, ErrorCode.VALIDATION_FAILED),  # two scopes
        ({"step_no": 10, "max_attempts": 0}, ErrorCode.VALIDATION_FAILED),
        ({"step_no": 10, "station_group_code": " PRN-G"}, ErrorCode.VALIDATION_FAILED),
        ({"step_no": 10, "allowed_station_codes": ("A", "")}, ErrorCode.VALIDATION_FAILED),
    ]
    for given, code in refusals:
        cmd = md.SetExecutionConfig(dm.ExecutionConfig(c("R"), **given))
        await refused(f, store, cmd, code)
    version = await f.do(md.CompileRouting(c("R")))  # the stored configs are unchanged
    assert version.steps[0].max_attempts == 2
    assert version.steps[0].station_group_code == c("PRN-G")


async def test_compile_of_an_unknown_routing() -> None:
    f, store = bus_factory()
    code = unique("NOR")
    err = await refused(f, store, md.CompileRouting(code), ErrorCode.ROUTE_NOT_FOUND)
    assert err.details == {"key": code}


@pytest.mark.parametrize(
    "cmd",
    [
        md.UpsertLine(dm.Line("L-1 ", "L")),
        md.UpsertLine(dm.Line("", "L")),
        md.UpsertLine(dm.Line("L" * 101, "L")),
        md.UpsertLine(dm.Line("L-2", "  ")),
        md.UpsertStationGroup(dm.StationGroup(" G-1", "G")),
        md.UpsertStation(dm.Station("S-1\t", "S", StationType.AUTO)),
        md.UpsertOperation(dm.Operation("O-1 ", "O", StationType.AUTO)),
        md.UpsertRouting(dm.Routing("R-1 ", "R")),
        md.UpsertRouting(dm.Routing("R-2", "R", source_system="")),
    ],
)
async def test_malformed_codes_are_validation_failures(cmd: Command) -> None:
    f, store = bus_factory()
    await refused(f, store, cmd, ErrorCode.VALIDATION_FAILED)


async def test_data_spec_validation_failures() -> None:
    f, store = bus_factory()
    op = unique("VS")
    await f.do(md.UpsertOperation(dm.Operation(op, "Op", StationType.AUTO)))
    n, a = DataType.NUMBER, CollectionMethod.AUTO
    bad = [
        dm.DataCollectionSpec(op, "Temp ", n, a),
        dm.DataCollectionSpec(op, "Temp", n, a, limits=dm.SpecLimits(5.0, 1.0)),
        dm.DataCollectionSpec(op, "Temp", n, a, alarm=dm.SpecAlarm(AlarmAction.HOLD, 5.0, 1.0)),
        dm.DataCollectionSpec(op, "Temp", DataType.TEXT, a, limits=dm.SpecLimits(1.0)),
        dm.DataCollectionSpec(op, "Temp", n, a, limits=dm.SpecLimits(unit="u" * 51)),
    ]
    for spec in bad:
        await refused(f, store, md.UpsertDataSpec(spec), ErrorCode.VALIDATION_FAILED)
    assert not [s for s in store.specs.values() if s.operation_code == op]
