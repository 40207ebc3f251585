"""trackIn / trackOut rules and refusals over the fakes (DOMAIN.md §5). The wire (the inputs,
the payloads, both databases) is tests/api/test_manual.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.enums import IngestStatus, RunStatus, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import manual_execution as ex
from domain.usecases.bus import Command
from domain.values import ValueInput as Value
from tests.exec_builders import ExecFactory
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, envelope

#: an operator's value (issue 17 item 4 makes it domain.values.ValueInput)

PRESSURE = (Value("Pressure", {"valueNumber": 5.5}),)


async def factory(units: int = 2) -> tuple[ExecFactory, FakeStore]:
    bus, store = fake_bus()
    return await ExecFactory(bus).build(units=units), store


def tin(f: ExecFactory, sn: str, station: str = "PRN-1") -> ex.TrackIn:
    return ex.TrackIn(f.code(station), f.run_no, sn)


def tout(
    f: ExecFactory,
    sn: str,
    result: TrackResult = TrackResult.PASS,
    data: tuple[Value, ...] = PRESSURE,
    station: str = "PRN-1",
) -> ex.TrackOut:
    return ex.TrackOut(f.code(station), f.run_no, sn, result, data=data)


async def refused(f: ExecFactory, cmd: Command, code: ErrorCode) -> DomainError:
    with pytest.raises(DomainError) as err:
        await f.do(cmd)
    assert err.value.code is code, err.value
    return err.value


def details(error: DomainError) -> dict[str, Any]:
    assert error.details is not None
    return error.details


async def test_key_failure_and_hold_alarm_on_track_out() -> None:
    f, store = await factory()
    sn = f.sns[0]
    await f.do(tin(f, sn))
    out = await f.do(tout(f, sn, data=(Value("Pressure", {"valueNumber": 11.0}),)))
    assert out.track.result is TrackResult.FAIL  # a KEY spec outside its limits fails the PASS
    [value] = store.values
    assert (value.spec_name, value.alarmed) == ("Pressure", True)
    assert out.unit.status is UnitStatus.ON_HOLD  # the HOLD alarm, after the advance


async def test_a_fail_needs_no_required_data() -> None:
    f, _ = await factory()
    await f.do(tin(f, f.sns[0]))
    out = await f.do(tout(f, f.sns[0], result=TrackResult.FAIL, data=()))
    assert out.unit.status is UnitStatus.OUT_FAILED


async def test_track_in_refusals() -> None:
    f, store = await factory()
    sn = f.sns[0]
    await refused(f, tin(f, "NOBODY"), ErrorCode.UNIT_NOT_FOUND)
    other = await ExecFactory(f.bus).build(units=1)
    await refused(f, ex.TrackIn(f.code("PRN-1"), other.run_no, sn), ErrorCode.RUN_MISMATCH)
    await refused(f, ex.TrackIn(f.code("PRN-1"), "NO-RUN", sn), ErrorCode.RUN_NOT_FOUND)
    await refused(f, tin(f, sn, station="NOPE"), ErrorCode.STATION_NOT_FOUND)
    e = await refused(f, tin(f, sn, station="PACK-1"), ErrorCode.STATION_MISMATCH)
    assert details(e)["stationGroupCode"] == f.code("PRN-G")
    store.units[sn] = replace(store.units[sn], current_step_no=30)
    e = await refused(f, tin(f, sn), ErrorCode.STEP_MISMATCH)
    assert details(e)["expectedStationType"] == "AUTO"
    await refused(f, tin(f, f.sns[1], station="PACK-1"), ErrorCode.STATION_MISMATCH)
    store.runs[f.run_no] = replace(store.runs[f.run_no], status=RunStatus.PREP)
    e = await refused(f, tin(f, f.sns[1]), ErrorCode.RUN_NOT_AUTHORIZED)
    assert details(e)["runStatus"] == "PREP"
    assert not store.tracks


async def test_in_station_refusals() -> None:
    f, store = await factory()
    sn = f.sns[0]
    await f.do(tin(f, sn))
    await refused(f, tin(f, sn), ErrorCode.UNIT_ALREADY_IN_STATION)
    # the service's clock past the event's 09:00 (MES_MAX_CLOCK_SKEW)
    clock = FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    service = IngestService(
        f.bus.uow_factory, clock, Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    aoi = {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": "x",
        "eventType": "AUTO",
        "occurredAt": "2026-03-02T09:00:00+00:00",
        "payload": {"sn": sn, "station": f.code("AOI-1"), "result": "OK"},
    }
    result = await service.ingest(envelope(aoi), ACTOR)
    assert result.status is IngestStatus.REJECTED and result.error is not None
    assert result.error.code is ErrorCode.UNIT_ALREADY_IN_STATION
    e = await refused(f, tout(f, sn, station="PRN-2"), ErrorCode.UNIT_NOT_IN_STATION)
    assert details(e)["openAtStationCode"] == f.code("PRN-1")
    await refused(f, tout(f, f.sns[1]), ErrorCode.UNIT_NOT_IN_STATION)
    assert len(store.tracks) == 1 and store.tracks[0].out_at is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (Value("Nope", {"valueNumber": 1}), ErrorCode.DATA_SPEC_NOT_FOUND),
        (Value("StencilTemp", {"valueNumber": 1}), ErrorCode.DATA_SPEC_METHOD_MISMATCH),
        (
            Value("Pressure", {"valueNumber": 5, "valueText": "5"}),
            ErrorCode.VALIDATION_FAILED,
        ),
        (Value("Pressure"), ErrorCode.VALIDATION_FAILED),
        (Value("Pressure", {"valueText": "heavy"}), ErrorCode.DATA_VALUE_INVALID),
        (Value("Note", {"valueText": "no pressure"}), ErrorCode.REQUIRED_DATA_MISSING),
    ],
)
async def test_track_out_data_refusals_leave_the_track_open(value: Value, code: ErrorCode) -> None:
    f, store = await factory()
    sn = f.sns[0]
    await f.do(tin(f, sn))
    await refused(f, tout(f, sn, data=(value,)), code)
    assert store.units[sn].status is UnitStatus.IN_STATION
    assert [t.out_at for t in store.tracks] == [None] and store.values == []
