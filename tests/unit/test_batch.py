"""BATCH events and carrier loads over the fakes (DOMAIN.md §4, §6): ALL_OR_NOTHING and PARTIAL
refusals, carrier data, loads moving between carriers. The wire (the event's payload, the
carrier queries, replays, both databases) is tests/api/test_batch.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.enums import IngestStatus, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService, MappingCache
from domain.limits import Limits
from domain.usecases import carriers as cr
from tests.exec_builders import ExecFactory
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, envelope


class Oven:
    """An exec factory over the fakes, its store and the ingest service."""

    def __init__(self, f: ExecFactory, store: FakeStore, service: IngestService):
        self.f, self.store, self.service = f, store, service

    async def ingest(self, data: dict[str, Any]) -> IngestOutcome:
        return await self.service.ingest(envelope(data), ACTOR)

    def at_reflow(self, sns: list[str]) -> None:
        for sn in sns:
            self.store.units[sn] = replace(self.store.units[sn], current_step_no=20)

    def loads(self, carrier_no: str) -> dict[str, bool]:
        """The carrier's loads: unit → still open."""
        carrier = self.store.carriers[carrier_no]
        sns = {u.id: u.sn for u in self.store.units.values()}
        return {
            sns[ld.unit_id]: ld.unloaded_at is None
            for ld in self.store.loads
            if ld.carrier_id == carrier.id
        }

    def rows(self) -> list[int]:
        s = self.store
        return [len(x) for x in (s.carriers, s.loads, s.carrier_tracks, s.tracks, s.values)]


async def oven(units: int, partial: bool = False) -> Oven:
    bus, store = fake_bus()
    f = await ExecFactory(bus).build(units=units, partial=partial)
    return Oven(
        f,
        store,
        IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()),
    )


def refused(result: IngestOutcome, code: ErrorCode) -> dict[str, Any]:
    assert result.status is IngestStatus.REJECTED, result
    assert result.error is not None and result.error.code is code, result.error
    return result.error.details or {}


async def test_carrier_only_event_uses_the_open_loads() -> None:
    o = await oven(units=3)
    f = o.f
    o.at_reflow(f.sns)
    tray = f.code("MAG-7")
    at = datetime(2026, 3, 2, 7, tzinfo=UTC)
    await f.do(cr.LoadCarrier(tray, tuple(f.sns[:2]), at=at))
    assert o.loads(tray) == {f.sns[0]: True, f.sns[1]: True}
    await f.do(cr.LoadCarrier(tray, tuple(f.sns[:2]), at=at))
    assert len(o.store.loads) == 2  # the same input twice changes nothing
    r = await o.ingest(f.reflow_input(None, carrier=tray))
    assert r.status is IngestStatus.ACCEPTED and r.event is not None, r.error
    assert list(r.event.sn_list) == f.sns[:2]
    # the loads stay open after a BATCH step until unloaded (or a step that is not BATCH)
    await f.do(cr.UnloadCarrier(tray))
    refused(await o.ingest(f.reflow_input(None, carrier=tray)), ErrorCode.CARRIER_EMPTY)
    unknown = await o.ingest(f.reflow_input(None, carrier=f.code("NO-SUCH")))
    refused(unknown, ErrorCode.CARRIER_NOT_FOUND)


async def test_loads_move_between_carriers_and_unload() -> None:
    o = await oven(units=2)
    f = o.f
    a, b = f.code("A"), f.code("B")
    await f.do(cr.LoadCarrier(a, tuple(f.sns)))
    await f.do(cr.LoadCarrier(b, (f.sns[0],)))
    assert o.loads(b) == {f.sns[0]: True}
    assert o.loads(a) == {f.sns[0]: False, f.sns[1]: True}
    await f.do(cr.UnloadCarrier(a))
    assert o.loads(a) == {f.sns[0]: False, f.sns[1]: False}
    await f.do(cr.UnloadCarrier(a))  # again: no error
    with pytest.raises(DomainError) as err:
        await f.do(cr.UnloadCarrier(f.code("NONE")))
    assert err.value.code is ErrorCode.CARRIER_NOT_FOUND
    with pytest.raises(DomainError) as err:
        await f.do(cr.LoadCarrier(a, ("NOBODY-X",)))
    assert err.value.code is ErrorCode.UNIT_NOT_FOUND


async def test_all_or_nothing_refuses_the_whole_event_and_writes_nothing() -> None:
    o = await oven(units=3)
    f = o.f
    o.at_reflow(f.sns[:2])
    # the third unit is past the reflow step (one still behind it would park the event until
    # it arrives: issue 20, tests/unit/test_parking.py)
    o.store.units[f.sns[2]] = replace(o.store.units[f.sns[2]], current_step_no=30)
    before = o.rows()
    details = refused(
        await o.ingest(f.reflow_input(f.sns, carrier=f.code("T-X"))), ErrorCode.STEP_MISMATCH
    )
    assert details["sn"] == f.sns[2]
    assert o.rows() == before


async def test_carrier_key_failure_fails_every_board_and_hold_alarm_holds_them() -> None:
    o = await oven(units=2)
    f = o.f
    o.at_reflow(f.sns)
    r = await o.ingest(f.reflow_input(f.sns, peak=257.0))
    assert r.event is not None and r.event.result is TrackResult.FAIL
    assert [t.result for t in o.store.tracks] == [TrackResult.FAIL, TrackResult.FAIL]
    [value] = o.store.values
    assert value.alarmed is True and value.carrier_track_id is not None
    assert {o.store.units[sn].status for sn in f.sns} == {UnitStatus.ON_HOLD}


async def test_required_carrier_data_and_method() -> None:
    o = await oven(units=1)
    f = o.f
    o.at_reflow(f.sns)
    details = refused(
        await o.ingest(f.reflow_input(f.sns, peak=None)), ErrorCode.REQUIRED_DATA_MISSING
    )
    assert details["missing"] == ["PeakTemp"]
    manual = f.reflow_input(f.sns)
    manual["payload"]["profile"].append({"name": "OvenNote", "value": "door ajar"})
    refused(await o.ingest(manual), ErrorCode.DATA_SPEC_METHOD_MISMATCH)


async def test_partial_with_every_board_refused_is_one_rejection() -> None:
    o = await oven(units=2, partial=True)
    f = o.f
    for sn in f.sns:  # both past the reflow step (behind it, the event would park: issue 20)
        o.store.units[sn] = replace(o.store.units[sn], current_step_no=30)
    boards = [{"sn": sn, "readings": []} for sn in f.sns]
    details = refused(await o.ingest(f.reflow_input(None, boards=boards)), ErrorCode.STEP_MISMATCH)
    assert [x["sn"] for x in details["refused"]] == f.sns
    assert len(o.store.rejections) == 1
