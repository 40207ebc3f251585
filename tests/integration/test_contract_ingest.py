"""The repository contract of events, tracks, values, rejections, carriers, device data, counts:
run against the fake and both SQL units of work (the `impl` fixture,
tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from domain.carriers import CarrierLoad, CarrierTrack
from domain.device_records import DeviceDataRecord, ModuleCount, ProductionCountRecord
from domain.enums import (
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
from domain.ingest.records import IngestEvent, IngestRejection
from domain.ports import KeyClaim
from domain.runs_and_units import Run, Unit, WorkOrder
from domain.security import ApiToken, Scope
from domain.tracks import DataValue, Track
from tests.conftest import unique
from tests.repository_data import (
    AT,
    LATER,
    Implementation,
    a_version,
    assert_utc,
    master_data,
)


async def test_execution_records_round_trip(impl: Implementation) -> None:
    """Ingest events, tracks, data values, rejections, carriers, device data and counts."""
    uow = impl.new_uow
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
        written = [
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
                # sent in kelvin, stored in the spec's unit
                original_value=518.65,
                original_unit="K",
                # the limits the machine sent, in their own unit
                low_limit=473.15,
                high_limit=523.15,
                expected=498.15,
                limit_unit="K",
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
        await u.data_values.add_many(written)
        await u.commit()
    assert [tr.id for tr in tracks] == sorted(tr.id or 0 for tr in tracks)
    # every field comes back, the originals of a converted value too (and null where none)
    kept = await impl.values_of_event(saved.id or 0)
    assert [replace(v, id=None) for v in kept] == written[:2]

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
    if impl.engine is not None:  # the rows behind them, stored as UTC
        engine = impl.engine
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
        assert (got[0].original_value, got[0].original_unit) == (518.65, "K")
        assert (got[1].original_value, got[1].original_unit) == (None, None)
        assert (got[0].low_limit, got[0].high_limit, got[0].expected, got[0].limit_unit) == (
            473.15,
            523.15,
            498.15,
            "K",
        )
        assert (got[1].low_limit, got[1].limit_unit) == (None, None)
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


async def test_claim_key_holds_the_token_then_locks_and_reads_the_key(
    impl: Implementation,
) -> None:
    """The accept's first step (PostgreSQL: one round trip, migration 0013): the event of the
    key once the token is held; nothing once it is revoked."""
    uow = impl.new_uow
    tag = unique("CK")
    token = ApiToken(unique("tok"), unique("lk"), "hash", frozenset({Scope.INGEST}), created_at=AT)
    event = IngestEvent(
        source_system=f"{tag}-EQP",
        dedupe_key="k-1",
        input_hash="b" * 64,
        event_type=IngestEventType.AUTO,
        occurred_at=AT,
        received_at=LATER,
        payload={"sn": "x"},
        sn_list=("x",),
        meta={"via": "claim"},
    )
    async with uow() as u:
        stored_token = await u.tokens.add(token)
        assert stored_token.id is not None
        free = await u.ingest_events.claim_key(event.source_system, "k-1", stored_token.id)
        assert free == KeyClaim(token_held=True, event=None)
        saved = await u.ingest_events.add(event, [])
        await u.commit()
    assert saved is not None

    async with uow() as u:
        claim = await u.ingest_events.claim_key(event.source_system, "k-1", stored_token.id)
        assert claim == KeyClaim(token_held=True, event=saved)
        # no token to hold (a CLI command, auth off): the key alone
        assert await u.ingest_events.claim_key(event.source_system, "k-1", None) == claim
        assert await u.ingest_events.claim_key(event.source_system, "k-2", None) == KeyClaim(
            token_held=True, event=None
        )
        assert await u.tokens.revoke(token.name, LATER)
        await u.commit()

    async with uow() as u:
        assert await u.ingest_events.claim_key(
            event.source_system, "k-1", stored_token.id
        ) == KeyClaim(token_held=False, event=None)
        assert await u.ingest_events.claim_key(event.source_system, "k-1", None) == claim


async def test_claim_key_reads_what_the_locks_last_holder_committed(impl: Implementation) -> None:
    """A sender queued behind another on one key sees the other's event once it gets the lock
    (a statement reading with the snapshot it had before waiting would not: migration 0013).
    PostgreSQL only: the fake and SQLite serialize whole transactions, not keys."""
    if impl.name != "postgresql":
        pytest.skip("senders of one key queue on the key only on PostgreSQL")
    uow = impl.new_uow
    source = unique("CKW")
    event = IngestEvent(
        source_system=source,
        dedupe_key="k-1",
        input_hash="c" * 64,
        event_type=IngestEventType.AUTO,
        occurred_at=AT,
        received_at=LATER,
        payload={},
    )
    first = uow()
    async with first as u:
        assert (await u.ingest_events.claim_key(source, "k-1", None)).event is None
        waiting = asyncio.create_task(_claim_in_own_transaction(impl, source))
        await asyncio.sleep(0.2)  # the second sender is queued on the key (PostgreSQL)
        saved = await u.ingest_events.add(event, [])
        await u.commit()
    assert saved is not None
    assert await waiting == KeyClaim(token_held=True, event=saved)


async def _claim_in_own_transaction(impl: Implementation, source: str) -> KeyClaim:
    async with impl.new_uow() as u:
        return await u.ingest_events.claim_key(source, "k-1", None)
