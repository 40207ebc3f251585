"""Order tolerance over the fakes (issue 20): which early events park, which are refused, and
the re-drive by every move that brings units to a step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain import master as dm
from domain.enums import (
    AuditOutcome,
    IngestStatus,
    StationType,
    TrackResult,
    UnitStatus,
)
from domain.errors import ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import holds as ho
from domain.usecases import manual_execution as mx
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, ICT_MAPPING, IngestFactory


async def line(units: int = 2) -> tuple[IngestFactory, FakeStore, IngestService]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=units)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    return f, store, service


def ict(f: IngestFactory, *sns: str, key: str = "ICT-K", vcc: float | None = 3.3) -> dict[str, Any]:
    return f.ict_input([(sn, "Passed", 1001.0, vcc) for sn in sns], key=f.code(key))


async def send(service: IngestService, f: IngestFactory, data: dict[str, Any]) -> IngestOutcome:
    return await service.ingest(f.envelope(data), ACTOR)


async def test_an_early_event_parks_and_the_move_that_brings_its_unit_accepts_it() -> None:
    f, store, service = await line()
    sn = f.sns[0]
    early = await send(service, f, ict(f, sn))
    assert early.status is IngestStatus.PARKED, early.error
    assert early.parked is not None and early.parked.waiting_for_step_no == 20
    assert (early.parked.sns, early.parked.run_no) == ((sn,), f.run_no)
    assert not store.tracks and not store.rejections and not store.events
    assert store.audit[-1].outcome is AuditOutcome.PARKED
    # the resend of the same input: PARKED again, nothing written; another input: a conflict
    again = await send(service, f, ict(f, sn))
    assert again.status is IngestStatus.PARKED and again.parked == early.parked
    other = await send(service, f, ict(f, sn, vcc=3.25))
    assert other.error is not None and other.error.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert other.error.details == {"parkedEventId": str(early.parked.id)}
    assert len(store.parked) == 1
    # the AOI event brings the unit to the ICT step: the ICT event runs in its transaction
    aoi = await send(service, f, f.aoi_input(sn))
    assert aoi.status is IngestStatus.ACCEPTED and aoi.redriven == 1
    assert not store.parked
    assert [(tr.step_no, tr.result) for tr in store.tracks] == [
        (10, TrackResult.PASS),
        (20, TrackResult.PASS),
    ]
    redriven = next(e for e in store.events if e.dedupe_key == f.code("ICT-K"))
    assert redriven.received_at == early.parked.received_at
    assert redriven.accepted_at is not None
    assert store.units[sn].current_step_no == 30
    redrive_audit = store.audit[-2]
    assert (redrive_audit.action, redrive_audit.outcome) == ("redriveParkedEvent", AuditOutcome.OK)
    # and the key is now an accepted event's: the resend is its DUPLICATE
    assert (await send(service, f, ict(f, sn))).status is IngestStatus.DUPLICATE


async def test_an_early_event_failing_another_check_is_refused_with_that_code() -> None:
    f, store, service = await line()
    sn = f.sns[0]
    no_vcc = await send(service, f, ict(f, sn, vcc=None))  # VCC is required on a PASS
    assert no_vcc.error is not None and no_vcc.error.code is ErrorCode.REQUIRED_DATA_MISSING
    ghost = ict(f, sn, key="K2")
    ghost["payload"]["Source"] = f.code("NOPE")
    gone = await send(service, f, ghost)
    assert gone.error is not None and gone.error.code is ErrorCode.STATION_NOT_FOUND
    assert not store.parked and len(store.rejections) == 2


async def test_step_mismatch_stays_for_an_event_behind_its_unit_or_at_no_step_it_could_reach() -> (
    None
):
    f, store, service = await line()
    sn = f.sns[0]
    assert (await send(service, f, f.aoi_input(sn))).status is IngestStatus.ACCEPTED
    late = await send(service, f, f.aoi_input(sn))  # the unit is at the ICT step now
    assert late.error is not None and late.error.code is ErrorCode.STEP_MISMATCH
    # an ICT event from a station no ICT step takes fits no step ahead: STEP_MISMATCH
    wrong = ict(f, f.sns[1], key="K3")
    wrong["payload"]["Source"] = f.code("AOI-9")
    refused = await send(service, f, wrong)
    assert refused.error is not None and refused.error.code is ErrorCode.STEP_MISMATCH
    assert not store.parked


async def test_a_batch_waits_for_its_last_unit_and_a_redrive_that_fails_is_a_rejection() -> None:
    f, store, service = await line()
    a, b = f.sns
    parked = await send(service, f, ict(f, a, b))
    assert parked.status is IngestStatus.PARKED, parked.error
    assert parked.parked is not None and set(parked.parked.unit_ids) == {
        store.units[a].id,
        store.units[b].id,
    }
    # a arrives, b does not: parked again, keeping its arrival and expiry
    assert (await send(service, f, f.aoi_input(a))).redriven == 1
    [again] = store.parked
    assert again.id != parked.parked.id
    assert (again.received_at, again.expires_at) == (
        parked.parked.received_at,
        parked.parked.expires_at,
    )
    assert store.audit[-2].outcome is AuditOutcome.PARKED
    # b fails its AOI (it stays at step 10, nothing moves), then... it is refused once a
    # move re-drives it: b is OUT_FAILED now
    await send(service, f, f.aoi_input(b, judgement="NG"))
    assert store.parked and store.units[b].status is UnitStatus.OUT_FAILED
    store.units[a] = replace(store.units[a], current_step_no=10)
    assert (await send(service, f, f.aoi_input(a))).redriven == 1
    assert not store.parked
    [rejection] = [j for j in store.rejections if j.dedupe_key == f.code("ICT-K")]
    assert rejection.error_code is ErrorCode.UNIT_OUT_FAILED and rejection.replayable
    assert rejection.received_at == parked.parked.received_at
    assert store.audit[-2].outcome is AuditOutcome.REFUSED


async def test_a_held_unit_keeps_its_parked_event_until_released() -> None:
    f, store, service = await line(units=1)
    sn = f.sns[0]
    assert (await send(service, f, ict(f, sn))).status is IngestStatus.PARKED
    hold = await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "check the solder"))
    # held where an alarm HOLD would have stopped it: at the ICT step
    store.units[sn] = replace(store.units[sn], current_step_no=20)
    assert store.parked and store.units[sn].status is UnitStatus.ON_HOLD
    await f.do(ho.ReleaseHold(hold.id))
    assert not store.parked
    assert store.units[sn].current_step_no == 30
    assert [tr.step_no for tr in store.tracks] == [20]


async def test_a_manual_track_out_re_drives() -> None:
    f, store, service = await line(units=1)
    c = f.code
    await f.do(
        md.UpsertRouting(
            dm.Routing(
                c("R2"),
                "Pack first",
                steps=(dm.RoutingStep(10, c("PACK")), dm.RoutingStep(20, c("ICT"))),
            )
        )
    )
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(c("R2"), step_no=10, station_group_code=c("PACK-G"))
        )
    )
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R2"), step_no=20, station_group_code=c("ICT-G"), ingest_mapping=ICT_MAPPING
            )
        )
    )
    assert (await f.do(md.CompileRouting(c("R2")))).is_ready
    await f.do(prod.ReceiveWorkOrder(c("WO2"), "P", 1, c("R2")))
    await f.do(prod.ReleaseWorkOrder(c("WO2")))
    run = await f.do(prod.CreateRun(c("WO2"), c("L"), 1, run_no=c("RUN-2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    [unit] = await f.do(prod.RegisterUnits(run.run_no, count=1, sn_prefix=c("M-")))
    assert (await send(service, f, ict(f, unit.sn))).status is IngestStatus.PARKED
    await f.do(mx.TrackIn(c("PACK-1"), run.run_no, unit.sn))
    await f.do(mx.TrackOut(c("PACK-1"), run.run_no, unit.sn, TrackResult.PASS))
    assert not store.parked
    assert store.units[unit.sn].status is UnitStatus.DONE
    assert [(tr.step_no, tr.source.value) for tr in store.tracks if tr.unit_sn == unit.sn] == [
        (10, "MANUAL"),
        (20, StationType.TEST.value),
    ]


async def test_partial_parks_only_when_every_unit_is_behind() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2, ict_partial=True)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    a, b = f.sns
    assert (await send(service, f, f.aoi_input(a))).status is IngestStatus.ACCEPTED
    # a stands at the ICT step, b behind: a is recorded, b refused on its own as today
    mixed = await send(service, f, ict(f, a, b))
    assert mixed.status is IngestStatus.ACCEPTED and mixed.event is not None
    assert mixed.event.sn_list == (a,)
    [rejection] = store.rejections
    assert (rejection.dedupe_key, rejection.error_code) == (
        f"{f.code('ICT-K')}#{b}",
        ErrorCode.STEP_MISMATCH,
    )
    assert not store.parked
    # every unit behind: the event parks whole
    c_units = await f.do(prod.RegisterUnits(f.run_no, count=2, sn_prefix=f.code("P-")))
    waiting = await send(service, f, ict(f, *(u.sn for u in c_units), key="ICT-2"))
    assert waiting.status is IngestStatus.PARKED, waiting.error


async def test_a_release_disposition_re_drives() -> None:
    from domain.enums import DispositionAction
    from domain.usecases import lifecycle as lc

    f, store, _ = await line(units=1)
    sn = f.sns[0]
    await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "check the solder"))
    # the event comes while the unit is held at the AOI step: held is refused first (§4 step 4)
    service = IngestService(
        f.bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    held = await send(service, f, ict(f, sn))
    assert held.error is not None and held.error.code is ErrorCode.UNIT_ON_HOLD
    store.units[sn] = replace(store.units[sn], status=UnitStatus.QUEUED)
    assert (await send(service, f, ict(f, sn, key="K2"))).status is IngestStatus.PARKED
    await f.do(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "again"))
    store.units[sn] = replace(store.units[sn], current_step_no=20)
    await f.do(lc.DisposeUnit(sn, DispositionAction.RELEASE, "checked"))
    assert not store.parked and store.units[sn].current_step_no == 30
