"""Order tolerance (issue 20), the writing side: an early event is parked (domain/ingest/early.py
says which are), and re-driven by the transaction that brings its units to its step.

Re-drive: any transaction that makes units QUEUED at a step — an accepted ingest's advance
(its re-driven events' too), a manual trackOut, a disposition (RETEST, REWORK, RELEASE), a
hold's release — calls `Redriver.redrive` with the units as it moved them. The events parked
for those units at those steps run again there, oldest occurredAt first, in that same
transaction (so no trace shows a unit at a step with an acceptable event still parked):

- whoever removes a parked event first owns it (`uow.parked.remove`; the expiry sweep may
  have taken it); its key is locked as every sender of it locks it;
- it is judged again with its stored input, as its sender (that token's station binding),
  against the units as they stand now;
- acceptable: written as an accepted event keeping its receivedAt, `acceptedAt` now; its
  units moving on re-drive again (at most the route's length deep);
- still early (some unit not there yet, e.g. the others of a batch): parked again, waiting
  for the step it now waits for, with its own expiry;
- refused: an ordinary rejection (received when it arrived), replayable as any other.

A unit that arrives held (an alarm HOLD) is not QUEUED: its parked events wait for its
release. Each re-drive is audited (action `redriveParkedEvent`) by the mover.

A result message that names no units and whose machine's transaction has no recorded start
waits for that start instead (issue 21, CFX's: domain/ingest/transactions.py): no run, no
step, no units. The WorkStarted that records the key's start re-drives it (`redrive_start`)
right after its commit, in a transaction of its own, as above; the start's units may not be
at its step yet: it is parked again, for that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from domain.actors import Actor
from domain.audit import AuditEvent
from domain.changes import IngestCommitted
from domain.enums import AuditOutcome, IngestStatus, StationType, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.accept import Acceptor, Judgement
from domain.ingest.envelope import stored_input
from domain.ingest.records import IngestEnvelope, PairingKey, ParkedEvent
from domain.ingest.resolve import MappingCache, Progress, resolve_units
from domain.ingest.retests import recognise_retest
from domain.ingest.stored import record_rejection, sender_of, stored_envelope
from domain.ingest.transactions import NoPairing, Pairing
from domain.ingest.write import Accepted, advanced_units, write_accepted
from domain.limits import Limits
from domain.ports import Clock, UnitOfWork, UnitsOfMeasure
from domain.runs_and_units import Unit
from domain.validation import scrubbed

#: the audit action of a re-drive
REDRIVE_ACTION = "redriveParkedEvent"


async def parked_again(
    uow: UnitOfWork, env: IngestEnvelope, input_hash: str, parked_id: int, parked_hash: str | None
) -> ParkedEvent | None:
    """A resend of a parked key (its claim found it): the parked event (None: re-driven since
    the claim), with the same input; another input under the key is IDEMPOTENCY_CONFLICT."""
    if parked_hash != input_hash:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            f"dedupeKey {env.dedupe_key!r} of {env.source_system} is parked with another input",
            {"parkedEventId": str(parked_id)},
        )
    return await uow.parked.get_by_key(env.source_system, env.dedupe_key)


async def park(
    uow: UnitOfWork,
    env: IngestEnvelope,
    input_hash: str,
    waiting: Judgement | PairingKey,
    before: ParkedEvent | None,
    limits: Limits,
    token_name: str | None,
    clock: Clock,
) -> ParkedEvent:
    """Store an early event (the caller holds its key's lock) waiting for its judgement's
    step, or for the start of its CFX transaction; `before`: the parked event it was (a
    re-drive that is still early keeps its arrival and expiry), else it arrives now.
    Announced as a PARKED ingest."""
    assert env.occurred_at is not None
    now = clock.now()
    units: Sequence[Unit] = ()
    run_no, step_no, transaction = None, None, None
    if isinstance(waiting, PairingKey):
        transaction = waiting.transaction_id
    else:
        assert waiting.waiting_for_step_no is not None
        units, run_no = waiting.resolved.units, waiting.resolved.run.run_no
        step_no = waiting.waiting_for_step_no
    parked = await uow.parked.add(
        ParkedEvent(
            source_system=env.source_system,
            dedupe_key=env.dedupe_key,
            input_hash=input_hash,
            event_type=env.event_type,
            occurred_at=env.occurred_at,
            received_at=before.received_at if before else now,
            expires_at=before.expires_at if before else now + timedelta(seconds=limits.park_ttl_s),
            run_no=run_no,
            waiting_for_step_no=step_no,
            input=stored_input(env),
            unit_ids=tuple(u.id for u in units if u.id is not None),
            sns=tuple(u.sn for u in units),
            restrict_to_sn=env.restrict_to_sn,
            token_name=token_name,
            waiting_for_transaction=transaction,
        )
    )
    uow.publish(IngestCommitted(IngestStatus.PARKED, env.source_system))
    return parked


class Redriver:
    """Re-drives parked events inside the mover's transaction (see the module)."""

    def __init__(
        self,
        mappings: MappingCache,
        clock: Clock,
        limits: Limits,
        units_of_measure: UnitsOfMeasure,
        pairing: Pairing | None = None,
    ):
        self.mappings = mappings
        self.clock = clock
        self.limits = limits
        self.units_of_measure = units_of_measure
        self.pairing = pairing or NoPairing()

    async def redrive(
        self, uow: UnitOfWork, units: Sequence[Unit], actor: Actor, depth: int = 0
    ) -> int:
        """Re-drive the events parked for these units (as the caller moved them) at the steps
        where they now stand QUEUED; how many ran again (accepted, refused or parked again)."""
        by_step: dict[int, list[int]] = {}
        for u in units:
            if u.status is UnitStatus.QUEUED and u.id is not None and u.current_step_no is not None:
                by_step.setdefault(u.current_step_no, []).append(u.id)
        found: dict[int, ParkedEvent] = {}
        for step_no, unit_ids in by_step.items():
            for p in await uow.parked.waiting(unit_ids, step_no):
                found[p.id or 0] = p
        ordered = sorted(found.values(), key=lambda e: (e.occurred_at, e.id or 0))
        return await self._each(uow, ordered, actor, depth)

    async def redrive_start(
        self, uow: UnitOfWork, key: PairingKey, actor: Actor, depth: int = 0
    ) -> int:
        """Re-drive the events parked for the start of that CFX key (its WorkStarted's
        transaction has just recorded it); how many ran again."""
        found = await uow.parked.waiting_for_start(key.source_system, key.transaction_id)
        return await self._each(uow, found, actor, depth)

    async def _each(
        self, uow: UnitOfWork, found: Sequence[ParkedEvent], actor: Actor, depth: int
    ) -> int:
        count = 0
        for p in found:
            if p.id is None or not await uow.parked.remove(p.id):
                continue  # gone meanwhile (re-driven by an earlier one here, or expired)
            count += 1 + await self._one(uow, p, actor, depth)
        return count

    async def _one(self, uow: UnitOfWork, p: ParkedEvent, mover: Actor, depth: int) -> int:
        """Judge one removed parked event again; the re-drives its acceptance led to."""
        env = stored_envelope(
            p.input, p.source_system, p.dedupe_key, p.event_type, p.restrict_to_sn
        )
        await uow.ingest_events.lock_key(p.source_system, p.dedupe_key)
        sender = await sender_of(uow, replace(mover, bindings=()), p.token_name)
        now = self.clock.now()
        progress = Progress(sns=list(p.sns))
        root = env.root()
        station_type = StationType(env.event_type.value)
        try:
            context = await self.pairing.context(uow, env)
            if isinstance(context, PairingKey):  # its start has not come (yet) after all
                return await self._park_again(uow, env, p, context, mover)
            env = context
            root = env.root()
            resolved = await resolve_units(uow, self.mappings, env, root, station_type, progress)
            first, resolved = await recognise_retest(uow, self.mappings, env, root, resolved)
            if first is not None:
                # the tester's result came meanwhile under another key: nothing to record
                await uow.audit.add(self._audit(mover, p, AuditOutcome.DUPLICATE, first.id))
                return 0
            judgement = await Acceptor(
                uow, self.mappings, sender, units_of_measure=self.units_of_measure
            ).judge(root, station_type, resolved)
        except DomainError as err:
            await record_rejection(
                uow,
                env,
                p.input_hash,
                err,
                progress.sns,
                now,
                p.token_name,
                received_at=p.received_at,
            )
            await uow.audit.add(self._audit(mover, p, AuditOutcome.REFUSED, None, err))
            return 0
        if judgement.waiting_for_step_no is not None:
            return await self._park_again(uow, env, p, judgement, mover)
        accepted = Accepted.of(env, p.input_hash, judgement, p.received_at, p.token_name, now)
        event = await write_accepted(uow, accepted)
        if event is None:
            return 0  # cannot be: a parked key has no event, and its lock is ours
        await self.pairing.record(uow, env, event)  # not settled again: see domain/cfx/pairing
        await uow.audit.add(self._audit(mover, p, AuditOutcome.OK, event.id))
        if depth >= len(judgement.resolved.version.steps):
            return 0  # each re-drive moves its units on: deeper is a loop, not a route
        return await self.redrive(uow, arrivals(accepted), mover, depth + 1)

    async def _park_again(
        self,
        uow: UnitOfWork,
        env: IngestEnvelope,
        p: ParkedEvent,
        waiting: Judgement | PairingKey,
        mover: Actor,
    ) -> int:
        """Still early: parked again (keeping its arrival and expiry); nothing re-driven."""
        await park(uow, env, p.input_hash, waiting, p, self.limits, p.token_name, self.clock)
        await uow.audit.add(self._audit(mover, p, AuditOutcome.PARKED, None))
        return 0

    def _audit(
        self,
        mover: Actor,
        p: ParkedEvent,
        outcome: AuditOutcome,
        event_id: int | None,
        err: DomainError | None = None,
    ) -> AuditEvent:
        details: dict[str, object] = {"parkedEventId": p.id}
        if event_id is not None:
            details["eventId"] = event_id
        if err is not None:
            details["message"] = err.message
        return mover.audit(
            self.clock.now(),
            REDRIVE_ACTION,
            "IngestEvent",
            scrubbed(f"{p.source_system}/{p.dedupe_key}"[:500]),
            outcome,
            err.code.value if err else None,
            details,
        )


def arrivals(a: Accepted) -> list[Unit]:
    """The units an accepted event brought to another step (QUEUED there; a FAIL or an ERROR
    leaves them where they were, and moves no parked event)."""
    before = {v.unit.id: v.unit.current_step_no for v in a.ok}
    return [u for u in advanced_units(a) if u.current_step_no != before.get(u.id)]
