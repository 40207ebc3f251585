"""Every refusal §4 names for AUTO/TEST over the fakes, each checked to write nothing but its
rejection. The wire (the input's parsing, the rejection's shape, both databases) is
tests/api/test_ingest_refusals.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain import master as dm
from domain.enums import IngestStatus, RunStatus, StationType, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.conftest import unique
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


class Line:
    """An ingest factory over the fakes, its store and the ingest service."""

    def __init__(self, f: IngestFactory, store: FakeStore, service: IngestService):
        self.f, self.store, self.service = f, store, service

    async def ingest(self, data: dict[str, Any]) -> IngestOutcome:
        return await self.service.ingest(self.f.envelope(data), ACTOR)

    def snapshot(self) -> dict[str, Any]:
        """What a refusal must not change: the units, their tracks and values, the events."""
        s, run_no = self.store, self.f.run_no
        units = sorted(
            (u.sn, u.status, u.current_step_no) for u in s.units.values() if u.run_no == run_no
        )
        return {
            "units": units,
            "tracks": len(s.tracks),
            "values": len(s.values),
            "events": len(s.events),
            "run": s.runs[run_no].status,
        }

    async def refused(self, data: dict[str, Any], code: ErrorCode) -> DomainError:
        before = self.snapshot()
        result = await self.ingest(data)
        assert result.status is IngestStatus.REJECTED, result
        assert result.error is not None and result.error.code is code, result.error
        assert result.event is None
        assert result.rejection is not None
        assert result.rejection.dedupe_key == data["dedupeKey"]
        assert self.snapshot() == before, "a refusal wrote something"
        return result.error

    def set_unit(self, sn: str, **values: Any) -> None:
        self.store.units[sn] = replace(self.store.units[sn], **values)


async def line(units: int = 3, authorize: bool = True) -> Line:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=units, authorize=authorize)
    return Line(
        f,
        store,
        IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()),
    )


def details(error: DomainError) -> dict[str, Any]:
    assert error.details is not None
    return error.details


async def test_idempotency_conflict() -> None:
    ln = await line()
    f = ln.f
    key = unique("K")
    first = await ln.ingest(f.aoi_input(f.sns[0], key=key))
    assert first.status is IngestStatus.ACCEPTED and first.event is not None
    changed = f.aoi_input(f.sns[0], key=key, judgement="NG")
    error = await ln.refused(changed, ErrorCode.IDEMPOTENCY_CONFLICT)
    assert details(error)["existingEventId"] == str(first.event.id)


async def test_an_offset_of_the_same_instant_is_a_duplicate() -> None:
    ln = await line()
    data = ln.f.aoi_input(ln.f.sns[0])
    first = await ln.ingest(data)
    assert first.event is not None
    before = ln.snapshot()
    second = await ln.ingest(data | {"occurredAt": "2026-03-02T07:15:03Z"})  # the same instant
    assert second.status is IngestStatus.DUPLICATE and second.event is not None
    assert second.event.id == first.event.id
    assert ln.snapshot() == before


async def test_ingest_payload_invalid() -> None:
    ln = await line()
    f = ln.f
    nothing = f.aoi_input(f.sns[0]) | {"payload": {"station": f.code("AOI-1"), "judgement": "OK"}}
    error = await ln.refused(nothing, ErrorCode.INGEST_PAYLOAD_INVALID)
    assert "payload.pcb.id" in details(error)["pathsTried"]
    maybe = f.aoi_input(f.sns[0], judgement="MAYBE")
    error = await ln.refused(maybe, ErrorCode.INGEST_PAYLOAD_INVALID)
    assert details(error)["path"] == "payload.judgement"


async def test_run_not_found_and_run_mismatch() -> None:
    ln = await line()
    f = ln.f
    await ln.refused(f.aoi_input(f.sns[0]) | {"runNo": "NO-SUCH-RUN"}, ErrorCode.RUN_NOT_FOUND)
    other = await IngestFactory(f.bus).build(units=1)
    error = await ln.refused(
        f.aoi_input(f.sns[0]) | {"runNo": other.run_no}, ErrorCode.RUN_MISMATCH
    )
    assert details(error)["runNos"] == [f.run_no]


async def test_unit_not_found() -> None:
    ln = await line()
    ghost = ln.f.code("NEVER-REGISTERED")
    error = await ln.refused(ln.f.aoi_input(ghost), ErrorCode.UNIT_NOT_FOUND)
    assert details(error)["sns"] == [ghost]


async def test_ingest_mapping_missing() -> None:
    # a route without a TEST step, and a TEST event directed at its run
    ln = await line()
    f, c = ln.f, ln.f.code
    await f.do(
        md.UpsertRouting(dm.Routing(c("R2"), "AOI only", steps=(dm.RoutingStep(10, c("AOI")),)))
    )
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R2"),
                step_no=10,
                station_group_code=c("AOI-G"),
                ingest_mapping={
                    "snPath": "payload.pcb.id",
                    "stationCodePath": "payload.station",
                    "result": {"path": "payload.judgement"},
                },
            )
        )
    )
    assert (await f.do(md.CompileRouting(c("R2")))).is_ready
    await f.do(prod.ReceiveWorkOrder(c("WO2"), "P", 1, c("R2")))
    await f.do(prod.ReleaseWorkOrder(c("WO2")))
    run = await f.do(prod.CreateRun(c("WO2"), c("L"), 1, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    await f.do(prod.RegisterUnits(run.run_no, sns=(c("ONLY-AOI"),)))
    test_event = f.ict_input([(c("ONLY-AOI"), "Passed", 1000.0, 3.3)]) | {"runNo": run.run_no}
    error = await ln.refused(test_event, ErrorCode.INGEST_MAPPING_MISSING)
    assert StationType.TEST.value in error.message


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (UnitStatus.DONE, ErrorCode.UNIT_ALREADY_DONE),
        (UnitStatus.OUT_FAILED, ErrorCode.UNIT_OUT_FAILED),
        (UnitStatus.ON_HOLD, ErrorCode.UNIT_ON_HOLD),
        (UnitStatus.SCRAPPED, ErrorCode.UNIT_SCRAPPED),
        (UnitStatus.IN_STATION, ErrorCode.UNIT_ALREADY_IN_STATION),
    ],
)
async def test_unit_state_refusals(status: UnitStatus, code: ErrorCode) -> None:
    ln = await line()
    ln.set_unit(ln.f.sns[0], status=status)
    error = await ln.refused(ln.f.aoi_input(ln.f.sns[0]), code)
    assert details(error)["status"] == status.value


@pytest.mark.parametrize("run_status", [RunStatus.PREP, RunStatus.ON_HOLD, RunStatus.COMPLETED])
async def test_run_not_authorized(run_status: RunStatus) -> None:
    ln = await line(units=1, authorize=False)
    f = ln.f
    ln.store.runs[f.run_no] = replace(ln.store.runs[f.run_no], status=run_status)
    data = f.aoi_input(f.sns[0]) | (
        {"runNo": f.run_no} if run_status is RunStatus.COMPLETED else {}
    )
    error = await ln.refused(data, ErrorCode.RUN_NOT_AUTHORIZED)
    assert details(error)["runStatus"] == run_status.value


async def test_step_mismatch() -> None:
    ln = await line()
    sn = ln.f.sns[0]
    ln.set_unit(sn, current_step_no=20)
    error = await ln.refused(ln.f.aoi_input(sn), ErrorCode.STEP_MISMATCH)
    assert details(error) == {
        "sn": sn,
        "currentStepNo": 20,
        "expectedStationType": "TEST",
        "eventType": "AUTO",
    }


async def test_units_of_one_event_at_different_steps_are_a_step_mismatch() -> None:
    ln = await line()
    f = ln.f
    ln.set_unit(f.sns[0], current_step_no=20)
    ln.set_unit(f.sns[1], current_step_no=30)
    data = f.ict_input([(f.sns[0], "Passed", 1000.0, 3.3), (f.sns[1], "Passed", 1000.0, 3.3)])
    error = await ln.refused(data, ErrorCode.STEP_MISMATCH)
    assert details(error)["sn"] == f.sns[1]


async def test_station_not_found_and_mismatch() -> None:
    ln = await line()
    f = ln.f
    error = await ln.refused(
        f.aoi_input(f.sns[0], station=f.code("NOPE")), ErrorCode.STATION_NOT_FOUND
    )
    assert details(error)["stationCode"] == f.code("NOPE")
    error = await ln.refused(
        f.aoi_input(f.sns[0], station=f.code("AOI-9")), ErrorCode.STATION_MISMATCH
    )
    assert details(error)["stationGroupCode"] == f.code("AOI-G")
    error = await ln.refused(
        f.aoi_input(f.sns[0], station=f.code("ICT-1")), ErrorCode.STATION_MISMATCH
    )
    assert details(error)["stationType"] == "TEST"


async def test_data_refusals() -> None:
    ln = await line()
    f = ln.f
    manual = [{"key": "op_note", "val": "looks fine"}]
    error = await ln.refused(
        f.aoi_input(f.sns[0], extra=manual), ErrorCode.DATA_SPEC_METHOD_MISMATCH
    )
    assert details(error)["specName"] == "OperatorNote"
    error = await ln.refused(f.aoi_input(f.sns[0], void="twelve"), ErrorCode.DATA_VALUE_INVALID)
    assert details(error)["specName"] == "VoidRatio"
    error = await ln.refused(f.aoi_input(f.sns[0], void=None), ErrorCode.REQUIRED_DATA_MISSING)
    assert details(error)["missing"] == ["VoidRatio"]


async def test_a_fail_needs_no_required_data() -> None:
    ln = await line()
    sn = ln.f.sns[0]
    result = await ln.ingest(ln.f.aoi_input(sn, judgement="NG", void=None))
    assert result.status is IngestStatus.ACCEPTED, result.error
    assert ln.store.units[sn].status is UnitStatus.OUT_FAILED
