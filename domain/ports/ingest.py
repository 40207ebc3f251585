"""Ports of ingest: the accepted event's writes, accepted events, rejections, tracks, data
values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.carriers import CarrierTrack
from domain.enums import RunStatus, TrackFlag
from domain.ingest.records import (
    IngestEvent,
    IngestRejection,
    PairingKey,
    ParkedEvent,
    TesterResultKey,
)
from domain.runs_and_units import Disposition, Unit
from domain.tracks import DataValue, Track


@dataclass(frozen=True, slots=True)
class CarrierWrites:
    """A BATCH event's carrier: created if new, the event's units made its loads when
    `relink` (their open loads on other carriers closed), its track and its carrier-level
    values."""

    carrier_no: str
    #: when a new carrier is created
    created_at: datetime
    #: a unit list: those units become its loads (else the open loads stay as they are)
    relink: bool
    #: its carrier (0 here) and event are set when stored
    track: CarrierTrack
    #: their carrier track and event are set when stored
    values: tuple[DataValue, ...]


@dataclass(frozen=True, slots=True)
class RunStart:
    """The run an event starts: its status moves `expected` → `new` unless another execution
    moved it first."""

    run_no: str
    expected: RunStatus
    new: RunStatus


@dataclass(frozen=True, slots=True)
class EventWrites:
    """Everything an accepted event writes, computed by the domain (domain/ingest/write.py);
    the ids of what is inserted on the way (the event's, the carrier's, the carrier track's)
    are set by `IngestWrites.record` in the rows that refer to them."""

    #: the event row (no id yet) and the units it touched
    event: IngestEvent
    unit_ids: tuple[int, ...]
    #: a TEST event's tester keys (event id set when stored)
    tester_keys: tuple[TesterResultKey, ...]
    #: a BATCH event's carrier writes; None: the units' open loads close at the event's time
    carrier: CarrierWrites | None
    #: one track per recorded unit with its values (event and carrier track set when stored)
    tracks: tuple[tuple[Track, tuple[DataValue, ...]], ...]
    #: the units advanced (those an alarm holds are held by the domain after `record`), and
    #: the boards it marked X_OUT (a skip value)
    units: tuple[Unit, ...]
    run_start: RunStart | None
    #: the X_OUT dispositions of the boards it marked (naming the event: no id needed)
    dispositions: tuple[Disposition, ...] = ()


class IngestWrites(Protocol):
    async def record(self, writes: EventWrites) -> IngestEvent | None:
        """Store them in the caller's transaction, in this order: the event and its units, the
        tester keys, the loads (closed, or the carrier's writes; the X_OUT boards' closed), the
        tracks with their
        values, the units, their dispositions, the run's start, and the resolution of the
        key's open rejections.
        The stored event; None (nothing written) when another sender's event took the key
        meanwhile."""
        ...


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What `claim_key` found: whether the sender's token is still active (held), and the
    event already accepted under the key (None: free, or the token was revoked); and the
    event parked under the key, its id and input hash (issue 20; None: none is)."""

    token_held: bool
    event: IngestEvent | None
    parked_id: int | None = None
    parked_hash: str | None = None


class IngestEventRepository(Protocol):
    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        """Serialize senders of one key until the transaction ends (PostgreSQL: an advisory
        lock; SQLite writers are serialized already)."""
        ...

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None: ...

    async def claim_key(
        self, source_system: str, dedupe_key: str, token_id: int | None
    ) -> KeyClaim:
        """`TokenRepository.hold` of the token (None: no token to hold), then, if it is held,
        `lock_key`, `get_by_key` and the key's parked event (its id and hash): what an accept
        does first, as one step (PostgreSQL: one round trip, the function of migration 0013,
        replaced by 0017; each of its statements reads after the one before, so the read
        after the lock sees what the lock's last holder committed).
        A revoked token takes no lock."""
        ...

    async def get_by_id(self, event_id: int) -> IngestEvent | None: ...

    async def add(self, event: IngestEvent, unit_ids: Sequence[int]) -> IngestEvent | None:
        """Store the event and the units it touched; None when the key was taken meanwhile."""
        ...

    async def tester_results(
        self, source_system: str, test_result_ids: Sequence[str], unit_ids: Sequence[int]
    ) -> list[TesterResultKey]:
        """The recorded TEST results of these units under these tester ids (the caller holds
        the units' locks, so a concurrent sender's commit is seen)."""
        ...

    async def add_tester_results(self, keys: Sequence[TesterResultKey]) -> None: ...


class RejectionRepository(Protocol):
    async def find_open(
        self, source_system: str, dedupe_key: str, input_hash: str
    ) -> IngestRejection | None:
        """The unresolved rejection of this same input, if any."""
        ...

    async def get(
        self, rejection_id: int, *, for_update: bool = False
    ) -> IngestRejection | None: ...
    async def add(self, rejection: IngestRejection) -> IngestRejection: ...
    async def update(self, rejection: IngestRejection) -> None: ...

    async def resolve_key(self, source_system: str, dedupe_key: str, event_id: int) -> int:
        """Resolve every unresolved rejection of (sourceSystem, dedupeKey); how many."""
        ...


class ParkedEventRepository(Protocol):
    """Parked events (issue 20). A parked event leaves the table by `remove`, whoever removes
    it first (a re-drive, the expiry sweep): the one whose `remove` answers True owns it."""

    async def get_by_key(self, source_system: str, dedupe_key: str) -> ParkedEvent | None:
        """The event parked under that key (the caller holds the key's lock)."""
        ...

    async def add(self, parked: ParkedEvent) -> ParkedEvent:
        """Store it and its units; returns it with its id."""
        ...

    async def waiting(self, unit_ids: Sequence[int], step_no: int) -> list[ParkedEvent]:
        """The events parked for any of these units that wait for that step, oldest
        occurredAt first (ties by id)."""
        ...

    async def waiting_for_start(self, source_system: str, transaction_id: str) -> list[ParkedEvent]:
        """The events parked for the WorkStarted of that CFX pairing key (issue 21), oldest
        occurredAt first (ties by id)."""
        ...

    async def expired(self, now: datetime, limit: int) -> list[ParkedEvent]:
        """Up to `limit` events whose expiresAt is at or before `now`, oldest expiry first."""
        ...

    async def started_waits(self, limit: int) -> list[PairingKey]:
        """Up to `limit` machine transactions that parked events wait for and whose start is
        recorded (its re-drive never ran: the process stopped between the start's commit and
        it), each once."""
        ...

    async def remove(self, parked_id: int) -> bool:
        """Delete it and its unit links; False when it was gone already."""
        ...


class TrackRepository(Protocol):
    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        """Store the tracks in order; returns them with their ids."""
        ...

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        """Store each track and its data values (their track_id set to the track's; a value
        that names no ingest event belongs to its track's)."""
        ...

    async def get(self, track_id: int) -> Track | None: ...
    async def open_of_unit(self, unit_id: int) -> Track | None:
        """The unit's open (manual) track: trackIn without trackOut."""
        ...

    async def close(self, track: Track) -> None:
        """Write out_at, result and operator of a track closed by trackOut."""
        ...

    async def set_flag(self, track_id: int, flag: TrackFlag) -> None: ...

    async def units_of_carrier_track(self, carrier_track_id: int) -> list[int]:
        """The units whose tracks belong to that carrier track."""
        ...

    async def matching(
        self, run_no: str, unit_id: int, step_no: int, station_code: str | None
    ) -> list[Track]:
        """The unit's tracks at that step of that run (at that station if given), newest first."""
        ...

    async def latest_run_at(self, station_code: str) -> str | None:
        """The run of the station's latest track (the last recorded); None when it has none."""
        ...


class DataValueRepository(Protocol):
    async def add_many(self, values: Sequence[DataValue]) -> None: ...
    async def failed_spec_names(self, track_id: int) -> set[str]:
        """The specs with a value judged FAIL on that track (each once)."""
        ...
