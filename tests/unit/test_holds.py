"""Holds over the fakes (DOMAIN.md §6, issue 16 item 1): every hold a Hold row; a unit stays
ON_HOLD while any hold on it is open and returns where it was when the last one closes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.enums import DispositionAction, IngestStatus, RunStatus, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import holds as ho
from domain.usecases import lifecycle as lc
from domain.usecases import manual_execution as ex
from domain.usecases import runs_and_units as prod
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


async def factory(units: int = 4, limits: Limits | None = None) -> tuple[IngestFactory, FakeStore]:
    bus, store = fake_bus(limits)
    return await IngestFactory(bus).build(units=units), store


def put(store: FakeStore, sn: str, status: UnitStatus, step: int = 20) -> None:
    store.units[sn] = replace(store.units[sn], status=status, current_step_no=step)


async def refused(f: IngestFactory, cmd: object) -> DomainError:
    with pytest.raises(DomainError) as err:
        await f.do(cmd)  # type: ignore[arg-type]
    return err.value


async def test_hold_units_contains_good_boards_and_release_returns_them() -> None:
    f, store = await factory(units=4)
    queued, done, failed, scrapped = f.sns
    put(store, done, UnitStatus.DONE, 30)
    put(store, failed, UnitStatus.OUT_FAILED, 20)
    put(store, scrapped, UnitStatus.SCRAPPED, 10)
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(run_no=f.run_no), "suspect paste lot"))
    assert hold.reason == "suspect paste lot" and hold.actor == ACTOR.name and hold.is_open
    assert [u.sn for u in hold.units] == sorted([queued, done, failed])  # not the scrapped one
    assert {store.units[sn].status for sn in (queued, done, failed)} == {UnitStatus.ON_HOLD}
    audited = [a.entity_key for a in store.audit if a.action == "holdUnits" and a.entity_key]
    assert set(audited) >= {queued, done, failed}
    # some of them: the others stay held, the hold stays open
    partly = await f.do(ho.ReleaseHold(hold.id, (done,)))
    assert partly.is_open and store.units[done].status is UnitStatus.DONE
    assert store.units[queued].status is UnitStatus.ON_HOLD
    closed = await f.do(ho.ReleaseHold(hold.id))
    assert closed.closed_at is not None and all(u.released_at for u in closed.units)
    assert (store.units[queued].status, store.units[queued].current_step_no) == (
        UnitStatus.QUEUED,
        10,
    )
    assert (store.units[failed].status, store.units[failed].current_step_no) == (
        UnitStatus.OUT_FAILED,
        20,
    )
    assert store.units[scrapped].status is UnitStatus.SCRAPPED


async def test_a_unit_stays_held_while_any_hold_is_open() -> None:
    f, store = await factory(units=2)
    sn = f.sns[0]
    first = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "paste lot"))
    second = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "feeder jam"))
    await f.do(ho.ReleaseHold(first.id))
    assert store.units[sn].status is UnitStatus.ON_HOLD
    await f.do(ho.ReleaseHold(second.id))
    assert store.units[sn].status is UnitStatus.QUEUED


async def test_dispose_hold_opens_a_hold_and_release_closes_every_open_one() -> None:
    f, store = await factory(units=1)
    sn = f.sns[0]
    await f.do(lc.DisposeUnit(sn, DispositionAction.HOLD, "containment"))  # from QUEUED
    await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "paste lot"))
    assert [h.reason for h in store.holds.values()] == ["containment", "paste lot"]
    await f.do(lc.DisposeUnit(sn, DispositionAction.RELEASE, "all clear"))
    assert store.units[sn].status is UnitStatus.QUEUED
    assert all(h.closed_at is not None for h in store.holds.values())
    put(store, sn, UnitStatus.DONE, 30)
    await f.do(lc.DisposeUnit(sn, DispositionAction.HOLD, "finished goods"))  # from DONE
    assert store.units[sn].status is UnitStatus.ON_HOLD
    err = await refused(f, lc.DisposeUnit(sn, DispositionAction.HOLD, "again"))
    assert err.code is ErrorCode.DISPOSITION_INVALID
    await f.do(lc.DisposeUnit(sn, DispositionAction.SCRAP, "dropped"))
    assert store.units[sn].status is UnitStatus.SCRAPPED
    assert all(h.closed_at is not None for h in store.holds.values())  # SCRAP lets go too


async def test_a_held_unit_is_refused_with_its_open_holds() -> None:
    f, _store = await factory(units=1)
    sn = f.sns[0]
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "paste lot"))
    service = IngestService(
        f.bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    outcome = await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)
    assert outcome.status is IngestStatus.REJECTED and outcome.error is not None
    assert outcome.error.code is ErrorCode.UNIT_ON_HOLD
    assert outcome.error.details is not None
    assert outcome.error.details["holds"] == [
        {"id": str(hold.id), "reason": "paste lot", "actor": ACTOR.name}
    ]


async def test_held_in_station_keeps_its_open_track() -> None:
    f, store = await factory(units=2)
    sn, other = f.sns
    station = f.code("PACK-1")
    put(store, sn, UnitStatus.QUEUED, 30)
    await f.do(ex.TrackIn(station, f.run_no, sn))
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "operator left"))
    assert store.units[sn].held_from is UnitStatus.IN_STATION
    err = await refused(f, ex.TrackOut(station, f.run_no, sn, TrackResult.PASS))
    assert err.code is ErrorCode.UNIT_ON_HOLD and err.details is not None
    assert [h["id"] for h in err.details["holds"]] == [str(hold.id)]
    await f.do(ho.ReleaseHold(hold.id))
    assert store.units[sn].status is UnitStatus.IN_STATION
    out = await f.do(ex.TrackOut(station, f.run_no, sn, TrackResult.PASS))
    assert out.track.in_at is not None and out.unit.status is UnitStatus.DONE
    # SCRAP in station closes the open track
    put(store, other, UnitStatus.QUEUED, 30)
    await f.do(ex.TrackIn(station, f.run_no, other))
    await f.do(lc.DisposeUnit(other, DispositionAction.SCRAP, "dropped"))
    assert store.units[other].status is UnitStatus.SCRAPPED
    assert all(t.out_at is not None for t in store.tracks if t.unit_sn == other)


async def test_refusals_and_the_cap() -> None:
    f, store = await factory(units=3, limits=Limits(max_hold_units=2))
    too_many = await refused(f, ho.HoldUnits(ho.UnitFilter(run_no=f.run_no), "all"))
    assert too_many.code is ErrorCode.VALIDATION_FAILED
    assert too_many.details == {"field": "filter", "max": 2}
    assert not store.holds and store.units[f.sns[0]].status is UnitStatus.QUEUED
    assert (await refused(f, ho.HoldUnits(ho.UnitFilter(), "x"))).code is (
        ErrorCode.VALIDATION_FAILED
    )
    missing = await refused(f, ho.HoldUnits(ho.UnitFilter(sns=(f.sns[0], "NOPE")), "x"))
    assert (missing.code, missing.details) == (ErrorCode.UNIT_NOT_FOUND, {"sns": ["NOPE"]})
    unknown_run = await refused(f, ho.HoldUnits(ho.UnitFilter(run_no="NOPE"), "x"))
    assert unknown_run.code is ErrorCode.RUN_NOT_FOUND
    assert (await refused(f, ho.ReleaseHold(99))).code is ErrorCode.HOLD_NOT_FOUND
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(f.sns[0],)), "x"))
    stranger = await refused(f, ho.ReleaseHold(hold.id, (f.sns[1],)))
    assert stranger.code is ErrorCode.VALIDATION_FAILED


async def test_an_alarm_hold_opens_a_hold() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1, aoi_hold=True)
    sn = f.sns[0]
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    env = f.envelope(f.aoi_input(sn, void=20.0, extra=[{"key": "void_pct", "val": 41.0}]))
    assert (await service.ingest(env, ACTOR)).status is IngestStatus.ACCEPTED
    assert store.units[sn].status is UnitStatus.ON_HOLD
    [hold] = store.holds.values()
    assert (hold.reason, hold.actor, [u.sn for u in hold.units]) == (
        "ALARM",
        env.source_system,
        [sn],
    )
    await f.do(lc.DisposeUnit(sn, DispositionAction.RELEASE, "checked"))
    assert store.units[sn].status is UnitStatus.OUT_FAILED  # where the KEY FAIL left it


async def test_a_held_done_unit_blocks_close_run() -> None:
    f, store = await factory(units=1)
    sn = f.sns[0]
    put(store, sn, UnitStatus.DONE, 30)
    store.runs[f.run_no] = replace(store.runs[f.run_no], status=RunStatus.IN_PROGRESS)
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "finished goods"))
    assert (await refused(f, prod.CloseRun(f.run_no))).code is ErrorCode.RUN_NOT_READY
    await f.do(ho.ReleaseHold(hold.id))
    assert (await f.do(prod.CloseRun(f.run_no))).status.value == "COMPLETED"
