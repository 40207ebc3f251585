"""Carriers (trays, magazines), the boards loaded in them and their passes through BATCH steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.enums import TrackFlag, TrackResult, TrackSource


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
