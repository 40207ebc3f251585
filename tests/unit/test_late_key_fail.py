"""A KEY spec judged FAIL by device data after its track passed (DOMAIN.md §7, issue 16 item 8),
over the fakes: the track's result stands, the track is flagged LATE_KEY_FAIL, and the unit is
held (reason LATE_KEY_FAIL) unless the step's onLateKeyFail is FLAG."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from domain.enums import (
    DeviceDataSource,
    Judge,
    LateKeyFailAction,
    TrackFlag,
    TrackResult,
    UnitStatus,
)
from domain.holds import ALARM_REASON, LATE_KEY_FAIL_REASON
from domain.tracks import Track
from domain.usecases import device as dev
from domain.usecases import manual_execution as ex
from domain.values import ValueInput
from tests.exec_builders import ExecFactory
from tests.fakes import FakeStore, fake_bus

AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


async def factory(action: LateKeyFailAction | None = None) -> tuple[ExecFactory, FakeStore]:
    bus, store = fake_bus()
    return await ExecFactory(bus).build(units=2, on_late_key_fail=action), store


async def track_in(f: ExecFactory, sn: str) -> Track:
    done: ex.Executed = await f.do(ex.TrackIn(f.code("PRN-1"), f.run_no, sn))
    return done.track


async def printed(f: ExecFactory, sn: str, result: TrackResult = TrackResult.PASS) -> Track:
    """The print step (a MANUAL KEY spec Pressure, limits 4–8, alarm outside 2–10) done."""
    await track_in(f, sn)
    pressure = ValueInput("Pressure", {"valueNumber": 5.0})
    done: ex.Executed = await f.do(
        ex.TrackOut(f.code("PRN-1"), f.run_no, sn, result, data=(pressure,))
    )
    return done.track


def pressure(track: Track, value: float, spec: str = "Pressure", **kw: Any) -> dev.RecordDeviceData:
    return dev.RecordDeviceData(
        event_id=f"dev-{track.id}-{value}-{spec}",
        event_time=AT,
        source=DeviceDataSource.MANUAL,
        operator_id="OP-7",
        track_id=track.id,
        data=(ValueInput(spec, {"valueNumber": value}, **kw),),
    )


def stored(store: FakeStore, track: Track) -> Track:
    return next(tr for tr in store.tracks if tr.id == track.id)


def hold_reasons(store: FakeStore, sn: str) -> list[str]:
    return [h.reason for h in store.holds.values() if any(u.sn == sn for u in h.units)]


async def test_a_late_key_failure_flags_the_track_and_holds_the_unit_by_default() -> None:
    f, store = await factory()
    sn = f.sns[0]
    track = await printed(f, sn)
    before = store.units[sn]
    answer: dev.DeviceDataResult = await f.do(pressure(track, 9.0))  # FAIL, inside the alarm
    assert answer.track is not None and answer.track.flag is TrackFlag.LATE_KEY_FAIL
    flagged = stored(store, track)
    assert (flagged.result, flagged.flag) == (TrackResult.PASS, TrackFlag.LATE_KEY_FAIL)
    unit = store.units[sn]
    assert (unit.status, unit.current_step_no) == (UnitStatus.ON_HOLD, before.current_step_no)
    assert hold_reasons(store, sn) == [LATE_KEY_FAIL_REASON]


async def test_flag_only_marks_the_track() -> None:
    f, store = await factory(LateKeyFailAction.FLAG)
    sn = f.sns[0]
    track = await printed(f, sn)
    before = store.units[sn]
    await f.do(pressure(track, 9.0))
    assert stored(store, track).flag is TrackFlag.LATE_KEY_FAIL
    assert store.units[sn] == before and hold_reasons(store, sn) == []


async def test_the_version_freezes_the_choice() -> None:
    f, store = await factory(LateKeyFailAction.FLAG)
    run = store.runs[f.run_no]
    version = next(v for v in store.versions if v.id == run.route_version_id)
    assert {s.on_late_key_fail for s in version.steps} == {LateKeyFailAction.FLAG}
    default, store2 = await factory()
    v2 = next(v for v in store2.versions if v.id == store2.runs[default.run_no].route_version_id)
    assert {s.on_late_key_fail for s in v2.steps} == {LateKeyFailAction.HOLD}


async def test_a_passing_key_value_or_a_failing_non_key_value_changes_nothing() -> None:
    f, store = await factory()
    sn = f.sns[0]
    track = await printed(f, sn)
    before = store.units[sn]
    await f.do(pressure(track, 6.0))  # KEY, PASS
    auto = dev.RecordDeviceData(
        event_id="auto-1",
        event_time=AT,
        source=DeviceDataSource.AUTO,
        track_id=track.id,
        # no limits: the source's judge, FAIL, on a spec that is not KEY
        data=(ValueInput("StencilTemp", {"valueNumber": 31.0}, judge=Judge.FAIL),),
    )
    await f.do(auto)
    assert any(v.judge is Judge.FAIL and v.spec_name == "StencilTemp" for v in store.values)
    assert stored(store, track).flag is None and store.units[sn] == before


async def test_a_failed_track_is_not_flagged() -> None:
    f, store = await factory()
    sn = f.sns[0]
    track = await printed(f, sn, TrackResult.FAIL)
    before = store.units[sn]
    await f.do(pressure(track, 9.0))
    assert stored(store, track).flag is None and store.units[sn] == before


async def test_an_alarm_and_a_late_key_failure_open_one_hold_each() -> None:
    f, store = await factory()
    sn = f.sns[0]
    track = await printed(f, sn)
    await f.do(pressure(track, 11.0))  # outside the limits and the alarm band
    assert sorted(hold_reasons(store, sn)) == sorted([ALARM_REASON, LATE_KEY_FAIL_REASON])
    assert store.units[sn].status is UnitStatus.ON_HOLD


async def test_a_scrapped_unit_is_flagged_not_held() -> None:
    f, store = await factory()
    sn = f.sns[0]
    track = await printed(f, sn)
    store.units[sn] = replace(store.units[sn], status=UnitStatus.SCRAPPED)
    await f.do(pressure(track, 9.0))
    assert stored(store, track).flag is TrackFlag.LATE_KEY_FAIL
    assert store.units[sn].status is UnitStatus.SCRAPPED and hold_reasons(store, sn) == []


async def test_a_key_failure_on_an_open_track_fails_its_pass() -> None:
    f, store = await factory()
    sn = f.sns[0]
    opened = await track_in(f, sn)
    await f.do(pressure(opened, 9.0))
    assert stored(store, opened).flag is None  # not late: the track has no result yet
    done: ex.Executed = await f.do(
        ex.TrackOut(
            f.code("PRN-1"),
            f.run_no,
            sn,
            TrackResult.PASS,
            data=(ValueInput("Pressure", {"valueNumber": 5.0}),),
        )
    )
    assert done.track.result is TrackResult.FAIL
    assert done.unit.status is UnitStatus.OUT_FAILED
