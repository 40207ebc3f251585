"""A stored input run again (a replayed rejection, a re-driven parked event): the envelope it
stands for, the sender it is judged as, and the rejection a refusal of it leaves. One place, so
a refusal on arrival, of a replay and of a re-drive read and store alike."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.actors import Actor
from domain.changes import IngestCommitted
from domain.enums import IngestEventType, IngestStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.envelope import stored_input
from domain.ingest.records import IngestEnvelope, IngestRejection
from domain.ports import UnitOfWork
from domain.security import StationBinding
from domain.validation import storable

#: codes whose rejections cannot be replayed (DOMAIN.md §4 step 10)
NOT_REPLAYABLE = frozenset({ErrorCode.IDEMPOTENCY_CONFLICT, ErrorCode.PAYLOAD_TOO_LARGE})


def stored_envelope(
    raw: dict[str, Any],
    source_system: str,
    dedupe_key: str,
    event_type: IngestEventType,
    restrict_to_sn: str | None,
) -> IngestEnvelope:
    """The envelope a stored input (`stored_input`) stands for; `dedupe_key` is the stored
    one (a PARTIAL unit's rejection replays under its own key, `dedupeKey#sn`)."""
    occurred = raw.get("occurredAt")
    occurred_at = datetime.fromisoformat(occurred) if isinstance(occurred, str) else None
    payload = raw.get("payload")
    return IngestEnvelope(
        source_system=raw.get("sourceSystem", source_system),
        dedupe_key=dedupe_key,
        event_type=IngestEventType(raw.get("eventType", event_type.value)),
        occurred_at=occurred_at,
        payload=payload,
        run_no=raw.get("runNo"),
        meta=raw.get("meta"),
        restrict_to_sn=restrict_to_sn,
        payload_bytes=len(json.dumps(payload, default=str)),
    )


async def sender_of(uow: UnitOfWork, actor: Actor, token_name: str | None) -> Actor:
    """`actor`, also bound by the station binding of the token that sent a stored input (an
    admin's replay, or a move by another machine, must not land a machine's event on another
    machine's station). A token that cannot be found binds to nothing: the input is refused."""
    if token_name is None:
        return actor  # sent with auth off, or before tokens were kept
    token = await uow.tokens.get(token_name)
    binding = StationBinding() if token is None else token.binding
    return replace(
        actor,
        bindings=actor.bindings + (() if binding is None else (binding,)),
        token_name=token_name,
    )


async def record_rejection(
    uow: UnitOfWork,
    env: IngestEnvelope,
    input_hash: str,
    err: DomainError,
    sns: list[str],
    now: datetime,
    token_name: str | None,
    *,
    received_at: datetime | None = None,
    truncated: bool = False,
    replayable: bool = True,
    source: str | None = None,
    key: str | None = None,
) -> IngestRejection:
    """Store a refusal in the caller's transaction (the caller holds the key's lock): another
    attempt of the open rejection of this same input, or a new rejection (received at
    `received_at`, default now); announced as a REJECTED ingest. `source` and `key`: as the
    rejection keeps them (clipped), when not the envelope's (its input keeps all)."""
    source = env.source_system if source is None else source
    key = env.dedupe_key if key is None else key
    rejection = await uow.rejections.find_open(source, key, input_hash)
    if rejection is not None:
        rejection = replace(
            rejection,
            attempts=rejection.attempts + 1,
            last_attempt_at=now,
            error_code=err.code,
            error_message=err.message,
            error_details=err.details,
            sns=tuple(sns) or rejection.sns,
        )
        await uow.rejections.update(rejection)
    else:
        rejection = await uow.rejections.add(
            IngestRejection(
                source_system=source,
                dedupe_key=key,
                input_hash=input_hash,
                event_type=env.event_type,
                received_at=received_at or now,
                occurred_at=_aware(env.occurred_at),
                error_code=err.code,
                error_message=err.message,
                error_details=err.details,
                input=stored_input(env, truncated=truncated),
                sns=tuple(sns),
                replayable=replayable and err.code not in NOT_REPLAYABLE and not truncated,
                restrict_to_sn=env.restrict_to_sn,
                last_attempt_at=now,
                token_name=token_name,
            )
        )
    uow.publish(IngestCommitted(IngestStatus.REJECTED, source, rejection_id=rejection.id))
    return rejection


def _aware(value: datetime | None) -> datetime | None:
    return value if value is not None and value.tzinfo is not None else None


def without_nul(env: IngestEnvelope) -> tuple[IngestEnvelope, bool]:
    """The envelope with every NUL character and lone surrogate replaced (U+FFFD), and whether
    there was any."""
    found = False

    def clean(value: Any, depth: int = 0) -> Any:
        nonlocal found
        if depth > 200:
            return value
        if isinstance(value, str):
            kept = storable(value)
            if kept != value:
                found = True
            return kept
        if isinstance(value, dict):
            return {clean(k, depth + 1): clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, depth + 1) for v in value]
        return value

    cleaned = replace(
        env,
        source_system=clean(env.source_system),
        dedupe_key=clean(env.dedupe_key),
        run_no=clean(env.run_no),
        payload=clean(env.payload),
        meta=clean(env.meta),
    )
    return (cleaned, True) if found else (env, False)


def envelope_of(rejection: IngestRejection) -> IngestEnvelope:
    """The envelope a stored (replayable) input stands for."""
    return stored_envelope(
        rejection.input,
        rejection.source_system,
        # a PARTIAL unit's rejection replays under its own key, `dedupeKey#sn`
        rejection.dedupe_key,
        rejection.event_type,
        rejection.restrict_to_sn,
    )
