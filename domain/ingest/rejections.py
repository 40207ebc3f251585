"""The refusal a parked event becomes when its time is up (issue 20): PARKED_EXPIRED, stored
as every refusal is (domain/ingest/stored.py `record_rejection`)."""

from __future__ import annotations

from domain.errors import DomainError, ErrorCode
from domain.ingest.records import ParkedEvent


def expiry_error(parked: ParkedEvent) -> DomainError:
    """PARKED_EXPIRED: which step (or CFX transaction's start) it waited for, since when, and
    until when."""
    if parked.waiting_for_transaction is not None:
        return DomainError(
            ErrorCode.PARKED_EXPIRED,
            f"parked since {parked.received_at.isoformat()} waiting for the WorkStarted of "
            f"TransactionID {parked.waiting_for_transaction!r} from {parked.source_system}; it "
            f"did not come by {parked.expires_at.isoformat()} (MES_PARK_TTL)",
            {
                "waitingForTransaction": parked.waiting_for_transaction,
                "parkedAt": parked.received_at.isoformat(),
                "expiresAt": parked.expires_at.isoformat(),
                "sns": [],
            },
        )
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
