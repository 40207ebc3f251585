"""Round trips through SqlUnitOfWork: every repository writes what it reads, on both databases.

Each read happens in a new unit of work (with a new route version cache), so it comes from the
database, not from memory."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from adapters.uow import SqlUnitOfWork
from domain.enums import (
    AuditOutcome,
    DataType,
    IngestEventType,
    Judge,
    RouteVersionStatus,
    RunStatus,
    TrackFlag,
    TrackResult,
    TrackSource,
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
from domain.production import AuditEvent, Run, Unit, WorkOrder
from tests.conftest import unique
from tests.repository_data import AT, LATER, NewUow, a_version, assert_utc, count, master_data


@pytest.fixture
def uow(engine: AsyncEngine) -> NewUow:
    return lambda: SqlUnitOfWork(engine)


# ---------------------------------------------------------------- master data


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
