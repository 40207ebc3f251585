"""The expiry of parked events over the fakes (issue 20 item 3): each expired one becomes a
PARKED_EXPIRED rejection, once, with its audit row and its announcement."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from domain.changes import IngestCommitted
from domain.enums import AuditOutcome, IngestStatus
from domain.errors import ErrorCode
from domain.ingest.records import IngestRejection, ParkedEvent
from domain.ingest.rejections import expiry_error
from domain.usecases.parking import expire_parked
from tests.fakes import FakeClock, FakeParked, FakeStore, fake_bus
from tests.ingest_builders import IngestFactory
from tests.parking_builders import parked_ict


async def _parked(units: int = 3) -> tuple[IngestFactory, FakeStore, FakeClock]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=units)
    clock = FakeClock()
    return f, store, clock


async def _add(store: FakeStore, parked: ParkedEvent, f: IngestFactory) -> ParkedEvent:
    async with f.bus.uow_factory() as uow:
        stored = await uow.parked.add(parked)
        await uow.commit()
    return stored


async def test_expired_events_become_rejections_and_the_others_wait() -> None:
    f, store, clock = await _parked()
    now = clock.now()
    old = await _add(
        store, parked_ict(f, f.sns[0], 1, now - timedelta(hours=2), token_name="gw"), f
    )
    fresh = await _add(store, parked_ict(f, f.sns[1], 2, now), f)
    assert await expire_parked(f.bus.uow_factory, clock) == 1
    assert [p.id for p in store.parked] == [fresh.id]
    [rejection] = store.rejections
    assert rejection.error_code is ErrorCode.PARKED_EXPIRED and rejection.replayable
    assert (rejection.source_system, rejection.dedupe_key) == (old.source_system, old.dedupe_key)
    assert rejection.input == old.input and rejection.input_hash == old.input_hash
    assert rejection.received_at == old.received_at and rejection.occurred_at == old.occurred_at
    assert rejection.sns == (f.sns[0],) and rejection.token_name == "gw"
    assert rejection.error_details == {
        "waitingForStepNo": 20,
        "parkedAt": old.received_at.isoformat(),
        "expiresAt": old.expires_at.isoformat(),
        "sns": [f.sns[0]],
    }
    assert "step 20" in rejection.error_message
    assert old.received_at.isoformat() in rejection.error_message
    audit = store.audit[-1]
    assert (audit.action, audit.outcome, audit.error_code, audit.actor) == (
        "expireParkedEvent",
        AuditOutcome.REFUSED,
        "PARKED_EXPIRED",
        "system",
    )
    assert store.published[-1] == IngestCommitted(
        IngestStatus.REJECTED, old.source_system, rejection_id=rejection.id
    )
    # nothing more is due: a second sweep does nothing
    assert await expire_parked(f.bus.uow_factory, clock) == 0
    assert len(store.rejections) == 1


async def test_a_sweep_reads_in_batches_until_none_is_due() -> None:
    f, store, clock = await _parked(units=5)
    past = clock.now() - timedelta(days=2)
    for i, sn in enumerate(f.sns):
        await _add(store, parked_ict(f, sn, i + 1, past + timedelta(seconds=i)), f)
    assert await expire_parked(f.bus.uow_factory, clock, batch=2) == 5
    assert store.parked == [] and len(store.rejections) == 5
    assert {j.error_code for j in store.rejections} == {ErrorCode.PARKED_EXPIRED}


async def test_an_event_removed_first_by_another_is_left_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`remove` answers False when a re-drive (or another sweep) took the event first: no
    rejection, no audit row, not counted."""
    f, store, clock = await _parked()
    gone = parked_ict(f, f.sns[0], 1, clock.now() - timedelta(days=2))
    listed = FakeParked.expired

    async def stale(self: FakeParked, now: datetime, limit: int) -> list[ParkedEvent]:
        return [*(await listed(self, now, limit)), replace(gone, id=999)]

    monkeypatch.setattr(FakeParked, "expired", stale)
    audits = len(store.audit)
    assert await expire_parked(f.bus.uow_factory, clock) == 0
    assert store.rejections == [] and len(store.audit) == audits


async def test_an_open_rejection_of_the_same_input_counts_another_attempt() -> None:
    """A parked replay of a rejection (same key and input) expires into that rejection."""
    f, store, clock = await _parked()
    parked = await _add(store, parked_ict(f, f.sns[0], 1, clock.now() - timedelta(days=2)), f)
    async with f.bus.uow_factory() as uow:
        err = expiry_error(parked)
        earlier = await uow.rejections.add(
            IngestRejection(
                source_system=parked.source_system,
                dedupe_key=parked.dedupe_key,
                input_hash=parked.input_hash,
                event_type=parked.event_type,
                received_at=parked.received_at,
                error_code=err.code,
                error_message=err.message,
                input=parked.input,
                attempts=2,
            )
        )
        await uow.commit()
    assert await expire_parked(f.bus.uow_factory, clock) == 1
    [rejection] = store.rejections
    assert rejection.id == earlier.id and rejection.attempts == 3
