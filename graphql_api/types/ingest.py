"""Ingest results, rejections and their connections."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry

from domain.enums import IngestEventType, IngestStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestRejection as DomainRejection
from graphql_api.context import Info
from graphql_api.scalars import JSON
from graphql_api.types.common import MesError
from graphql_api.types.parking import ParkedEvent
from graphql_api.types.tracks import IngestEvent, load_event


@strawberry.type(
    description="An event that was refused. It holds no dedupe key: the source may resend it, "
    "or it can be replayed once the cause is fixed."
)
class IngestRejection:
    id: strawberry.ID
    source_system: str
    dedupe_key: str
    event_type: IngestEventType
    occurred_at: datetime | None
    received_at: datetime
    last_attempt_at: datetime | None
    error: MesError
    input: JSON
    attempts: int = strawberry.field(
        description="How often this same refused input arrived (resends and replays)."
    )
    replayable: bool = strawberry.field(
        description="False for IDEMPOTENCY_CONFLICT and PAYLOAD_TOO_LARGE (a truncated input)."
    )
    sns: list[str] = strawberry.field(description="The units the event named, where found.")
    resolved_by_event_id: strawberry.Private[int | None]

    @strawberry.field(description="Set once a replay (or a resend) of this event was accepted.")
    async def resolved_by(self, info: Info) -> IngestEvent | None:
        return await load_event(info, self.resolved_by_event_id)

    @classmethod
    def of(cls, j: DomainRejection) -> IngestRejection:
        return cls(
            id=strawberry.ID(str(j.id)),
            source_system=j.source_system,
            dedupe_key=j.dedupe_key,
            event_type=j.event_type,
            occurred_at=j.occurred_at,
            received_at=j.received_at,
            last_attempt_at=j.last_attempt_at,
            error=MesError.of(DomainError(j.error_code, j.error_message, j.error_details)),
            input=cast(JSON, j.input),
            attempts=j.attempts,
            replayable=j.replayable,
            sns=list(j.sns),
            resolved_by_event_id=j.resolved_by_event_id,
        )


@strawberry.type
class IngestResult:
    status: IngestStatus
    event: IngestEvent | None = strawberry.field(
        default=None,
        description="The accepted event (also for DUPLICATE: the event accepted first). "
        "Null when REJECTED.",
    )
    error: MesError | None = None
    rejection: IngestRejection | None = strawberry.field(
        default=None, description="Set when REJECTED: the stored rejection, which can be replayed."
    )
    parked_event: ParkedEvent | None = strawberry.field(
        default=None,
        description="Set when PARKED: the event waits for its units to reach its step "
        "(re-driven then; a PARKED_EXPIRED rejection at its expiresAt).",
    )


@strawberry.input
class IngestEventInput:
    source_system: str = strawberry.field(
        description="Identifies the sending system or machine, e.g. EQP-AOI-01."
    )
    dedupe_key: str = strawberry.field(description="Idempotency key, unique within sourceSystem.")
    event_type: IngestEventType
    occurred_at: datetime
    payload: JSON = strawberry.field(
        description="Raw payload from the source; mapped by the step's ingestMapping."
    )
    run_no: str | None = None
    meta: JSON | None = None


@strawberry.input
class IngestEventFilter:
    source_system: str | None = None
    event_type: IngestEventType | None = None
    run_no: str | None = None
    sn: str | None = None
    station_code: str | None = None
    carrier_code: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@strawberry.input
class IngestRejectionFilter:
    source_system: str | None = None
    sn: str | None = None
    code: ErrorCode | None = None
    unresolved_only: bool | None = False
    received_from: datetime | None = None
    received_to: datetime | None = None
