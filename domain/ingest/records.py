"""What ingest records: the envelope as received, accepted events, tester result keys and
rejections (DOMAIN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.enums import IngestEventType, TrackResult
from domain.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class IngestEnvelope:
    """What a source sends: the event root of the mapping paths, plus the sender's meta."""

    source_system: str
    dedupe_key: str
    event_type: IngestEventType
    occurred_at: datetime | None
    payload: Any
    run_no: str | None = None
    meta: Any = None
    #: set when a PARTIAL refusal is replayed for one unit only
    restrict_to_sn: str | None = None
    #: the payload's size as JSON, measured where it arrived (the size limit's input)
    payload_bytes: int = 0
    #: why occurredAt could not be read, when the sender's value was not a time at all
    occurred_at_error: str | None = None
    #: documents the service adds to the root, read in the event's transaction (a CFX
    #: message's recorded start, `cfxStart`: domain/cfx/pairing.py); not the input: neither
    #: hashed nor stored
    context: dict[str, Any] | None = None

    def root(self) -> dict[str, Any]:
        """The document the mapping's paths start from (`meta` is not addressable)."""
        return {
            **(self.context or {}),
            "sourceSystem": self.source_system,
            "dedupeKey": self.dedupe_key,
            "eventType": self.event_type.value,
            "occurredAt": self.occurred_at.isoformat() if self.occurred_at else None,
            "runNo": self.run_no,
            "payload": self.payload,
        }

    def with_context(self, context: dict[str, Any]) -> IngestEnvelope:
        return replace(self, context={**(self.context or {}), **context})


@dataclass(frozen=True, slots=True)
class EventHead:
    """An accepted event without its documents: what a trace lists (a TEST event's payload and
    normalized reading repeat its every value; they are read only when asked for)."""

    source_system: str
    dedupe_key: str
    input_hash: str
    event_type: IngestEventType
    occurred_at: datetime
    received_at: datetime
    run_no: str | None = None
    step_no: int | None = None
    station_code: str | None = None
    line_code: str | None = None
    sn: str | None = None
    sn_list: tuple[str, ...] = ()
    carrier_code: str | None = None
    test_result_id: str | None = None
    result: TrackResult | None = None
    id: int | None = None
    #: when it was accepted, if later than receivedAt (a parked event re-driven, issue 20)
    accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestEvent(EventHead):
    """An accepted event: the raw payload, the normalized reading, its links."""

    payload: Any
    normalized: dict[str, Any] | None = field(default=None, hash=False)
    meta: Any = None


@dataclass(frozen=True, slots=True)
class EventDocuments:
    """An event's payload as sent and its normalized reading, read apart from its head."""

    payload: Any
    normalized: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class TesterResultKey:
    """For TEST events, (sourceSystem, testResultId, unit) is an idempotency key too: the event
    that first recorded that unit's result, and the digest of its normalized reading."""

    source_system: str
    test_result_id: str
    unit_id: int
    event_id: int
    digest: str


@dataclass(frozen=True, slots=True)
class IngestRejection:
    """A refused event: the full input (truncated when too large), the error, the attempts."""

    source_system: str
    dedupe_key: str
    input_hash: str
    event_type: IngestEventType
    received_at: datetime
    error_code: ErrorCode
    error_message: str
    input: dict[str, Any]
    error_details: dict[str, Any] | None = None
    occurred_at: datetime | None = None
    attempts: int = 1
    sns: tuple[str, ...] = ()
    replayable: bool = True
    restrict_to_sn: str | None = None
    resolved_by_event_id: int | None = None
    last_attempt_at: datetime | None = None
    #: the token that sent it (a replay checks that token's station binding again)
    token_name: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    """An event that came before its units reached its step (issue 20): kept, neither
    accepted nor refused, until a move brings its units there (it is re-driven) or its time
    is up (a PARKED_EXPIRED rejection). `input` is the envelope as a rejection keeps it.
    It waits either for its units to reach a step of a run, or (a CFX result message that names
    no units, issue 21) for the WorkStarted of its transaction: no run, no step, no units."""

    source_system: str
    dedupe_key: str
    input_hash: str
    event_type: IngestEventType
    occurred_at: datetime
    received_at: datetime
    expires_at: datetime
    run_no: str | None
    #: the step the units must reach (of the run's frozen version)
    waiting_for_step_no: int | None
    input: dict[str, Any]
    #: the units it waits for (their ids) and their SNs, in the event's order
    unit_ids: tuple[int, ...] = ()
    sns: tuple[str, ...] = ()
    #: set when a PARTIAL refusal was parked for one unit only (`dedupeKey#sn`)
    restrict_to_sn: str | None = None
    #: the token that sent it (a re-drive is bound by its station binding again)
    token_name: str | None = None
    #: the CFX TransactionID whose WorkStarted (from source_system) it waits for (issue 21)
    waiting_for_transaction: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PairingKey:
    """A machine's transaction `(source, id)`: what a start is recorded under, and what an
    event that names no units waits for (parked) until that start arrives."""

    source_system: str
    transaction_id: str
