"""Rejections that ingest stores: the one rule of a refusal sent again (another attempt of the
open rejection of the same key and input), and the rejection a parked event becomes when its
time is up (issue 20)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestRejection, ParkedEvent
from domain.ports import UnitOfWork


async def record_rejection(uow: UnitOfWork, rejection: IngestRejection) -> IngestRejection:
    """Store a refusal: another attempt of the open rejection of the same key and input (its
    error now this one's), else a new rejection."""
    open_ = await uow.rejections.find_open(
        rejection.source_system, rejection.dedupe_key, rejection.input_hash
    )
    if open_ is None:
        return await uow.rejections.add(rejection)
    again = replace(
        open_,
        attempts=open_.attempts + 1,
        last_attempt_at=rejection.last_attempt_at,
        error_code=rejection.error_code,
        error_message=rejection.error_message,
        error_details=rejection.error_details,
        sns=rejection.sns or open_.sns,
    )
    await uow.rejections.update(again)
    return again


def expiry_error(parked: ParkedEvent) -> DomainError:
    """PARKED_EXPIRED: which step it waited for, since when, and until when."""
    return DomainError(
        ErrorCode.PARKED_EXPIRED,
        f"parked since {parked.received_at.isoformat()} waiting for its units to reach step "
        f"{parked.waiting_for_step_no} of run {parked.run_no}; they did not by "
        f"{parked.expires_at.isoformat()} (MES_PARK_TTL)",
        {
            "waitingForStepNo": parked.waiting_for_step_no,
            "parkedAt": parked.received_at.isoformat(),
            "expiresAt": parked.expires_at.isoformat(),
            "sns": list(parked.sns),
        },
    )


def expired_rejection(parked: ParkedEvent, now: datetime) -> IngestRejection:
    """The rejection a parked event becomes: its input as received, replayable (a replay
    judges it again: it may be accepted, or parked again)."""
    err = expiry_error(parked)
    return IngestRejection(
        source_system=parked.source_system,
        dedupe_key=parked.dedupe_key,
        input_hash=parked.input_hash,
        event_type=parked.event_type,
        received_at=parked.received_at,
        occurred_at=parked.occurred_at,
        error_code=err.code,
        error_message=err.message,
        error_details=err.details,
        input=parked.input,
        sns=parked.sns,
        replayable=True,
        restrict_to_sn=parked.restrict_to_sn,
        last_attempt_at=now,
        token_name=parked.token_name,
    )
