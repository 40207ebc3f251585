"""What execution records: tracks, data values, ingest events and rejections (DOMAIN.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import DataType, IngestEventType, Judge, TrackFlag, TrackResult, TrackSource
from domain.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class Track:
    """One execution of one step for one unit."""

    unit_id: int
    unit_sn: str
    run_no: str
    step_no: int
    attempt: int
    operation_code: str
    source: TrackSource
    station_code: str | None = None
    in_at: datetime | None = None
    out_at: datetime | None = None
    result: TrackResult | None = None
    operator_id: str | None = None
    ingest_event_id: int | None = None
    carrier_track_id: int | None = None
    id: int | None = None
    #: set when a KEY spec failed after the track passed (its result stands)
    flag: TrackFlag | None = None


@dataclass(frozen=True, slots=True)
class DataValue:
    """One typed value for one spec, on exactly one track (or carrier track)."""

    spec_name: str
    data_type: DataType
    source: TrackSource
    collected_at: datetime
    value_number: float | None = None
    value_text: str | None = None
    value_boolean: bool | None = None
    value_json: Any = None
    value_unit: str | None = None
    judge: Judge | None = None
    alarmed: bool = False
    track_id: int | None = None
    carrier_track_id: int | None = None
    ingest_event_id: int | None = None
    device_record_id: int | None = None
    id: int | None = None


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

    def root(self) -> dict[str, Any]:
        """The document the mapping's paths start from (`meta` is not addressable)."""
        return {
            "sourceSystem": self.source_system,
            "dedupeKey": self.dedupe_key,
            "eventType": self.event_type.value,
            "occurredAt": self.occurred_at.isoformat() if self.occurred_at else None,
            "runNo": self.run_no,
            "payload": self.payload,
        }


@dataclass(frozen=True, slots=True)
class IngestEvent:
    """An accepted event: the raw payload, the normalized reading, its links."""

    source_system: str
    dedupe_key: str
    input_hash: str
    event_type: IngestEventType
    occurred_at: datetime
    received_at: datetime
    payload: Any
    run_no: str | None = None
    step_no: int | None = None
    station_code: str | None = None
    line_code: str | None = None
    sn: str | None = None
    sn_list: tuple[str, ...] = ()
    carrier_code: str | None = None
    test_result_id: str | None = None
    result: TrackResult | None = None
    normalized: dict[str, Any] | None = field(default=None, hash=False)
    meta: Any = None
    id: int | None = None


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
class Carrier:
    """A tray, magazine or rack that carries boards through a BATCH step."""

    carrier_no: str
    created_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CarrierLoad:
    """Which unit rode in which carrier, from when to when (one open load per unit)."""

    carrier_id: int
    unit_id: int
    loaded_at: datetime
    unloaded_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CarrierTrack:
    """A carrier through a BATCH step; its boards each get a Track linked to it."""

    carrier_id: int
    run_no: str
    step_no: int
    source: TrackSource
    station_code: str | None = None
    in_at: datetime | None = None
    out_at: datetime | None = None
    result: TrackResult | None = None
    ingest_event_id: int | None = None
    id: int | None = None
    #: set when a KEY spec failed after the carrier track passed (its result stands)
    flag: TrackFlag | None = None


@dataclass(frozen=True, slots=True)
class DeviceDataRecord:
    """A device gateway's values for an existing track or carrier track (DOMAIN.md §7)."""

    event_id: str
    input_hash: str
    source: str
    event_time: datetime
    received_at: datetime
    values_created: int
    track_id: int | None = None
    carrier_track_id: int | None = None
    equipment_id: str | None = None
    operator_id: str | None = None
    meta: Any = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ModuleCount:
    module: str
    picked: int
    placed: int


@dataclass(frozen=True, slots=True)
class ProductionCountRecord:
    """What a placement machine reports per job (DOMAIN.md §7)."""

    event_id: str
    input_hash: str
    line_code: str
    quantity: int
    started_at: datetime
    ended_at: datetime
    modules: tuple[ModuleCount, ...]
    received_at: datetime
    station_code: str | None = None
    equipment_id: str | None = None
    run_no: str | None = None
    product_code: str | None = None
    id: int | None = None

    @property
    def picked(self) -> int:
        return sum(m.picked for m in self.modules)

    @property
    def placed(self) -> int:
        return sum(m.placed for m in self.modules)

    @property
    def pick_loss(self) -> int:
        return self.picked - self.placed

    @property
    def placement_rate(self) -> float | None:
        return self.placed / self.picked if self.picked else None
