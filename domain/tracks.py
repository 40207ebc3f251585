"""What a unit's passes through its steps record: tracks and their data values (DOMAIN.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import DataType, Judge, TrackFlag, TrackResult, TrackSource


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
    #: the number and unit as sent, when they were converted into the spec's unit (else None)
    original_value: float | None = None
    original_unit: str | None = None
    #: the limits the machine sent with the value, as sent, and their unit (else None)
    low_limit: float | None = None
    high_limit: float | None = None
    expected: float | None = None
    limit_unit: str | None = None
