"""Retest, dispositions and their refusals over the fakes (DOMAIN.md §6). The wire
(disposeUnit's input and payload, the trace's dispositions, validateUnits) is
tests/api/test_lifecycle.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain import master as dm
from domain.enums import AuditOutcome, DispositionAction, IngestStatus, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import lifecycle as lc
from domain.usecases import manual_execution as ex
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.exec_builders import ExecFactory
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


class Line:
    """An ingest factory over the fakes, its store and the ingest service."""

    def __init__(self, f: IngestFactory, store: FakeStore, service: IngestService):
        self.f, self.store, self.service = f, store, service

    async def ingest(self, data: dict[str, Any]) -> IngestOutcome:
        return await self.service.ingest(self.f.envelope(data), ACTOR)

    async def ict(self, sn: str, result: str) -> IngestOutcome:
        r1 = 1000.0 if result == "Passed" else 1300.0
        return await self.ingest(self.f.ict_input([(sn, result, r1, 3.3)]))

    def state(self, sn: str) -> tuple[UnitStatus, int | None]:
        unit = self.store.units[sn]
        return unit.status, unit.current_step_no

    def tracks(self, sn: str) -> list[tuple[int, int, TrackResult | None]]:
        return [(t.step_no, t.attempt, t.result) for t in self.store.tracks if t.unit_sn == sn]

    def set_unit(self, sn: str, **values: Any) -> None:
        self.store.units[sn] = replace(self.store.units[sn], **values)

    async def refused(self, cmd: lc.DisposeUnit, code: ErrorCode) -> DomainError:
        with pytest.raises(DomainError) as err:
            await self.f.do(cmd)
        assert err.value.code is code, err.value
        return err.value


async def line(units: int = 3, **build: Any) -> Line:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=units, **build)
    return Line(
        f,
        store,
        IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()),
    )


async def with_retest(max_attempts: int = 2) -> Line:
    """The ingest route with maxAttempts at the ICT step, recompiled, new run."""
    ln = await line()
    await ln.f.with_retest(max_attempts)
    return ln


async def test_retest_fail_then_pass_advances() -> None:
    ln = await with_retest()
    sn = ln.f.sns[0]
    ln.set_unit(sn, current_step_no=20)
    assert (await ln.ict(sn, "Failed")).status is IngestStatus.ACCEPTED
    assert ln.state(sn) == (UnitStatus.QUEUED, 20)  # a retest remains
    assert (await ln.ict(sn, "Passed")).status is IngestStatus.ACCEPTED
    assert ln.state(sn) == (UnitStatus.QUEUED, 30)
    assert ln.tracks(sn) == [(20, 1, TrackResult.FAIL), (20, 2, TrackResult.PASS)]


async def test_the_fail_that_reaches_max_attempts_is_out_failed() -> None:
    ln = await with_retest()
    sn = ln.f.sns[0]
    ln.set_unit(sn, current_step_no=20)
    await ln.ict(sn, "Failed")
    await ln.ict(sn, "Failed")
    assert ln.state(sn) == (UnitStatus.OUT_FAILED, 20)
    assert [attempt for _, attempt, _ in ln.tracks(sn)] == [1, 2]
    third = await ln.ict(sn, "Passed")
    assert third.error is not None and third.error.code is ErrorCode.UNIT_OUT_FAILED


async def test_hold_release_and_scrap() -> None:
    ln = await line(units=2)
    f, sn = ln.f, ln.f.sns[0]
    await ln.ingest(f.aoi_input(sn, judgement="NG"))  # OUT_FAILED at 10
    held = await f.do(lc.DisposeUnit(sn, DispositionAction.HOLD, "failure analysis"))
    assert held.unit.status is UnitStatus.ON_HOLD
    refused = await ln.ingest(f.aoi_input(sn))
    assert refused.error is not None and refused.error.code is ErrorCode.UNIT_ON_HOLD
    released = await f.do(lc.DisposeUnit(sn, DispositionAction.RELEASE, "FA done"))
    assert (released.unit.sn, released.unit.status, released.unit.current_step_no) == (
        sn,
        UnitStatus.OUT_FAILED,
        10,
    )  # as before the hold
    scrapped = await f.do(lc.DisposeUnit(sn, DispositionAction.SCRAP, "burnt"))
    assert scrapped.unit.status is UnitStatus.SCRAPPED
    await ln.refused(
        lc.DisposeUnit(sn, DispositionAction.RELEASE, "x"), ErrorCode.DISPOSITION_INVALID
    )


async def test_alarm_hold_then_release_returns_to_the_next_step() -> None:
    ln = await line(units=1, aoi_hold=True)
    f, sn = ln.f, ln.f.sns[0]
    await ln.ingest(f.aoi_input(sn, void=20.0, extra=[{"key": "void_pct", "val": 41.0}]))
    assert ln.state(sn) == (UnitStatus.ON_HOLD, 10)  # FAIL (KEY), held
    released = await f.do(lc.DisposeUnit(sn, DispositionAction.RELEASE, "void checked by X-ray"))
    assert released.unit.status is UnitStatus.OUT_FAILED


@pytest.mark.parametrize(
    ("setup", "action", "to_step"),
    [
        ({}, DispositionAction.RETEST, None),  # a QUEUED unit needs no disposition
        ({"status": UnitStatus.DONE}, DispositionAction.RELEASE, None),  # HOLD from QUEUED is containment now
        ({"status": UnitStatus.OUT_FAILED}, DispositionAction.RELEASE, None),
        ({"status": UnitStatus.OUT_FAILED, "current_step_no": 20}, DispositionAction.REWORK, None),  # no toStepNo
        ({"status": UnitStatus.OUT_FAILED, "current_step_no": 20}, DispositionAction.REWORK, 30),  # after the current step
        ({"status": UnitStatus.OUT_FAILED, "current_step_no": 20}, DispositionAction.REWORK, 15),  # no such step
        ({"status": UnitStatus.ON_HOLD, "held_from": UnitStatus.QUEUED}, DispositionAction.RETEST, None),
        ({"status": UnitStatus.DONE}, DispositionAction.SCRAP, None),
    ],
)  # fmt: skip
async def test_disposition_invalid(
    setup: dict[str, Any], action: DispositionAction, to_step: int | None
) -> None:
    ln = await line(units=1)
    sn = ln.f.sns[0]
    ln.set_unit(sn, **setup)
    before = ln.store.units[sn]
    await ln.refused(
        lc.DisposeUnit(sn, action, "r", to_step_no=to_step), ErrorCode.DISPOSITION_INVALID
    )
    assert ln.store.dispositions == [] and ln.store.units[sn] == before


async def test_dispositions_are_audited_and_need_a_reason() -> None:
    ln = await line(units=1)
    sn = ln.f.sns[0]
    await ln.refused(lc.DisposeUnit(sn, DispositionAction.SCRAP, "  "), ErrorCode.VALIDATION_FAILED)
    await ln.refused(
        lc.DisposeUnit("NOBODY", DispositionAction.SCRAP, "x"), ErrorCode.UNIT_NOT_FOUND
    )
    audited = [
        (a.outcome, a.error_code)
        for a in ln.store.audit
        if a.action == "disposeUnit" and a.entity_key == sn
    ]
    assert audited == [(AuditOutcome.REFUSED, "VALIDATION_FAILED")]


async def test_retest_applies_to_track_out_alike() -> None:
    bus, _ = fake_bus()
    f = await ExecFactory(bus).build(units=1)
    c = f.code
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(c("R"), step_no=10, station_group_code=c("PRN-G"), max_attempts=2)
        )
    )
    assert (await f.do(md.CompileRouting(c("R")))).is_ready
    run = await f.do(prod.CreateRun(c("WO"), c("L"), 1, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    [unit] = await f.do(prod.RegisterUnits(run.run_no, sns=(c("M-1"),)))
    at = (c("PRN-1"), run.run_no, unit.sn)
    first = await f.do(ex.TrackIn(*at))
    out = await f.do(ex.TrackOut(*at, result=TrackResult.FAIL))
    assert (first.track.attempt, out.unit.status, out.unit.current_step_no) == (
        1,
        UnitStatus.QUEUED,
        10,
    )
    second = await f.do(ex.TrackIn(*at))
    out = await f.do(ex.TrackOut(*at, result=TrackResult.FAIL))
    assert (second.track.attempt, out.unit.status, out.unit.current_step_no) == (
        2,
        UnitStatus.OUT_FAILED,
        10,
    )
