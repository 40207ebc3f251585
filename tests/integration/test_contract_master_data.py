"""The repository contract of master data, route versions and transactions: run against the fake
and both SQL units of work (the `impl` fixture, tests/integration/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters import tables as t
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
    Routing,
    RoutingStep,
    SpecAlarm,
    SpecLimits,
    Station,
    StationGroup,
)
from tests.conftest import unique
from tests.repository_data import (
    AT,
    Implementation,
    a_version,
    assert_utc,
    master_data,
)


async def test_line_group_station_operation_round_trip_and_upsert_in_place(
    impl: Implementation,
) -> None:
    uow = impl.new_uow
    tag = unique("RM")
    line = Line(f"{tag}-L", "Line 1")
    group = StationGroup(f"{tag}-G", "Printers")
    station = Station(f"{tag}-S", "Printer 1", StationType.MANUAL, line.code, group.code)
    bare = Station(f"{tag}-S2", "Loose", StationType.TEST)
    operation = Operation(f"{tag}-OP", "Print", StationType.BATCH)
    for _ in range(2):  # the same input twice: one row each
        async with uow() as u:
            await u.lines.upsert(line)
            await u.station_groups.upsert(group)
            await u.stations.upsert(station)
            await u.stations.upsert(bare)
            await u.operations.upsert(operation)
            await u.commit()
    async with uow() as u:
        assert await u.lines.get(line.code) == line
        assert await u.station_groups.get(group.code) == group
        assert await u.stations.get(station.code) == station
        assert await u.stations.get(bare.code) == bare
        assert await u.operations.get(operation.code) == operation
        assert await u.operations.get_many([operation.code, f"{tag}-NONE"]) == {
            operation.code: operation
        }
        assert await u.stations.existing_codes([station.code, f"{tag}-NONE"]) == {station.code}
        assert await u.station_groups.existing_codes([group.code, "x"]) == {group.code}
        assert await u.lines.get(f"{tag}-NONE") is None
    await impl.assert_rows(1, t.line, t.line.c.code == line.code)
    await impl.assert_rows(2, t.station, t.station.c.code.like(f"{tag}-%"))
    await impl.assert_rows(1, t.operation, t.operation.c.code == operation.code)

    # an upsert of a known code changes it in place
    async with uow() as u:
        await u.lines.upsert(Line(line.code, "Line 1 renamed"))
        await u.stations.upsert(replace(station, group_code=None, station_type=StationType.AUTO))
        await u.operations.upsert(replace(operation, name="Paste print"))
        await u.commit()
    async with uow() as u:
        assert await u.lines.get(line.code) == Line(line.code, "Line 1 renamed")
        assert await u.stations.get(station.code) == replace(
            station, group_code=None, station_type=StationType.AUTO
        )
        assert (await u.operations.get(operation.code)) == replace(operation, name="Paste print")
    await impl.assert_rows(1, t.line, t.line.c.code == line.code)


async def test_a_station_is_found_by_its_cfx_handle(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("RH")
    station = Station(f"{tag}-S", "SPI 1", StationType.AUTO, cfx_handle=f"{tag}.SPI.Machine01")
    async with uow() as u:
        await u.stations.upsert(station)
        await u.stations.upsert(Station(f"{tag}-S2", "No handle", StationType.AUTO))
        await u.commit()
    async with uow() as u:
        assert await u.stations.get(station.code) == station
        assert await u.stations.get_by_handle(f"{tag}.SPI.Machine01") == station
        assert await u.stations.get_by_handle(station.code) is None
        assert await u.stations.get_by_handle(f"{tag}.NONE") is None
    # the handle changes in place, and can be taken away
    async with uow() as u:
        await u.stations.upsert(replace(station, cfx_handle=f"{tag}.SPI.Machine09"))
        await u.commit()
    async with uow() as u:
        assert await u.stations.get_by_handle(f"{tag}.SPI.Machine01") is None
        assert (await u.stations.get_by_handle(f"{tag}.SPI.Machine09")) == replace(
            station, cfx_handle=f"{tag}.SPI.Machine09"
        )
        await u.stations.upsert(replace(station, cfx_handle=None))
        await u.commit()
    async with uow() as u:
        assert await u.stations.get_by_handle(f"{tag}.SPI.Machine09") is None


async def test_a_locked_handle_is_claimed_after_a_rollback_and_again_by_its_holder(
    impl: Implementation,
) -> None:
    """`lock_handle` (upsertStation locks it before the check) lives in a transaction,
    committed or rolled back, and the next claim of the handle locks it again. Waiting for a
    concurrent holder is proven in tests/integration/test_station_races.py (PostgreSQL)."""
    uow = impl.new_uow
    tag = unique("RL")
    handle = f"{tag}.AOI.Machine01"
    first, second = (
        Station(f"{tag}-{code}", "AOI", StationType.AUTO, cfx_handle=handle)
        for code in ("S1", "S2")
    )
    async with uow() as u:
        await u.stations.lock_handle(handle)
        await u.stations.upsert(first)
        await u.rollback()
    for _ in range(2):  # free after the rollback, then its holder's own
        async with uow() as u:
            await u.stations.lock_handle(handle)
            assert await u.stations.get_by_handle(handle) in (None, second)
            await u.stations.upsert(second)
            await u.commit()
    async with uow() as u:
        assert await u.stations.get(first.code) is None
        assert await u.stations.get_by_handle(handle) == second


async def test_data_specs_round_trip_with_and_without_limits_and_alarm(
    impl: Implementation,
) -> None:
    uow = impl.new_uow
    tag = unique("RS")
    await master_data(uow, tag)
    op = f"{tag}-OP1"
    full = DataCollectionSpec(
        op,
        "Temp",
        DataType.NUMBER,
        CollectionMethod.AUTO,
        item_type=SpecItemType.KEY,
        trigger_type=TriggerType.EACH_CARRIER,
        is_required=True,
        is_active=False,
        limits=SpecLimits(-5.5, 250.25, "C"),
        alarm=SpecAlarm(AlarmAction.HOLD, -10.0, 260.0),
    )
    unit_only = DataCollectionSpec(
        op, "Width", DataType.NUMBER, CollectionMethod.MANUAL, limits=SpecLimits(unit="mm")
    )
    half_alarm = DataCollectionSpec(
        op,
        "Voids",
        DataType.NUMBER,
        CollectionMethod.AUTO,
        limits=SpecLimits(max=25.0),
        alarm=SpecAlarm(AlarmAction.ALARM_ONLY, min=None, max=30.0),
    )
    plain = DataCollectionSpec(f"{tag}-OP2", "Note", DataType.TEXT, CollectionMethod.MANUAL)
    stored: dict[str, DataCollectionSpec] = {}
    async with uow() as u:
        for spec in (full, unit_only, half_alarm, plain):
            saved = await u.data_specs.upsert(spec)
            assert saved.id is not None
            assert replace(saved, id=None) == spec
            stored[spec.name] = saved
        await u.commit()
    async with uow() as u:
        again = await u.data_specs.upsert(full)  # same key: same row, same id
        await u.commit()
    assert again == stored["Temp"]
    await impl.assert_rows(3, t.data_spec, t.data_spec.c.operation_code == op)

    async with uow() as u:
        specs = await u.data_specs.for_operations([op, f"{tag}-OP2"])
        named = await u.data_specs.with_names(["Width"])
    assert specs == [stored["Temp"], stored["Width"], stored["Voids"], stored["Note"]]
    assert stored["Width"] in named
    # limits that carry only a unit stay limits (not None): the unit is the spec's unit
    width = next(s for s in specs if s.name == "Width")
    assert width.limits == SpecLimits(None, None, "mm")
    assert width.alarm is None
    assert next(s for s in specs if s.name == "Note").limits is None

    async with uow() as u:  # an update can drop limits and alarm again
        dropped = await u.data_specs.upsert(replace(full, limits=None, alarm=None, is_active=True))
        await u.commit()
    assert (dropped.limits, dropped.alarm, dropped.is_active, dropped.id) == (
        None,
        None,
        True,
        stored["Temp"].id,
    )


async def test_routing_keeps_steps_in_the_order_sent_with_repeated_step_nos(
    impl: Implementation,
) -> None:
    uow = impl.new_uow
    tag = unique("RR")
    await master_data(uow, tag)
    op1, op2 = f"{tag}-OP1", f"{tag}-OP2"
    routing = Routing(
        f"{tag}-ROUTE",
        "Main route",
        source_system="ERP",
        source_key="SAP-4711",
        product_code="PCB-9",
        is_active=False,
        steps=(RoutingStep(30, op2), RoutingStep(10, op1), RoutingStep(30, op1)),
    )
    for _ in range(2):
        async with uow() as u:
            await u.routings.upsert(routing)
            await u.commit()
    async with uow() as u:
        assert await u.routings.get(routing.code) == routing
        assert await u.routings.get(routing.code, for_update=True) == routing
        assert await u.routings.get(f"{tag}-NONE") is None
    await impl.assert_rows(1, t.routing, t.routing.c.code == routing.code)
    await impl.assert_rows(3, t.routing_step, t.routing_step.c.routing_code == routing.code)

    shorter = replace(routing, name="Short", steps=(RoutingStep(5, op2),))
    async with uow() as u:
        await u.routings.upsert(shorter)
        await u.commit()
    async with uow() as u:
        assert await u.routings.get(routing.code) == shorter
    await impl.assert_rows(1, t.routing_step, t.routing_step.c.routing_code == routing.code)


async def test_execution_configs_one_record_per_scope(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("RC")
    await master_data(uow, tag)
    code = f"{tag}-R"
    route = ExecutionConfig(code, requires_fai=True, max_attempts=2)
    operation = ExecutionConfig(
        code,
        operation_code=f"{tag}-OP1",
        station_type=StationType.MANUAL,
        station_group_code=f"{tag}-G",
        allowed_station_codes=(),
        data_spec_names=(),
    )
    step = ExecutionConfig(
        code,
        step_no=10,
        station_type=StationType.AUTO,
        allowed_station_codes=("S-1", "S-2"),
        requires_authorization=False,
        data_spec_names=("Temp", "Voids"),
        ingest_mapping={
            "eventType": "AUTO",
            "snPath": "payload.sn",
            "result": {"path": "payload.r", "passValues": ["OK", 1], "failValues": []},
            "measurements": {"itemsPath": "payload.m[*]", "namePath": "n", "valuePath": "v"},
            "dataSpecMap": {"T": "Temp"},
        },
        max_attempts=3,
    )
    async with uow() as u:
        for cfg in (step, route, operation):
            await u.execution_configs.put(cfg)
        await u.commit()
    async with uow() as u:
        found = await u.execution_configs.for_routing(code)
    assert sorted(found, key=repr) == sorted([route, operation, step], key=repr)
    by_scope = {c.scope: c for c in found}
    # [] and None differ: [] binds nothing / no restriction, None inherits
    assert by_scope["OPERATION"].data_spec_names == ()
    assert by_scope["ROUTE"].data_spec_names is None
    assert by_scope["STEP"].allowed_station_codes == ("S-1", "S-2")

    # setExecutionConfig replaces the record of its scope: omitted fields are gone
    async with uow() as u:
        await u.execution_configs.put(ExecutionConfig(code, step_no=10, max_attempts=5))
        await u.commit()
    async with uow() as u:
        found = await u.execution_configs.for_routing(code)
    assert len(found) == 3
    assert {c.scope: c for c in found}["STEP"] == ExecutionConfig(code, step_no=10, max_attempts=5)


async def test_route_version_snapshot_round_trips(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("RV")
    await master_data(uow, tag)
    code = f"{tag}-R"
    ready = a_version(code, 1, RouteVersionStatus.READY)
    invalid = a_version(code, 2, RouteVersionStatus.INVALID)
    async with uow() as u:
        assert await u.route_versions.max_version_no(code) == 0
        assert await u.route_versions.latest_ready(code) is None
        saved_ready = await u.route_versions.add(ready)
        saved_invalid = await u.route_versions.add(invalid)
        await u.commit()
    assert saved_ready.id is not None and saved_invalid.id is not None
    assert replace(saved_ready, id=None) == ready
    async with uow() as u:
        by_id = await u.route_versions.get_by_id(saved_ready.id)
        many = await u.route_versions.get_many([saved_ready.id, saved_invalid.id, -1])
        latest = await u.route_versions.latest_ready(code)
        assert await u.route_versions.max_version_no(code) == 2
    assert by_id == saved_ready
    assert by_id is not None and by_id.steps[1].ingest_mapping == ready.steps[1].ingest_mapping
    assert by_id.steps[0].data_specs[1].limits == SpecLimits(None, None, "mm")
    assert by_id.compiled_at == AT
    if impl.engine is not None:  # stored as UTC; the fake keeps the instant as given
        assert_utc(by_id.compiled_at, AT)
    assert many == {saved_ready.id: saved_ready, saved_invalid.id: saved_invalid}
    assert many[saved_invalid.id].errors == invalid.errors
    assert latest == saved_ready  # the INVALID version 2 is not READY


async def test_leaving_without_commit_writes_nothing(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("RN")
    async with uow() as u:
        await u.lines.upsert(Line(f"{tag}-L", "Line"))
        await u.operations.upsert(Operation(f"{tag}-OP", "Op", StationType.AUTO))
        assert await u.lines.get(f"{tag}-L") is not None  # visible inside its own transaction
    with pytest.raises(RuntimeError):
        async with uow() as u:
            await u.lines.upsert(Line(f"{tag}-L2", "Line"))
            raise RuntimeError("boom")
    async with uow() as u:
        await u.lines.upsert(Line(f"{tag}-L3", "Line"))
        await u.rollback()
    async with uow() as u:
        for code in ("L", "L2", "L3"):
            assert await u.lines.get(f"{tag}-{code}") is None
        assert await u.operations.get(f"{tag}-OP") is None
    await impl.assert_rows(0, t.line, t.line.c.code.like(f"{tag}-%"))
    await impl.assert_rows(0, t.operation, t.operation.c.code.like(f"{tag}-%"))


async def test_committed_work_is_visible_to_the_next_unit_of_work(impl: Implementation) -> None:
    uow = impl.new_uow
    code = unique("RK")
    async with uow() as u:
        await u.lines.upsert(Line(code, "Line"))
        await u.commit()
    async with uow() as u:
        assert await u.lines.get(code) == Line(code, "Line")
