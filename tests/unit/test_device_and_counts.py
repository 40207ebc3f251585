"""Refusals of the device gateway and of placement production counts over the fakes
(DOMAIN.md §7), each checked to write nothing. The wire (inputs, payloads, the report, both
databases) is tests/api/test_device_and_counts.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.device_records import ModuleCount
from domain.enums import DeviceDataSource, TrackResult
from domain.errors import DomainError, ErrorCode
from domain.usecases import counts as co
from domain.usecases import device as dev
from domain.usecases import manual_execution as ex
from domain.usecases.bus import Command
from domain.values import ValueInput as Value
from tests.conftest import unique
from tests.exec_builders import ExecFactory
from tests.fakes import FakeStore, fake_bus

AT = datetime.fromisoformat("2026-03-02T09:30:00+01:00")
#: a device's value (issue 17 item 4 makes it domain.values.ValueInput)


async def printed(sn_index: int = 0) -> tuple[ExecFactory, FakeStore, int]:
    """An exec factory over the fakes and the id of a unit's closed PRINT track."""
    bus, store = fake_bus()
    f = await ExecFactory(bus).build(units=2)
    at = (f.code("PRN-1"), f.run_no, f.sns[sn_index])
    executed = await f.do(ex.TrackIn(*at))
    pressure = Value("Pressure", {"valueNumber": 5.0})
    await f.do(ex.TrackOut(*at, TrackResult.PASS, data=(pressure,)))
    assert executed.track.id is not None
    return f, store, executed.track.id


async def refused(f: ExecFactory, store: FakeStore, cmd: Command, code: ErrorCode) -> None:
    before = (len(store.values), len(store.device_records), len(store.counts))
    with pytest.raises(DomainError) as err:
        await f.do(cmd)
    assert err.value.code is code, (cmd, err.value)
    assert (len(store.values), len(store.device_records), len(store.counts)) == before


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"track_id": 1, "carrier_track_id": 1}, ErrorCode.VALIDATION_FAILED),
        ({"track_id": 999999999}, ErrorCode.TRACK_NOT_FOUND),
        ({"track_id": None, "carrier_track_id": 999999999}, ErrorCode.TRACK_NOT_FOUND),
        ({"source": DeviceDataSource.MANUAL}, ErrorCode.VALIDATION_FAILED),
        ({"data": (Value("Nope", {"valueNumber": 1}),)}, ErrorCode.DATA_SPEC_NOT_FOUND),
        (
            {"data": (Value("Pressure", {"valueNumber": 5}),)},
            ErrorCode.DATA_SPEC_METHOD_MISMATCH,
        ),
        (
            {"data": (Value("StencilTemp", {"valueText": "warm"}),)},
            ErrorCode.DATA_VALUE_INVALID,
        ),
        (
            {"data": (Value("StencilTemp", {"valueNumber": 1, "valueText": "1"}),)},
            ErrorCode.VALIDATION_FAILED,
        ),
    ],
)
async def test_device_refusals(extra: dict[str, Any], code: ErrorCode) -> None:
    f, store, track_id = await printed()
    given: dict[str, Any] = {
        "event_id": unique("D"),
        "event_time": AT,
        "source": DeviceDataSource.AUTO,
        "data": (Value("StencilTemp", {"valueNumber": 24.5}),),
        "track_id": track_id,
    }
    await refused(f, store, dev.RecordDeviceData(**(given | extra)), code)


@pytest.mark.parametrize(
    ("modules", "kw", "code"),
    [
        ([("M1", 10, 11)], {}, ErrorCode.VALIDATION_FAILED),
        (
            [("M1", 10, 5)],
            {"ended_at": datetime.fromisoformat("2026-03-02T05:00:00+01:00")},
            ErrorCode.VALIDATION_FAILED,
        ),
        ([], {}, ErrorCode.VALIDATION_FAILED),
        ([("M1", 10, 5), ("M1", 1, 1)], {}, ErrorCode.VALIDATION_FAILED),
        ([("M1", 10, 5)], {"line_code": "NO-LINE"}, ErrorCode.LINE_NOT_FOUND),
        ([("M1", 10, 5)], {"run_no": "NO-RUN"}, ErrorCode.RUN_NOT_FOUND),
        (
            [("M1", 10, 5)],
            {"product_code": "BRD-100"},
            ErrorCode.VALIDATION_FAILED,
        ),  # not the run's
    ],
)
async def test_count_refusals(
    modules: list[tuple[str, int, int]], kw: dict[str, Any], code: ErrorCode
) -> None:
    bus, store = fake_bus()
    f = await ExecFactory(bus).build(units=1)
    given: dict[str, Any] = {
        "event_id": unique("C"),
        "line_code": f.code("L"),
        "equipment_id": "NXT-1",
        "run_no": f.run_no,
        "product_code": "P",  # the run's (issue 16: another is VALIDATION_FAILED)
        "quantity": 40,
        "started_at": datetime.fromisoformat("2026-03-02T06:00:00+01:00"),
        "ended_at": datetime.fromisoformat("2026-03-02T06:10:00+01:00"),
        "modules": tuple(ModuleCount(m, p, q) for m, p, q in modules),
    }
    await refused(f, store, co.RecordProductionCounts(**(given | kw)), code)
