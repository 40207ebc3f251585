"""The expiry of parked events (issue 20 item 3): a parked event whose time is up becomes a
PARKED_EXPIRED rejection. Run by `mes serve`'s sweep and by `mes parked expire`. The sweep
also re-drives what still waits for a machine transaction's start that is recorded (issue 21:
the start's process stopped between its commit and that re-drive)."""

from __future__ import annotations

from domain.actors import Actor
from domain.enums import AuditOutcome
from domain.errors import ErrorCode
from domain.ingest.pipeline import IngestService
from domain.ingest.records import ParkedEvent
from domain.ingest.rejections import expiry_error
from domain.ingest.stored import record_rejection, stored_envelope
from domain.ports import Clock, UnitOfWorkFactory
from domain.usecases.holds import SYSTEM_ACTOR
from domain.validation import scrubbed

#: parked events read per round (each expires in its own transaction)
EXPIRY_BATCH = 500
#: who expires parked events when no one asked (the server's sweep)
SWEEPER = Actor(SYSTEM_ACTOR, "mes-park-sweep")


async def redrive_started(
    ingest: IngestService, actor: Actor = SWEEPER, batch: int = EXPIRY_BATCH
) -> int:
    """Re-drive the events parked for a start that is recorded, `batch` transactions at a
    time until none is left; how many ran again."""
    done = 0
    while True:
        async with ingest.uow_factory() as uow:
            keys = await uow.parked.started_waits(batch)
        for key in keys:
            done += await ingest.settle(key, actor)
        if len(keys) < batch:
            return done


async def expire_parked(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor = SWEEPER,
    batch: int = EXPIRY_BATCH,
) -> int:
    """Turn every parked event whose expiresAt has passed into a rejection; how many it did.
    Reads `batch` at a time until none is left; an event a re-drive (or another sweep)
    removed first is left to it."""
    done = 0
    while True:
        async with uow_factory() as uow:
            due = await uow.parked.expired(clock.now(), batch)
        for parked in due:
            done += await _expire(uow_factory, clock, actor, parked)
        if len(due) < batch:
            return done


async def _expire(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, parked: ParkedEvent
) -> int:
    assert parked.id is not None
    async with uow_factory() as uow:
        if not await uow.parked.remove(parked.id):
            return 0  # re-driven or expired meanwhile: whoever removed it owns it
        # after the removal (the order a re-drive takes them in): senders of the key queue
        # here, so the key keeps one open rejection
        await uow.ingest_events.lock_key(parked.source_system, parked.dedupe_key)
        now = clock.now()
        # its input as received, replayable (a replay judges it again: it may be accepted, or
        # parked again); announced as a REJECTED ingest
        env = stored_envelope(
            parked.input,
            parked.source_system,
            parked.dedupe_key,
            parked.event_type,
            parked.restrict_to_sn,
        )
        rejection = await record_rejection(
            uow,
            env,
            parked.input_hash,
            expiry_error(parked),
            list(parked.sns),
            now,
            parked.token_name,
            received_at=parked.received_at,
        )
        key = scrubbed(f"{parked.source_system}/{parked.dedupe_key}"[:500])
        await uow.audit.add(
            actor.audit(
                now,
                "expireParkedEvent",
                "IngestEvent",
                key,
                AuditOutcome.REFUSED,
                ErrorCode.PARKED_EXPIRED.value,
                {"message": rejection.error_message, "rejectionId": rejection.id},
            )
        )
        await uow.commit()
    return 1
