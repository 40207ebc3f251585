"""Retests by the tester's own id over the fakes (DOMAIN.md §4, issue 10): for TEST events
(sourceSystem, testResultId, sn) is an idempotency key too."""

from __future__ import annotations

from typing import Any

from domain.enums import IngestStatus, UnitStatus
from domain.errors import ErrorCode
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from tests.conftest import unique
from tests.fakes import FakeClock, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


def resend(f: IngestFactory, boards: list[Any], tx: str) -> dict[str, Any]:
    """The tester's result `tx` under a dedupeKey of its own (a resend after a restart)."""
    return {**f.ict_input(boards), "payload": f.ict_payload(boards, tx=tx)}


async def test_a_test_result_resent_under_another_key_is_a_duplicate_of_the_first() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=3)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    a, b, c = f.sns
    for sn in f.sns:
        assert (await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)).error is None
    boards = [(a, "Failed", 1000.0, 3.3), (b, "Passed", 1000.0, 3.3)]
    tx = unique("TX")
    first = await service.ingest(f.envelope(resend(f, boards, tx)), ACTOR)
    assert first.status is IngestStatus.ACCEPTED and first.event, first.error
    assert store.units[a].status is UnitStatus.OUT_FAILED
    assert store.units[b].current_step_no == 30
    tracks, fails = len(store.tracks), store.units[a].step_fails
    # the same result again under a new key, after B moved on: DUPLICATE, nothing written,
    # A's failure not counted twice
    again = await service.ingest(f.envelope(resend(f, boards[::-1], tx)), ACTOR)
    assert again.status is IngestStatus.DUPLICATE, again.error
    assert again.event is not None and again.event.id == first.event.id
    assert len(store.tracks) == tracks and store.units[a].step_fails == fails
    # another result for a unit under that id: a conflict, naming the first event
    other = await service.ingest(f.envelope(resend(f, [(a, "Passed", 1000.0, 3.3)], tx)), ACTOR)
    assert other.status is IngestStatus.REJECTED and other.error is not None
    assert other.error.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert other.error.details == {
        "existingEventId": str(first.event.id),
        "sn": a,
        "testResultId": tx,
    }
    values = await service.ingest(f.envelope(resend(f, [(a, "Failed", 1001.0, 3.3)], tx)), ACTOR)
    assert values.error is not None and values.error.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert len(store.tracks) == tracks
    # one panel-wide id: a unit it has not recorded yet is judged as usual (alone, or next to
    # units it has recorded the same, which are left out)
    mixed = await service.ingest(
        f.envelope(resend(f, [boards[1], (c, "Passed", 1000.0, 3.3)], tx)), ACTOR
    )
    assert mixed.status is IngestStatus.ACCEPTED and mixed.event, mixed.error
    assert mixed.event.sn_list == (c,)
    # a result with an id of its own is judged as usual (A failed out at its first failure)
    retest = await service.ingest(
        f.envelope(resend(f, [(a, "Passed", 1000.0, 3.3)], unique("TX"))), ACTOR
    )
    assert retest.error is not None and retest.error.code is ErrorCode.UNIT_OUT_FAILED
