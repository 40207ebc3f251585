"""The repository contract of the accepted event's writes (`uow.ingest_writes.record`): run
against the fake and both SQL units of work (the `impl` fixture,
tests/integration/conftest.py)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from domain.carriers import CarrierLoad, CarrierTrack
from domain.enums import (
    DataType,
    IngestEventType,
    Judge,
    RouteVersionStatus,
    RunStatus,
    TrackResult,
    TrackSource,
    UnitStatus,
    WorkOrderStatus,
)
from domain.errors import ErrorCode
from domain.ingest import records
from domain.ingest.records import IngestEvent, IngestRejection
from domain.ports import CarrierWrites, EventWrites, RunStart
from domain.runs_and_units import Run, Unit, WorkOrder
from domain.tracks import DataValue, Track
from tests.conftest import unique
from tests.repository_data import AT, LATER, Implementation, a_version, master_data


async def _units(impl: Implementation, tag: str, status: RunStatus) -> tuple[Unit, Unit]:
    """A run of that status and two units queued at its step 10."""
    uow = impl.new_uow
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", 2, WorkOrderStatus.IN_PROGRESS))
        await u.runs.add(Run(f"{tag}-RUN", f"{tag}-WO", status, 2, version.id or 0, created_at=AT))
        await u.units.add_many(
            [
                Unit(f"{tag}-SN{i}", f"{tag}-WO", f"{tag}-RUN", UnitStatus.QUEUED, 10, AT)
                for i in (1, 2)
            ]
        )
        await u.commit()
    async with uow() as u:
        u1, u2 = await u.units.get_many([f"{tag}-SN1", f"{tag}-SN2"])
    return u1, u2


def _event(tag: str, key: str, event_type: IngestEventType, units: tuple[Unit, ...]) -> IngestEvent:
    return IngestEvent(
        source_system=f"{tag}-EQP",
        dedupe_key=key,
        input_hash="a" * 64,
        event_type=event_type,
        occurred_at=LATER,
        received_at=LATER,
        payload={"sn": [x.sn for x in units]},
        run_no=f"{tag}-RUN",
        step_no=10,
        station_code="ST-1",
        line_code=f"{tag}-L",
        sn_list=tuple(x.sn for x in units),
        test_result_id="TR-1" if event_type is IngestEventType.TEST else None,
        result=TrackResult.PASS,
        normalized={"units": len(units)},
    )


def _tracks(
    tag: str, units: tuple[Unit, ...], source: TrackSource
) -> tuple[tuple[Track, tuple[DataValue, ...]], ...]:
    """One track per unit (the second FAIL), each with a value of its judgement."""
    results = (TrackResult.PASS, TrackResult.FAIL)
    return tuple(
        (
            Track(
                unit_id=x.id or 0,
                unit_sn=x.sn,
                run_no=f"{tag}-RUN",
                step_no=10,
                attempt=1,
                operation_code=f"{tag}-OP1",
                source=source,
                station_code="ST-1",
                in_at=AT,
                out_at=LATER,
                result=result,
            ),
            (
                DataValue(
                    "V",
                    DataType.NUMBER,
                    source,
                    LATER,
                    value_number=float(i),
                    value_unit="V",
                    judge=Judge.PASS if result is TrackResult.PASS else Judge.FAIL,
                    # the first sent in mV: converted, its original kept
                    original_value=None if i else 0.0,
                    original_unit=None if i else "mV",
                ),
            ),
        )
        for i, (x, result) in enumerate(zip(units, results, strict=True))
    )


async def test_record_stores_an_event_and_everything_it_writes(impl: Implementation) -> None:
    """The event and its units, tester keys, tracks and values, the units' advance, the run's
    start, the open loads closed and the key's rejections resolved; a key taken meanwhile
    writes nothing."""
    uow = impl.new_uow
    tag = unique("IW")
    u1, u2 = await _units(impl, tag, RunStatus.AUTHORIZED)
    assert u1.id is not None and u2.id is not None
    event = _event(tag, "k-1", IngestEventType.TEST, (u1, u2))
    async with uow() as u:
        tray = await u.carriers.get_or_create(f"{tag}-TRAY", AT)
        await u.carriers.add_loads([CarrierLoad(tray.id or 0, u1.id, AT)])
        rejection = await u.rejections.add(
            IngestRejection(
                source_system=event.source_system,
                dedupe_key="k-1",
                input_hash="b" * 64,
                event_type=IngestEventType.TEST,
                received_at=AT,
                error_code=ErrorCode.UNIT_NOT_FOUND,
                error_message="not registered",
                input={"payload": {}},
                last_attempt_at=AT,
            )
        )
        await u.commit()
    advanced = (replace(u1, current_step_no=20), replace(u2, step_fails=1))
    writes = EventWrites(
        event=event,
        unit_ids=(u1.id, u2.id, u1.id),
        tester_keys=tuple(
            records.TesterResultKey(event.source_system, "TR-1", x.id or 0, 0, d)
            for x, d in ((u1, "d1"), (u2, "d2"))
        ),
        carrier=None,
        tracks=_tracks(tag, (u1, u2), TrackSource.TEST),
        units=advanced,
        run_start=RunStart(f"{tag}-RUN", RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS),
    )
    async with uow() as u:
        await u.ingest_events.lock_key(event.source_system, "k-1")
        assert await u.ingest_events.get_by_key(event.source_system, "k-1") is None
        saved = await u.ingest_writes.record(writes)
        await u.commit()
    assert saved is not None and saved.id is not None
    assert saved == replace(event, id=saved.id)
    async with uow() as u:
        # the key is taken: nothing written (the units would move on again)
        again = replace(writes, units=(replace(u1, current_step_no=30),), run_start=None)
        assert await u.ingest_writes.record(again) is None
        await u.commit()

    async with uow() as u:
        assert await u.ingest_events.get_by_key(event.source_system, "k-1") == saved
        keys = await u.ingest_events.tester_results(event.source_system, ["TR-1"], [u1.id, u2.id])
        assert sorted(keys, key=lambda k: k.unit_id) == [
            records.TesterResultKey(event.source_system, "TR-1", u1.id, saved.id, "d1"),
            records.TesterResultKey(event.source_system, "TR-1", u2.id, saved.id, "d2"),
        ]
        stored = [await u.tracks.matching(f"{tag}-RUN", x.id or 0, 10, None) for x in (u1, u2)]
        for (track, _), found in zip(writes.tracks, stored, strict=True):
            assert len(found) == 1
            assert found[0] == replace(track, id=found[0].id, ingest_event_id=saved.id)
        assert await u.data_values.failed_spec_names(stored[0][0].id or 0) == set()
        values = await impl.values_of_event(saved.id or 0)
        assert [replace(v, id=None) for v in values] == [
            replace(v, track_id=found[0].id, ingest_event_id=saved.id)
            for (_, (v,)), found in zip(writes.tracks, stored, strict=True)
        ]
        assert await u.data_values.failed_spec_names(stored[1][0].id or 0) == {"V"}
        assert await u.units.get_many([u1.sn, u2.sn]) == list(advanced)
        run = await u.runs.get(f"{tag}-RUN")
        assert run is not None and run.status is RunStatus.IN_PROGRESS
        assert await u.carriers.open_loads(tray.id or 0) == []
        resolved = await u.rejections.get(rejection.id or 0)
        assert resolved == replace(rejection, resolved_by_event_id=saved.id)
    if impl.engine is not None:
        async with impl.engine.connect() as conn:
            links = (
                await conn.execute(
                    select(t.ingest_event_unit.c.unit_id).where(
                        t.ingest_event_unit.c.event_id == saved.id
                    )
                )
            ).scalars()
            assert sorted(links) == sorted([u1.id, u2.id])


async def test_record_writes_a_batch_event_with_its_carrier(impl: Implementation) -> None:
    """A unit list: the carrier created, the units loaded on it (their loads elsewhere
    closed), its track and values; the units' tracks belong to it. A carrier-only event
    keeps the open loads."""
    uow = impl.new_uow
    tag = unique("IWB")
    u1, u2 = await _units(impl, tag, RunStatus.IN_PROGRESS)
    assert u1.id is not None and u2.id is not None
    async with uow() as u:
        other = await u.carriers.get_or_create(f"{tag}-OTHER", AT)
        await u.carriers.add_loads([CarrierLoad(other.id or 0, u1.id, AT)])
        await u.commit()

    def batch(key: str, relink: bool) -> EventWrites:
        return EventWrites(
            event=_event(tag, key, IngestEventType.BATCH, (u1, u2)),
            unit_ids=(u1.id or 0, u2.id or 0),
            tester_keys=(),
            carrier=CarrierWrites(
                carrier_no=f"{tag}-TRAY",
                created_at=LATER,
                relink=relink,
                track=CarrierTrack(
                    0, f"{tag}-RUN", 10, TrackSource.BATCH, "ST-1", AT, LATER, TrackResult.PASS
                ),
                values=(
                    DataValue("Peak", DataType.NUMBER, TrackSource.BATCH, LATER, value_number=1),
                ),
            ),
            tracks=_tracks(tag, (u1, u2), TrackSource.BATCH),
            units=(),
            run_start=None,
        )

    first = batch("k-1", relink=True)
    async with uow() as u:
        saved = await u.ingest_writes.record(first)
        await u.commit()
    assert saved is not None and saved.id is not None
    async with uow() as u:
        tray = await u.carriers.get(f"{tag}-TRAY")
        assert tray is not None and tray.id is not None and tray.created_at == LATER
        assert await u.carriers.open_loads(other.id or 0) == []
        loads = await u.carriers.open_loads(tray.id)
        assert sorted((ld.unit_id, ld.loaded_at) for ld in loads) == sorted(
            [(u1.id, LATER), (u2.id, LATER)]
        )
        tracks = [(await u.tracks.matching(f"{tag}-RUN", x, 10, None))[0] for x in (u1.id, u2.id)]
        ctrack_id = tracks[0].carrier_track_id
        assert ctrack_id is not None and tracks[1].carrier_track_id == ctrack_id
        assert first.carrier is not None
        assert await u.carriers.get_track(ctrack_id) == replace(
            first.carrier.track, carrier_id=tray.id, ingest_event_id=saved.id, id=ctrack_id
        )
        assert sorted(await u.tracks.units_of_carrier_track(ctrack_id)) == sorted([u1.id, u2.id])

    # a carrier-only event: the open loads stay (no load closed, none added)
    async with uow() as u:
        await u.carriers.close_loads([ld.id or 0 for ld in loads if ld.unit_id == u2.id], LATER)
        second = await u.ingest_writes.record(batch("k-2", relink=False))
        await u.commit()
    assert second is not None
    async with uow() as u:
        assert [ld.unit_id for ld in await u.carriers.open_loads(tray.id)] == [u1.id]
    if impl.engine is not None:
        async with impl.engine.connect() as conn:
            values = (
                await conn.execute(
                    select(t.data_value)
                    .where(t.data_value.c.ingest_event_id == saved.id)
                    .order_by(t.data_value.c.id)
                )
            ).all()
        got = [rows.value_from_row(v) for v in values]
        assert [(v.spec_name, v.carrier_track_id, v.track_id is None) for v in got] == [
            ("Peak", ctrack_id, True),
            ("V", None, False),
            ("V", None, False),
        ]
