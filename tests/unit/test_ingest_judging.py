"""Judging an AUTO event over the fakes (DOMAIN.md §4): our limits are the authority, a KEY
failure fails the event, a HOLD alarm holds the unit, a PASS at the last step finishes it. The
wire (the event and trace on both databases) is tests/api/test_ingest.py."""

from __future__ import annotations

from domain import master as dm
from domain.enums import IngestStatus, Judge, TrackResult, UnitStatus
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


async def line(
    units: int = 3, aoi_hold: bool = False
) -> tuple[IngestFactory, FakeStore, IngestService]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=units, aoi_hold=aoi_hold)
    return (
        f,
        store,
        IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()),
    )


async def test_our_limits_are_the_authority_and_key_failures_fail() -> None:
    f, store, service = await line()
    extra_judge = [{"key": "void_pct", "val": 31.0, "judge": "OK"}]
    r = await service.ingest(f.envelope(f.aoi_input(f.sns[0], void=None, extra=extra_judge)), ACTOR)
    assert r.event is not None and r.event.result is TrackResult.FAIL
    assert r.event.normalized is not None
    assert r.event.normalized["keyFailures"] == [{"sn": f.sns[0], "specs": ["VoidRatio"]}]
    assert store.units[f.sns[0]].status is UnitStatus.OUT_FAILED


async def test_alarm_with_hold_puts_the_unit_on_hold() -> None:
    f, store, service = await line(units=1, aoi_hold=True)
    r = await service.ingest(f.envelope(f.aoi_input(f.sns[0], void=45.0)), ACTOR)
    value = next(v for v in store.values if v.spec_name == "VoidRatio")
    assert (value.alarmed, value.judge) == (True, Judge.FAIL)
    assert r.event is not None and r.event.result is TrackResult.FAIL
    assert store.units[f.sns[0]].status is UnitStatus.ON_HOLD


async def test_source_judge_is_kept_inside_our_limits() -> None:
    f, _, service = await line()
    inside = [{"key": "void_pct", "val": 10.0, "judge": "NG"}]
    r = await service.ingest(f.envelope(f.aoi_input(f.sns[0], void=None, extra=inside)), ACTOR)
    assert r.event is not None and r.event.result is TrackResult.FAIL  # the machine judged NG


async def test_pass_at_the_last_step_makes_the_unit_done() -> None:
    f, store, service = await line(units=1)
    c = f.code
    await f.do(
        md.UpsertRouting(dm.Routing(c("R1"), "AOI only", steps=(dm.RoutingStep(10, c("AOI")),)))
    )
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R1"),
                step_no=10,
                station_group_code=c("AOI-G"),
                data_spec_names=(),
                ingest_mapping={
                    "snPath": "payload.pcb.id",
                    "stationCodePath": "payload.station",
                    "result": {"path": "payload.judgement"},
                },
            )
        )
    )
    assert (await f.do(md.CompileRouting(c("R1")))).is_ready
    await f.do(prod.ReceiveWorkOrder(c("WO1"), "P", 1, c("R1")))
    await f.do(prod.ReleaseWorkOrder(c("WO1")))
    run = await f.do(prod.CreateRun(c("WO1"), c("L"), 1, run_no=c("RUN1")))
    await f.do(prod.AuthorizeRun(run.run_no))
    await f.do(prod.RegisterUnits(run.run_no, sns=(c("LAST"),)))
    r = await service.ingest(f.envelope(f.aoi_input(c("LAST")) | {"runNo": run.run_no}), ACTOR)
    assert r.status is IngestStatus.ACCEPTED, r.error
    unit = store.units[c("LAST")]
    assert (unit.status, unit.current_step_no) == (UnitStatus.DONE, 10)
