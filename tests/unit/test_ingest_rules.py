"""Issue 16's ingest rules over the fakes: the line interlock (DOMAIN.md §4 step 7) and
carrier loads across consecutive BATCH steps (§6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain import master as dm
from domain.enums import IngestStatus, StationType, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import manual_execution as ex
from domain.usecases import master_data as md
from domain.usecases.carriers import LoadCarrier
from tests.exec_builders import wash_factory, wash_input
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory, envelope

# ---------------------------------------------------------------- line interlock


async def test_a_station_of_another_line_is_refused_and_one_without_a_line_records() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2)
    c = f.code
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    await f.do(md.UpsertLine(dm.Line(c("L2"), "Line 2")))
    aoi = dm.Station(c("AOI-1"), "AOI-1", StationType.AUTO, c("L2"), c("AOI-G"))
    await f.do(md.UpsertStation(aoi))
    refused = await service.ingest(f.envelope(f.aoi_input(f.sns[0])), ACTOR)
    assert refused.status is IngestStatus.REJECTED and refused.error is not None
    assert refused.error.code is ErrorCode.STATION_MISMATCH
    assert refused.error.details is not None
    assert refused.error.details["stationLineCode"] == c("L2")
    assert refused.error.details["runLineCode"] == c("L")
    assert not store.tracks and store.units[f.sns[0]].current_step_no == 10
    # a shared station (no line) records for the run of any line, as before
    await f.do(md.UpsertStation(replace(aoi, line_code=None)))
    accepted = await service.ingest(f.envelope(f.aoi_input(f.sns[0])), ACTOR)
    assert accepted.status is IngestStatus.ACCEPTED, accepted.error
    # and a station of the run's own line, of course
    await f.do(md.UpsertStation(replace(aoi, line_code=c("L"))))
    accepted = await service.ingest(f.envelope(f.aoi_input(f.sns[1])), ACTOR)
    assert accepted.status is IngestStatus.ACCEPTED, accepted.error


async def test_track_in_at_a_station_of_another_line_is_refused() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    c = f.code
    sn = f.sns[0]
    store.units[sn] = replace(store.units[sn], current_step_no=30)  # at the MANUAL step
    await f.do(md.UpsertLine(dm.Line(c("L2"), "Line 2")))
    pack = dm.Station(c("PACK-1"), "PACK-1", StationType.MANUAL, c("L2"), c("PACK-G"))
    await f.do(md.UpsertStation(pack))
    try:
        await f.do(ex.TrackIn(c("PACK-1"), f.run_no, sn))
    except DomainError as err:
        assert err.code is ErrorCode.STATION_MISMATCH
        assert err.details and (err.details["stationLineCode"], err.details["runLineCode"]) == (
            c("L2"),
            c("L"),
        )
    else:
        raise AssertionError("trackIn at a station of another line was accepted")
    assert store.units[sn].status is UnitStatus.QUEUED and not store.tracks
    await f.do(md.UpsertStation(replace(pack, line_code=None)))
    executed = await f.do(ex.TrackIn(c("PACK-1"), f.run_no, sn))
    assert executed.unit.status is UnitStatus.IN_STATION


# ---------------------------------------------------------------- loads across BATCH steps


async def test_loads_stay_open_across_batch_steps_until_a_step_that_is_not_batch() -> None:
    bus, store = fake_bus()
    f = await wash_factory(bus, units=2)
    # the AOI event below happened at 10:00: the service's clock is past it
    clock = FakeClock(datetime(2026, 3, 2, 10, 30, tzinfo=UTC))
    service = IngestService(bus.uow_factory, clock, Limits(), MappingCache(), FakeUnitsOfMeasure())
    for sn in f.sns:
        store.units[sn] = replace(store.units[sn], current_step_no=20)
    tray = f.code("TRAY-1")
    reflow = await service.ingest(envelope(f.reflow_input(f.sns, carrier=tray)), ACTOR)
    assert reflow.status is IngestStatus.ACCEPTED, reflow.error
    assert [ld.unloaded_at for ld in store.loads] == [None, None]
    wash = await service.ingest(envelope(wash_input(f, tray)), ACTOR)
    assert wash.status is IngestStatus.ACCEPTED, wash.error
    assert wash.event is not None and list(wash.event.sn_list) == f.sns
    assert loads(store) == {sn: (tray, None) for sn in f.sns}
    assert {(store.units[sn].status, store.units[sn].current_step_no) for sn in f.sns} == {
        (UnitStatus.QUEUED, 30)
    }
    # the AOI step is not BATCH: the first board is off the tray, the second still on it
    aoi = {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": f.code("AOI-K"),
        "eventType": "AUTO",
        "occurredAt": "2026-03-02T10:00:00+00:00",
        "payload": {"sn": f.sns[0], "station": f.code("AOI-1"), "result": "PASS"},
    }
    assert (await service.ingest(envelope(aoi), ACTOR)).status is IngestStatus.ACCEPTED
    assert loads(store) == {
        f.sns[0]: (tray, datetime(2026, 3, 2, 10, tzinfo=UTC)),  # at the event's time
        f.sns[1]: (tray, None),
    }


def loads(store: FakeStore) -> dict[str, tuple[str, datetime | None]]:
    """Each unit's carrier load: the carrier and when the unit left it."""
    sns = {u.id: u.sn for u in store.units.values()}
    carriers = {c.id: c.carrier_no for c in store.carriers.values()}
    return {sns[ld.unit_id]: (carriers[ld.carrier_id], ld.unloaded_at) for ld in store.loads}


async def test_track_in_at_a_manual_step_unloads_the_unit() -> None:
    bus, store = fake_bus()
    f = await wash_factory(bus, units=1)
    sn = f.sns[0]
    await f.do(LoadCarrier(f.code("MAG-1"), (sn,)))
    store.units[sn] = replace(store.units[sn], current_step_no=40)  # at PACK (MANUAL)
    await f.do(ex.TrackIn(f.code("PACK-1"), f.run_no, sn))
    assert [ld.unloaded_at is not None for ld in store.loads] == [True]
