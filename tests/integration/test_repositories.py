"""Round trips through SqlUnitOfWork: every repository writes what it reads, on both databases.

Each read happens in a new unit of work (with a new route version cache), so it comes from the
database, not from memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from adapters.uow import SqlUnitOfWork
from domain.enums import (
    AlarmAction,
    AuditOutcome,
    CollectionMethod,
    DataType,
    IngestEventType,
    Judge,
    RouteVersionStatus,
    RunStatus,
    SpecItemType,
    StationType,
    TrackFlag,
    TrackResult,
    TrackSource,
    TriggerType,
    UnitStatus,
    WorkOrderStatus,
)
from domain.errors import ErrorCode
from domain.execution import (
    CarrierLoad,
    CarrierTrack,
    DataValue,
    DeviceDataRecord,
    IngestEvent,
    IngestRejection,
    ModuleCount,
    ProductionCountRecord,
    Track,
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
from domain.production import AuditEvent, Run, Unit, WorkOrder
from tests.conftest import unique
from tests.repository_data import AT, NewUow, a_version, master_data

LATER = AT + timedelta(minutes=5)


@pytest.fixture
def uow(engine: AsyncEngine) -> NewUow:
    return lambda: SqlUnitOfWork(engine)


def assert_utc(value: datetime | None, expected: datetime) -> None:
    assert value is not None
    assert value == expected
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    assert value.replace(tzinfo=None) == expected.astimezone(UTC).replace(tzinfo=None)


async def count(engine: AsyncEngine, table: t.Table, *where: Any) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(stmt)).scalar_one())


# ---------------------------------------------------------------- master data


async def test_line_group_station_operation_round_trip_and_upsert_in_place(
    uow: NewUow, engine: AsyncEngine
) -> None:
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
    assert await count(engine, t.line, t.line.c.code == line.code) == 1
    assert await count(engine, t.station, t.station.c.code.like(f"{tag}-%")) == 2
    assert await count(engine, t.operation, t.operation.c.code == operation.code) == 1

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
    assert await count(engine, t.line, t.line.c.code == line.code) == 1


async def test_data_specs_round_trip_with_and_without_limits_and_alarm(
    uow: NewUow, engine: AsyncEngine
) -> None:
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
    assert await count(engine, t.data_spec, t.data_spec.c.operation_code == op) == 3

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
    uow: NewUow, engine: AsyncEngine
) -> None:
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
    assert await count(engine, t.routing, t.routing.c.code == routing.code) == 1
    assert await count(engine, t.routing_step, t.routing_step.c.routing_code == routing.code) == 3

    shorter = replace(routing, name="Short", steps=(RoutingStep(5, op2),))
    async with uow() as u:
        await u.routings.upsert(shorter)
        await u.commit()
    async with uow() as u:
        assert await u.routings.get(routing.code) == shorter
    assert await count(engine, t.routing_step, t.routing_step.c.routing_code == routing.code) == 1


async def test_execution_configs_one_record_per_scope(uow: NewUow) -> None:
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


async def test_route_version_snapshot_round_trips(uow: NewUow) -> None:
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
    assert_utc(by_id.compiled_at, AT)
    assert many == {saved_ready.id: saved_ready, saved_invalid.id: saved_invalid}
    assert many[saved_invalid.id].errors == invalid.errors
    assert latest == saved_ready  # the INVALID version 2 is not READY


# ---------------------------------------------------------------- production


async def test_work_order_run_and_units_round_trip_in_utc(uow: NewUow, engine: AsyncEngine) -> None:
    tag = unique("RP")
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.commit()
    assert version.id is not None
    wo = WorkOrder(f"{tag}-WO", "PCB-9", 40, routing_code=f"{tag}-R", due_date=AT)
    no_due = WorkOrder(f"{tag}-WO2", "PCB-9", 1)
    run = Run(
        run_no=f"{tag}-RUN",
        wo_no=wo.wo_no,
        status=RunStatus.PREP,
        plan_qty=20,
        route_version_id=version.id,
        line_code=f"{tag}-L",
        shift_code="NIGHT",
        created_at=AT,
    )
    units = [
        Unit(f"{tag}-SN-{i}", wo.wo_no, run.run_no, UnitStatus.QUEUED, 10, created_at=AT)
        for i in range(3)
    ]
    async with uow() as u:
        await u.work_orders.add(wo)
        await u.work_orders.add(no_due)
        await u.runs.add(run)
        await u.units.add_many(units)
        await u.commit()

    async with uow() as u:
        got_wo = await u.work_orders.get(wo.wo_no)
        assert got_wo == wo
        assert await u.work_orders.get(no_due.wo_no, for_update=True) == no_due
        got_run = await u.runs.get(run.run_no)
        assert got_run == run
        assert await u.runs.count_for_work_order(wo.wo_no) == 1
        assert await u.runs.statuses_for_work_order(wo.wo_no) == {run.run_no: RunStatus.PREP}
        assert version.id in await u.runs.unfinished_versions()
        got_units = await u.units.get_many([x.sn for x in units] + [f"{tag}-NONE"])
    assert got_wo is not None and got_run is not None
    assert_utc(got_wo.due_date, AT)
    assert_utc(got_run.created_at, AT)
    assert [replace(x, id=None) for x in got_units] == units
    for x in got_units:
        assert_utc(x.created_at, AT)

    first = got_units[0]
    assert first.id is not None
    async with uow() as u:
        assert await u.units.get(first.sn, for_update=True) == first
        assert await u.units.get_by_id(first.id) == first
        assert await u.units.get_many_by_id([x.id or 0 for x in got_units]) == got_units
        assert await u.units.existing_sns([first.sn, f"{tag}-NONE"]) == [first.sn]
        moved = replace(first, status=UnitStatus.ON_HOLD, current_step_no=20, step_fails=2)
        moved = replace(moved, held_from=UnitStatus.QUEUED)
        await u.units.update_many([moved])
        await u.work_orders.update(replace(wo, status=WorkOrderStatus.IN_PROGRESS, due_date=None))
        await u.runs.update(replace(run, status=RunStatus.AUTHORIZED))
        assert (
            await u.runs.set_status_if(run.run_no, RunStatus.PREP, RunStatus.IN_PROGRESS) is False
        )
        assert await u.runs.set_status_if(run.run_no, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS)
        await u.commit()
    async with uow() as u:
        assert await u.units.get(first.sn) == moved
        assert await u.units.status_counts(run.run_no) == {
            UnitStatus.ON_HOLD: 1,
            UnitStatus.QUEUED: 2,
        }
        assert await u.units.count_for_work_order(wo.wo_no, (UnitStatus.QUEUED,)) == 2
        both = (UnitStatus.QUEUED, UnitStatus.ON_HOLD)
        assert await u.units.count_for_work_order(wo.wo_no, both) == 3
        assert await u.units.count_for_work_order(no_due.wo_no, both) == 0
        # the serial number counter: per prefix, blocks one after the other
        assert await u.units.next_sn_numbers(f"{tag}-P-", 3) == 1
        assert await u.units.next_sn_numbers(f"{tag}-P-", 2) == 4
        assert await u.units.next_sn_numbers(f"{tag}-Q-", 1) == 1
        await u.commit()
    async with uow() as u:  # committed; a rolled-back take is given again
        assert await u.units.next_sn_numbers(f"{tag}-P-", 1) == 6
    async with uow() as u:
        assert await u.units.next_sn_numbers(f"{tag}-P-", 1) == 6
        assert await u.work_orders.get(wo.wo_no) == replace(
            wo, status=WorkOrderStatus.IN_PROGRESS, due_date=None
        )
        assert await u.runs.get(run.run_no) == replace(run, status=RunStatus.IN_PROGRESS)
    assert await count(engine, t.unit, t.unit.c.run_no == run.run_no) == 3


async def test_audit_event_round_trips(uow: NewUow, engine: AsyncEngine) -> None:
    request_id = unique("REQ")
    refused = AuditEvent(
        at=AT,
        actor="gateway-7",
        request_id=request_id,
        action="createRun",
        entity_type="Run",
        entity_key="RUN-1",
        outcome=AuditOutcome.REFUSED,
        error_code="LINE_NOT_FOUND",
        details={"message": "line 'X' not found", "details": {"key": "X", "n": [1, 2.5, None]}},
    )
    ok = AuditEvent(
        at=LATER,
        actor="anonymous",
        request_id=request_id,
        action="upsertLine",
        entity_type="Line",
        entity_key=None,
        outcome=AuditOutcome.OK,
    )
    async with uow() as u:
        await u.audit.add(refused)
        await u.audit.add(ok)
        await u.commit()
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(t.audit_event)
                .where(t.audit_event.c.request_id == request_id)
                .order_by(t.audit_event.c.id)
            )
        ).all()
    events = [rows.audit_from_row(r) for r in found]
    assert [replace(e, id=None) for e in events] == [refused, ok]
    assert_utc(events[0].at, AT)


# ---------------------------------------------------------------- the unit of work


async def test_leaving_without_commit_writes_nothing(uow: NewUow, engine: AsyncEngine) -> None:
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
    assert await count(engine, t.line, t.line.c.code.like(f"{tag}-%")) == 0
    assert await count(engine, t.operation, t.operation.c.code.like(f"{tag}-%")) == 0


async def test_committed_work_is_visible_to_the_next_unit_of_work(uow: NewUow) -> None:
    code = unique("RK")
    async with uow() as u:
        await u.lines.upsert(Line(code, "Line"))
        await u.commit()
    async with uow() as u:
        assert await u.lines.get(code) == Line(code, "Line")


# ---------------------------------------------------------------- execution records


async def test_execution_records_round_trip(uow: NewUow, engine: AsyncEngine) -> None:
    """Ingest events, tracks, data values, rejections, carriers, device data and counts."""
    tag = unique("RX")
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", 2, WorkOrderStatus.IN_PROGRESS))
        await u.runs.add(
            Run(f"{tag}-RUN", f"{tag}-WO", RunStatus.IN_PROGRESS, 2, version.id or 0, created_at=AT)
        )
        await u.units.add_many(
            [
                Unit(f"{tag}-SN{i}", f"{tag}-WO", f"{tag}-RUN", UnitStatus.QUEUED, 10, AT)
                for i in (1, 2)
            ]
        )
        await u.commit()
    async with uow() as u:
        u1, u2 = await u.units.get_many([f"{tag}-SN1", f"{tag}-SN2"])
    assert u1.id is not None and u2.id is not None

    event = IngestEvent(
        source_system=f"{tag}-EQP",
        dedupe_key="k-1",
        input_hash="a" * 64,
        event_type=IngestEventType.BATCH,
        occurred_at=AT,
        received_at=LATER,
        payload={"sn": [u1.sn, u2.sn], "nested": {"x": [1, 2.5, True, None, "ü"]}},
        run_no=f"{tag}-RUN",
        step_no=20,
        station_code="OVEN-1",
        line_code=f"{tag}-L",
        sn=None,
        sn_list=(u1.sn, u2.sn),
        carrier_code="TRAY-1",
        test_result_id="TR-9",
        result=TrackResult.FAIL,
        normalized={"keyFailures": [], "unmapped": ["z"]},
        meta={"gateway": "v2"},
    )
    async with uow() as u:
        await u.ingest_events.lock_key(event.source_system, event.dedupe_key)
        saved = await u.ingest_events.add(event, [u1.id, u2.id, u1.id])
        assert saved is not None and saved.id is not None
        assert await u.ingest_events.add(event, [u1.id]) is None  # the key is taken
        carrier = await u.carriers.get_or_create(f"{tag}-TRAY", AT)
        assert carrier.id is not None
        assert await u.carriers.get_or_create(f"{tag}-TRAY", LATER) == carrier
        await u.carriers.add_loads(
            [CarrierLoad(carrier.id, u1.id, AT), CarrierLoad(carrier.id, u2.id, AT)]
        )
        ctrack = await u.carriers.add_track(
            CarrierTrack(
                carrier.id,
                f"{tag}-RUN",
                20,
                TrackSource.BATCH,
                "OVEN-1",
                AT,
                LATER,
                TrackResult.PASS,
                saved.id,
            )
        )
        batch: dict[str, Any] = dict(
            run_no=f"{tag}-RUN",
            step_no=20,
            operation_code=f"{tag}-OP2",
            source=TrackSource.BATCH,
            station_code="OVEN-1",
            in_at=AT,
            out_at=AT,
            ingest_event_id=saved.id,
            carrier_track_id=ctrack.id,
        )
        tracks = await u.tracks.add_many(
            [
                Track(unit_id=u1.id, unit_sn=u1.sn, attempt=1, result=TrackResult.PASS, **batch),
                Track(unit_id=u2.id, unit_sn=u2.sn, attempt=2, result=TrackResult.FAIL, **batch),
                Track(
                    unit_id=u1.id,
                    unit_sn=u1.sn,
                    run_no=f"{tag}-RUN",
                    step_no=30,
                    attempt=1,
                    operation_code=f"{tag}-OP1",
                    source=TrackSource.MANUAL,
                    station_code="PRN-1",
                    in_at=LATER,
                    operator_id="OP-7",
                ),
            ]
        )
        await u.data_values.add_many(
            [
                DataValue(
                    "Temp",
                    DataType.NUMBER,
                    TrackSource.BATCH,
                    AT,
                    value_number=245.5,
                    value_unit="C",
                    judge=Judge.PASS,
                    alarmed=True,
                    track_id=tracks[0].id,
                    ingest_event_id=saved.id,
                ),
                DataValue(
                    "Ok",
                    DataType.BOOLEAN,
                    TrackSource.BATCH,
                    AT,
                    value_boolean=False,
                    judge=Judge.NA,
                    carrier_track_id=ctrack.id,
                    ingest_event_id=saved.id,
                ),
                DataValue(
                    "Doc",
                    DataType.JSON,
                    TrackSource.MANUAL,
                    LATER,
                    value_json={"a": [1, "b"]},
                    track_id=tracks[2].id,
                ),
            ]
        )
        await u.commit()
    assert [tr.id for tr in tracks] == sorted(tr.id or 0 for tr in tracks)

    async with uow() as u:
        assert await u.ingest_events.get_by_key(event.source_system, "k-1") == saved
        read_back = await u.ingest_events.get_by_id(saved.id)
        assert read_back == saved
        assert await u.tracks.get(tracks[0].id or 0) == tracks[0]
        open_track = await u.tracks.open_of_unit(u1.id)
        assert open_track == tracks[2]
        assert await u.tracks.matching(f"{tag}-RUN", u1.id, 20, None) == [tracks[0]]
        assert await u.tracks.matching(f"{tag}-RUN", u1.id, 20, "ELSEWHERE") == []
        assert sorted(await u.tracks.units_of_carrier_track(ctrack.id or 0)) == sorted(
            [u1.id, u2.id]
        )
        assert await u.carriers.get(f"{tag}-TRAY") == carrier
        assert await u.carriers.get_track(ctrack.id or 0) == ctrack
        loads = await u.carriers.open_loads(carrier.id)
        assert [(ld.unit_id, ld.unloaded_at) for ld in loads] == [(u1.id, None), (u2.id, None)]
        assert await u.carriers.open_loads_of_units([u2.id]) == [loads[1]]
        await u.carriers.close_loads([loads[0].id or 0], LATER)
        await u.tracks.close(replace(tracks[2], out_at=LATER, result=TrackResult.PASS))
        assert await u.data_values.failed_spec_names(tracks[2].id or 0) == set()
        await u.data_values.add_many(
            [
                DataValue(s, DataType.NUMBER, TrackSource.MANUAL, AT, 1.0, judge=j, track_id=i)
                for s, j, i in (
                    ("P", Judge.FAIL, tracks[2].id),
                    ("P", Judge.FAIL, tracks[2].id),
                    ("Q", Judge.PASS, tracks[2].id),
                    ("R", Judge.FAIL, tracks[0].id),
                )
            ]
        )
        await u.tracks.set_flag(tracks[2].id or 0, TrackFlag.LATE_KEY_FAIL)
        await u.carriers.set_track_flag(ctrack.id or 0, TrackFlag.LATE_KEY_FAIL)
        await u.commit()
    async with uow() as u:
        assert await u.tracks.open_of_unit(u1.id) is None
        closed = await u.tracks.get(tracks[2].id or 0)
        assert closed == replace(
            tracks[2], out_at=LATER, result=TrackResult.PASS, flag=TrackFlag.LATE_KEY_FAIL
        )
        assert await u.data_values.failed_spec_names(tracks[2].id or 0) == {"P"}
        assert await u.carriers.get_track(ctrack.id or 0) == replace(
            ctrack, flag=TrackFlag.LATE_KEY_FAIL
        )
        assert [ld.unit_id for ld in await u.carriers.open_loads(carrier.id)] == [u2.id]
    assert read_back is not None and read_back.sn_list == (u1.sn, u2.sn)
    assert_utc(read_back.occurred_at, AT)
    assert_utc(read_back.received_at, LATER)
    async with engine.connect() as conn:
        links = (
            await conn.execute(
                select(t.ingest_event_unit.c.unit_id).where(
                    t.ingest_event_unit.c.event_id == saved.id
                )
            )
        ).scalars()
        values = (
            await conn.execute(
                select(t.data_value)
                .where(t.data_value.c.ingest_event_id == saved.id)
                .order_by(t.data_value.c.id)
            )
        ).all()
        closed_load = (
            await conn.execute(select(t.carrier_load).where(t.carrier_load.c.id == loads[0].id))
        ).one()
    assert sorted(links) == sorted([u1.id, u2.id])
    got = [replace(rows.value_from_row(v), id=None) for v in values]
    assert got[0].value_number == 245.5 and got[0].alarmed and got[0].judge is Judge.PASS
    assert (got[1].value_boolean, got[1].carrier_track_id, got[1].track_id) == (
        False,
        ctrack.id,
        None,
    )
    assert_utc(closed_load.unloaded_at, LATER)

    rejection = IngestRejection(
        source_system=event.source_system,
        dedupe_key="k-2",
        input_hash="b" * 64,
        event_type=IngestEventType.AUTO,
        received_at=AT,
        error_code=ErrorCode.UNIT_NOT_FOUND,
        error_message="not registered",
        input={"payload": {"sn": "X"}},
        error_details={"sns": ["X"]},
        occurred_at=None,
        sns=("X", "Y"),
        replayable=False,
        restrict_to_sn="X",
        last_attempt_at=AT,
    )
    async with uow() as u:
        stored = await u.rejections.add(rejection)
        assert stored.id is not None
        assert await u.rejections.find_open(event.source_system, "k-2", "b" * 64) == stored
        await u.rejections.update(replace(stored, attempts=2, last_attempt_at=LATER, sns=("Z",)))
        resolved = await u.rejections.resolve_key(event.source_system, "k-2", saved.id)
        await u.commit()
    assert resolved == 1
    async with uow() as u:
        again = await u.rejections.get(stored.id)
        assert await u.rejections.find_open(event.source_system, "k-2", "b" * 64) is None
    assert again == replace(
        stored, attempts=2, last_attempt_at=LATER, sns=("Z",), resolved_by_event_id=saved.id
    )

    record = DeviceDataRecord(
        event_id=f"{tag}-DEV",
        input_hash="c" * 64,
        source="AUTO",
        event_time=AT,
        received_at=LATER,
        values_created=0,
        track_id=tracks[0].id,
        equipment_id="EQ-1",
        meta={"fw": "1.2"},
    )
    counts = ProductionCountRecord(
        event_id=f"{tag}-CNT",
        input_hash="d" * 64,
        line_code=f"{tag}-L",
        quantity=12,
        started_at=AT,
        ended_at=LATER,
        modules=(ModuleCount("H1", 100, 98), ModuleCount("H2", 50, 50)),
        received_at=LATER,
        station_code="PNP-1",
        run_no=f"{tag}-RUN",
        product_code="P",
    )
    async with uow() as u:
        dev = await u.device_data.add(record)
        assert dev is not None and dev.id is not None
        assert await u.device_data.add(record) is None
        await u.device_data.set_values_created(dev.id, 4)
        cnt = await u.production_counts.add(counts)
        assert cnt is not None
        assert await u.production_counts.add(counts) is None
        await u.commit()
    async with uow() as u:
        assert await u.device_data.get_by_event_id(record.event_id) == replace(
            dev, values_created=4
        )
        assert await u.production_counts.get_by_event_id(counts.event_id) == cnt
        assert await u.device_data.get_by_event_id(f"{tag}-NONE") is None


async def test_unfinished_versions_come_once_each_in_the_order_of_their_oldest_run(
    uow: NewUow,
) -> None:
    tag = unique("UV")
    await master_data(uow, tag)
    async with uow() as u:
        v1, v2, v3 = [
            await u.route_versions.add(a_version(f"{tag}-R", n, RouteVersionStatus.READY))
            for n in (1, 2, 3)
        ]
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", 9, WorkOrderStatus.IN_PROGRESS))
        runs = [  # (run, version, minutes after AT)
            ("A", v2, 1, RunStatus.IN_PROGRESS),
            ("B", v1, 2, RunStatus.AUTHORIZED),
            ("C", v1, 0, RunStatus.COMPLETED),  # finished: not a candidate
            ("D", v1, 3, RunStatus.IN_PROGRESS),
            ("E", v3, 1, RunStatus.ON_HOLD),  # same time as A: then by runNo
        ]
        for name, version, minutes, status in runs:
            await u.runs.add(
                Run(
                    f"{tag}-{name}",
                    f"{tag}-WO",
                    status,
                    1,
                    version.id or 0,
                    created_at=AT + timedelta(minutes=minutes),
                )
            )
        await u.commit()
    async with uow() as u:
        found = await u.runs.unfinished_versions()
    mine = [v for v in found if v in (v1.id, v2.id, v3.id)]
    assert mine == [v2.id, v3.id, v1.id]
