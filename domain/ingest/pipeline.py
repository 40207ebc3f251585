"""The ingest pipeline for one event (DOMAIN.md §4): AUTO, BATCH, TEST, and INFO (no result).

Accepted: everything is written in one transaction. Refused: nothing of that is written; a
rejection (the full input and the error) and an audit event are, in a transaction of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from domain.actors import Actor, TokenRevoked, check_station_binding, hold_token
from domain.audit import AuditEvent
from domain.enums import (
    AuditOutcome,
    IngestEventType,
    IngestStatus,
    StationType,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.accept import Acceptor
from domain.ingest.envelope import (
    MAX_KEY_LENGTH,
    canonical_hash,
    check_envelope,
    check_not_ahead,
    too_deep_to_keep,
)
from domain.ingest.info import record_info
from domain.ingest.parking import Redriver, arrivals, park, parked_again
from domain.ingest.records import (
    IngestEnvelope,
    IngestEvent,
    IngestRejection,
    PairingKey,
    ParkedEvent,
)
from domain.ingest.resolve import MappingCache, Progress, resolve_units
from domain.ingest.retests import recognise_retest
from domain.ingest.stored import envelope_of, record_rejection, sender_of, without_nul
from domain.ingest.transactions import NoPairing, Paired, Pairing
from domain.ingest.write import Accepted, write_accepted
from domain.limits import Limits
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory, UnitsOfMeasure
from domain.validation import MAX_CODE_LENGTH, scrubbed

#: what a rejection record keeps of an overlong sourceSystem / dedupeKey (`key#sn` fits)
MAX_SOURCE_LENGTH = MAX_KEY_LENGTH
MAX_STORED_KEY = MAX_KEY_LENGTH + 1 + MAX_CODE_LENGTH

#: a built-in meaning of an event (a CFX message that loads a carrier, records counts, X-outs
#: boards: domain/cfx/handlers.py): run once its key is found free, in the accepting
#: transaction, given the input hash and the receipt time; it writes its event row (None:
#: another sender took the key meanwhile) and may note the SNs for a refusal in `Progress`
Meaning = Callable[
    [UnitOfWork, IngestEnvelope, str, datetime, Progress], Awaitable[IngestEvent | None]
]


@dataclass
class IngestOutcome:
    status: IngestStatus
    event: IngestEvent | None = None
    error: DomainError | None = None
    rejection: IngestRejection | None = None
    #: PARKED: the parked event (issue 20)
    parked: ParkedEvent | None = None
    #: parked events this transaction re-drove (accepted or refused), for the metrics
    redriven: int = 0
    #: the machine's transaction to settle after the commit (domain/ingest/transactions.py)
    settle: PairingKey | None = None


class IngestService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        limits: Limits,
        mappings: MappingCache,
        units_of_measure: UnitsOfMeasure,
        pairing: Pairing | None = None,
    ):
        self.uow_factory = uow_factory
        self.clock = clock
        self.limits = limits
        self.mappings = mappings
        self.units_of_measure = units_of_measure
        #: events that pair with another of their machine's transaction (CFX's WorkStarted
        #: and its result: domain/cfx/pairing.py), none by default
        self.pairing = pairing or NoPairing()
        #: re-drives parked events (issue 20); the use cases that move units share it
        self.redriver = Redriver(mappings, clock, limits, units_of_measure, self.pairing)

    # ------------------------------------------------------------ entry points

    async def ingest(
        self, env: IngestEnvelope, actor: Actor, meaning: Meaning | None = None
    ) -> IngestOutcome:
        """Judge and, when accepted, record one event; refusals are stored as rejections.
        With a `meaning`, it (not the mappings) judges and writes the event, under the same
        envelope checks, dedupe and refusal storage; its refusals are not replayable (a replay
        reads by the mappings)."""
        if not actor.may_write_for(env.source_system):
            return await self._forbidden(env, actor)
        input_hash = canonical_hash(env)
        progress = Progress()
        for _ in range(3):
            try:
                async with self.uow_factory() as uow:
                    outcome = await self._accept(uow, env, input_hash, progress, actor, meaning)
                    if outcome is None:
                        continue  # the key was taken meanwhile: look again in a new transaction
                    await uow.audit.add(self._audit(env, actor, outcome))
                    await uow.commit()
            except TokenRevoked as err:
                return await self._forbidden(env, actor, err)
            except DomainError as err:
                if err.code is ErrorCode.FORBIDDEN:
                    # a station the token may not write for: no machine's event to replay
                    return await self._forbidden(env, actor, err)
                return await self._refuse(
                    env, input_hash, err, progress, actor, replayable=meaning is None
                )
            # committed: what it left of its machine's transaction is settled on its own (a
            # failure there is no refusal of the event)
            if outcome.settle is not None:
                outcome.redriven += await self.settle(outcome.settle, actor)
            return outcome
        raise RuntimeError("ingest: the dedupe key kept changing hands")  # pragma: no cover

    async def refuse(self, env: IngestEnvelope, err: DomainError, actor: Actor) -> IngestOutcome:
        """Store a refusal found before the pipeline could judge the event (a CFX envelope
        without MessageName, or from no known station): kept as any rejection, not
        replayable (the sender sends it again once it can be read)."""
        if not actor.may_write_for(env.source_system):
            return await self._forbidden(env, actor)
        return await self._refuse(
            env, canonical_hash(env), err, Progress(), actor, replayable=False
        )

    async def replay(self, rejection_id: int, actor: Actor) -> IngestOutcome:
        """Run a stored rejection again with today's master data (and the run's frozen
        version). Accepted, or a DUPLICATE of an identical accepted input: resolved. Still
        refused: the same rejection counts another attempt."""
        async with self.uow_factory() as uow:
            rejection = await uow.rejections.get(rejection_id)
        if rejection is None:
            outcome = IngestOutcome(
                IngestStatus.REJECTED,
                error=DomainError(
                    ErrorCode.REJECTION_NOT_FOUND,
                    f"rejection {rejection_id} not found",
                    {"id": str(rejection_id)},
                ),
            )
            return await self._audited_replay(rejection_id, actor, outcome)
        if rejection.resolved_by_event_id is not None:
            async with self.uow_factory() as uow:
                event = await uow.ingest_events.get_by_id(rejection.resolved_by_event_id)
            outcome = IngestOutcome(IngestStatus.DUPLICATE, event=event, rejection=rejection)
            return await self._audited_replay(rejection_id, actor, outcome)
        if not rejection.replayable:
            outcome = IngestOutcome(
                IngestStatus.REJECTED,
                error=DomainError(
                    ErrorCode.VALIDATION_FAILED,
                    f"rejection {rejection_id} ({rejection.error_code.value}) cannot be replayed: "
                    "send the event again with its own dedupeKey",
                    {"id": str(rejection_id), "code": rejection.error_code.value},
                ),
                rejection=rejection,
            )
            return await self._audited_replay(rejection_id, actor, outcome)
        sender = await self._sender(rejection, actor)
        outcome = await self.ingest(envelope_of(rejection), sender)
        if outcome.status is IngestStatus.DUPLICATE and outcome.event and outcome.event.id:
            async with self.uow_factory() as uow:
                await uow.rejections.resolve_key(
                    rejection.source_system, rejection.dedupe_key, outcome.event.id
                )
                await uow.commit()
        async with self.uow_factory() as uow:
            outcome.rejection = await uow.rejections.get(rejection_id)
        return outcome

    async def _sender(self, rejection: IngestRejection, actor: Actor) -> Actor:
        """The replayer, also bound by the station binding of the token that sent the input
        (an admin replay must not land a machine's event on another machine's station)."""
        async with self.uow_factory() as uow:
            return await sender_of(uow, actor, rejection.token_name)

    # ------------------------------------------------------------ the accepting path

    async def _accept(
        self,
        uow: UnitOfWork,
        env: IngestEnvelope,
        input_hash: str,
        progress: Progress,
        actor: Actor,
        meaning: Meaning | None = None,
    ) -> IngestOutcome | None:
        try:
            check_envelope(env, self.limits.max_payload_bytes, self.limits.max_json_depth)
            assert env.occurred_at is not None  # checked
            check_not_ahead(env.occurred_at, self.clock.now(), self.limits.max_clock_skew_s)
        except DomainError:
            await hold_token(uow, actor)  # a revoked token is refused as such, not stored
            raise
        # the token held (revocation waits for us, or we see it), the key locked, its event
        # and its parked event read: one round trip on PostgreSQL
        claim = await uow.ingest_events.claim_key(env.source_system, env.dedupe_key, actor.token_id)
        if not claim.token_held:
            raise TokenRevoked(actor)
        existing = claim.event
        if existing is not None:
            if existing.input_hash != input_hash:
                raise _conflict(env, existing)
            return IngestOutcome(IngestStatus.DUPLICATE, event=existing)
        if claim.parked_id is not None:
            parked = await parked_again(uow, env, input_hash, claim.parked_id, claim.parked_hash)
            return IngestOutcome(IngestStatus.PARKED, parked=parked)
        progress.key_was_free = True
        now = self.clock.now()
        if meaning is not None:
            event = await meaning(uow, env, input_hash, now, progress)
            return None if event is None else IngestOutcome(IngestStatus.ACCEPTED, event=event)
        # the start of the machine's transaction (a CFX message's), for the mappings to read;
        # one that names no units waits parked for that start when it has not come
        context = await self.pairing.context(uow, env)
        if isinstance(context, PairingKey):
            await check_station_binding(actor, uow, env.source_system)
            parked = await park(
                uow, env, input_hash, context, None, self.limits, actor.token_name, self.clock
            )
            return IngestOutcome(IngestStatus.PARKED, parked=parked, settle=context)
        env = context
        if env.event_type is IngestEventType.INFO:
            info = await record_info(uow, self.mappings, env, input_hash, actor, now, progress)
            if info is None:
                return None
            paired = await self.pairing.record(uow, env, info)
            return IngestOutcome(IngestStatus.ACCEPTED, event=info, settle=_unsettled(paired))
        root = env.root()
        station_type = StationType(env.event_type.value)
        resolved = await resolve_units(uow, self.mappings, env, root, station_type, progress)
        # TEST: the tester's own result id is an idempotency key too (right after step 3)
        first, resolved = await recognise_retest(uow, self.mappings, env, root, resolved)
        if first is not None:
            return IngestOutcome(IngestStatus.DUPLICATE, event=first)
        judgement = await Acceptor(
            uow, self.mappings, actor, units_of_measure=self.units_of_measure
        ).judge(root, station_type, resolved)
        if judgement.waiting_for_step_no is not None:
            parked = await park(
                uow, env, input_hash, judgement, None, self.limits, actor.token_name, self.clock
            )
            return IngestOutcome(IngestStatus.PARKED, parked=parked)
        accepted = Accepted.of(env, input_hash, judgement, now, actor.token_name)
        event = await write_accepted(uow, accepted)
        if event is None:
            return None
        paired = await self.pairing.record(uow, env, event)
        redriven = await self.redriver.redrive(uow, arrivals(accepted), actor)
        return IngestOutcome(
            IngestStatus.ACCEPTED, event=event, redriven=redriven, settle=_unsettled(paired)
        )

    async def settle(self, key: PairingKey, actor: Actor) -> int:
        """After the commit, in a transaction of its own: the key's transaction made whole as
        committed now, and once its start has come, the events parked for it re-driven (see
        domain/ingest/transactions.py); how many. Also the server's sweep, for a start whose
        own settle never ran (domain/usecases/parking.py)."""
        async with self.uow_factory() as uow:
            if not await self.pairing.settle(uow, key):
                return 0
            redriven = await self.redriver.redrive_start(uow, key, actor)
            await uow.commit()
        return redriven

    # ------------------------------------------------------------ refusals

    async def _refuse(
        self,
        env: IngestEnvelope,
        input_hash: str,
        err: DomainError,
        progress: Progress,
        actor: Actor,
        replayable: bool = True,
    ) -> IngestOutcome:
        """Store the refusal (or count another attempt of the same one) and audit it."""
        now = self.clock.now()
        sns = progress.sns
        # PostgreSQL cannot store NUL, no database a lone surrogate: such an input is kept
        # with U+FFFD in their place and not replayable; one nested too deeply is truncated
        truncated = err.code is ErrorCode.PAYLOAD_TOO_LARGE or too_deep_to_keep(
            env, self.limits.max_json_depth
        )
        env, had_nul = without_nul(env)
        # a refusal for an overlong source or key keeps them clipped (the input keeps all),
        # and lists only the SNs that can be SNs
        source, key = env.source_system[:MAX_SOURCE_LENGTH], env.dedupe_key[:MAX_STORED_KEY]
        sns = [sn for sn in sns if len(sn) <= MAX_CODE_LENGTH]
        async with self.uow_factory() as uow:
            # senders of one key queue here too: a refused input sent twice at once still
            # leaves one rejection with two attempts
            await uow.ingest_events.lock_key(source, key)
            if progress.key_was_free:
                # the key was free when judged, but another send of it may have been accepted
                # since (its transaction committed between ours): answer as if we had come
                # second, so no rejection is left open under an accepted key
                raced = await uow.ingest_events.get_by_key(env.source_system, env.dedupe_key)
                if raced is not None and raced.input_hash == input_hash:
                    outcome = IngestOutcome(IngestStatus.DUPLICATE, event=raced)
                    await uow.audit.add(self._audit(env, actor, outcome))
                    await uow.commit()
                    return outcome
                if raced is not None:
                    err = _conflict(env, raced)
            rejection = await record_rejection(
                uow,
                env,
                input_hash,
                err,
                sns,
                now,
                actor.token_name,
                truncated=truncated,
                replayable=replayable and not had_nul,
                source=source,
                key=key,
            )
            await uow.audit.add(
                self._audit(env, actor, IngestOutcome(IngestStatus.REJECTED, error=err))
            )
            await uow.commit()
        return IngestOutcome(IngestStatus.REJECTED, error=err, rejection=rejection)

    async def _forbidden(
        self, env: IngestEnvelope, actor: Actor, err: DomainError | None = None
    ) -> IngestOutcome:
        """A token writing for a source or a station it does not hold (or revoked meanwhile):
        refused and audited, but no rejection is stored (it is no machine's event to replay)."""
        err = err or DomainError(
            ErrorCode.FORBIDDEN,
            f"token {actor.name!r} may not write for source {env.source_system!r}",
            {"sourceSystem": env.source_system[:200]},
        )
        outcome = IngestOutcome(IngestStatus.REJECTED, error=err)
        async with self.uow_factory() as uow:
            await uow.audit.add(self._audit(without_nul(env)[0], actor, outcome))
            await uow.commit()
        return outcome

    async def _audited_replay(
        self, rejection_id: int, actor: Actor, outcome: IngestOutcome
    ) -> IngestOutcome:
        """A replay that ran nothing (no such rejection, resolved, not replayable) is audited
        on its own: the ingest it would have run audits the others."""
        async with self.uow_factory() as uow:
            await uow.audit.add(
                self._audit_of(
                    actor, outcome, "replayRejection", "IngestRejection", str(rejection_id)
                )
            )
            await uow.commit()
        return outcome

    def _audit(self, env: IngestEnvelope, actor: Actor, outcome: IngestOutcome) -> AuditEvent:
        key = scrubbed(f"{env.source_system}/{env.dedupe_key}"[:500])
        return self._audit_of(actor, outcome, "ingestEvent", "IngestEvent", key)

    def _audit_of(
        self, actor: Actor, outcome: IngestOutcome, action: str, entity_type: str, key: str
    ) -> AuditEvent:
        status = {
            IngestStatus.ACCEPTED: AuditOutcome.OK,
            IngestStatus.DUPLICATE: AuditOutcome.DUPLICATE,
            IngestStatus.REJECTED: AuditOutcome.REFUSED,
            IngestStatus.PARKED: AuditOutcome.PARKED,
        }[outcome.status]
        err = outcome.error
        return actor.audit(
            self.clock.now(),
            action,
            entity_type,
            key,
            status,
            err.code.value if err else None,
            {"eventId": outcome.event.id}
            if outcome.event
            else (
                {"message": err.message}
                if err
                else ({"parkedEventId": outcome.parked.id} if outcome.parked else None)
            ),
        )


def _conflict(env: IngestEnvelope, existing: IngestEvent) -> DomainError:
    return DomainError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        f"dedupeKey {env.dedupe_key!r} of {env.source_system} was accepted with another input",
        {"existingEventId": str(existing.id)},
    )


def _unsettled(paired: Paired | None) -> PairingKey | None:
    return paired.key if paired is not None and paired.unsettled else None
