"""Ports: what the use cases need from the world (repositories, unit of work, clock, reads).

Adapters implement them (SQLAlchemy), tests implement them as Fake* classes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.changes import Change
from domain.enums import (
    DispositionAction,
    IngestEventType,
    RunStatus,
    TrackFlag,
    UnitStatus,
)
from domain.errors import ErrorCode
from domain.execution import (
    Carrier,
    CarrierLoad,
    CarrierTrack,
    DataValue,
    DeviceDataRecord,
    IngestEvent,
    IngestRejection,
    ProductionCountRecord,
    TesterResultKey,
    Track,
)
from domain.holds import HeldUnit, Hold
from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.production import AuditEvent, Disposition, Run, Unit, WorkOrder
from domain.routes import RouteVersion
from domain.security import ApiToken
from domain.shifts import Shift


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class LineRepository(Protocol):
    async def get(self, code: str) -> Line | None: ...
    async def upsert(self, line: Line) -> None: ...
    async def shifts(self, code: str) -> tuple[Shift, ...]:
        """The line's shift calendar, by start time."""
        ...

    async def replace_shifts(self, code: str, shifts: Sequence[Shift]) -> None: ...


class StationGroupRepository(Protocol):
    async def get(self, code: str) -> StationGroup | None: ...
    async def upsert(self, group: StationGroup) -> None: ...
    async def existing_codes(self, codes: Iterable[str]) -> set[str]: ...


class StationRepository(Protocol):
    async def get(self, code: str) -> Station | None: ...
    async def upsert(self, station: Station) -> None: ...
    async def existing_codes(self, codes: Iterable[str]) -> set[str]: ...


class OperationRepository(Protocol):
    async def get(self, code: str) -> Operation | None: ...
    async def get_many(self, codes: Iterable[str]) -> dict[str, Operation]: ...
    async def upsert(self, operation: Operation) -> None: ...


class DataSpecRepository(Protocol):
    async def upsert(self, spec: DataCollectionSpec) -> DataCollectionSpec:
        """Insert or update by (operation, name); returns the spec with its id."""
        ...

    async def for_operations(self, operation_codes: Iterable[str]) -> list[DataCollectionSpec]:
        """Every spec (active or not) of these operations."""
        ...

    async def with_names(self, names: Iterable[str]) -> list[DataCollectionSpec]:
        """Specs of any operation bearing one of these names (for helpful compile messages)."""
        ...


class RoutingRepository(Protocol):
    async def get(self, code: str, *, for_update: bool = False) -> Routing | None: ...
    async def upsert(self, routing: Routing) -> None: ...


class ExecutionConfigRepository(Protocol):
    async def for_routing(self, routing_code: str) -> list[ExecutionConfig]: ...
    async def put(self, config: ExecutionConfig) -> None:
        """Replace the record of the config's scope."""
        ...


class RouteVersionRepository(Protocol):
    async def add(self, version: RouteVersion) -> RouteVersion:
        """Store a new version; returns it with its id."""
        ...

    async def max_version_no(self, routing_code: str) -> int: ...
    async def latest_ready(self, routing_code: str) -> RouteVersion | None: ...
    async def get_by_id(self, version_id: int) -> RouteVersion | None: ...
    async def get_many(self, version_ids: Sequence[int]) -> dict[int, RouteVersion]:
        """Versions are immutable: adapters may cache them across transactions."""
        ...


class WorkOrderRepository(Protocol):
    async def get(self, wo_no: str, *, for_update: bool = False) -> WorkOrder | None: ...
    async def add(self, work_order: WorkOrder) -> None: ...
    async def update(self, work_order: WorkOrder) -> None: ...


class RunRepository(Protocol):
    async def get(
        self, run_no: str, *, for_update: bool = False, for_share: bool = False
    ) -> Run | None:
        """for_update: locked for a status change (authorize, revoke, close). for_share: held
        by an execution until the transaction ends: a status change waits for it, and it
        waits for one (then reads the new status); executions never wait for each other."""
        ...

    async def add(self, run: Run) -> None: ...
    async def update(self, run: Run) -> None: ...
    async def count_for_work_order(self, wo_no: str) -> int: ...
    async def statuses_for_work_order(self, wo_no: str) -> dict[str, RunStatus]: ...
    async def unfinished_versions(self) -> list[int]:
        """The route versions of the runs that can still receive events, each once, in the
        order of its oldest such run (creation, then runNo): a few rows however many runs."""
        ...

    async def set_status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        """Compare-and-set the status; whether it changed."""
        ...


class UnitRepository(Protocol):
    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None: ...
    async def existing_sns(self, sns: Sequence[str]) -> list[str]: ...
    async def add_many(self, units: Sequence[Unit]) -> None:
        """Insert in SN order (one order everywhere: two registrations of overlapping SNs
        never deadlock, the later one finds them taken). KeyTaken names the SNs that exist
        already; the caller refuses (and so rolls back what was inserted)."""
        ...

    async def status_counts(self, run_no: str) -> dict[UnitStatus, int]: ...
    async def count_for_work_order(self, wo_no: str, statuses: Sequence[UnitStatus]) -> int:
        """The work order's units (of all its runs) in one of these statuses."""
        ...

    async def next_sn_numbers(self, prefix: str, count: int) -> int:
        """Take `count` numbers from the prefix's counter (shared by every run, starting at 1);
        the first of them. The counter stays locked until the transaction ends."""
        ...

    async def get_by_id(self, unit_id: int, *, for_update: bool = False) -> Unit | None: ...
    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        """As get_many, by id."""
        ...

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        """The registered units among these SNs; locked in SN order when for_update (one
        order everywhere, so two events never deadlock), their runs then held as by
        `runs.get(for_share=True)`. A unit's loads change only under its lock."""
        ...

    async def update_many(self, units: Sequence[Unit]) -> None:
        """Write status, current step, step fails and held-from of these units."""
        ...

    async def add_disposition(self, disposition: Disposition) -> Disposition: ...
    async def sns_of_run(self, run_no: str, limit: int) -> list[str]:
        """At most `limit` SNs of the run's units, in SN order (not locked)."""
        ...

    async def count_dispositions(self, unit_id: int, actions: Iterable[DispositionAction]) -> int:
        """How many dispositions with one of these actions the unit has had."""
        ...


class IngestEventRepository(Protocol):
    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        """Serialize senders of one key until the transaction ends (PostgreSQL: an advisory
        lock; SQLite writers are serialized already)."""
        ...

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None: ...
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


class TrackRepository(Protocol):
    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        """Store the tracks in order; returns them with their ids."""
        ...

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        """Store each track and its data values (their track_id set to the track's)."""
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


class CarrierRepository(Protocol):
    async def get(self, carrier_no: str) -> Carrier | None: ...
    async def get_or_create(self, carrier_no: str, at: datetime) -> Carrier:
        """The carrier, created on first use; its row is locked for the transaction."""
        ...

    async def open_loads(self, carrier_id: int) -> list[CarrierLoad]: ...
    async def open_loads_of_units(self, unit_ids: Sequence[int]) -> list[CarrierLoad]: ...
    async def add_loads(self, loads: Sequence[CarrierLoad]) -> None: ...
    async def close_loads(self, load_ids: Sequence[int], at: datetime) -> None:
        """Close those of these loads that are still open (a closed one keeps its time)."""
        ...

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        """Close every open load of these units (recorded at a step that is not BATCH)."""
        ...

    async def add_track(self, track: CarrierTrack) -> CarrierTrack: ...
    async def get_track(self, carrier_track_id: int) -> CarrierTrack | None: ...
    async def set_track_flag(self, carrier_track_id: int, flag: TrackFlag) -> None: ...


class DeviceDataRepository(Protocol):
    async def get_by_event_id(self, event_id: str) -> DeviceDataRecord | None: ...
    async def add(self, record: DeviceDataRecord) -> DeviceDataRecord | None:
        """Claim the eventId; None when another sender's record holds it already."""
        ...

    async def set_values_created(self, record_id: int, count: int) -> None: ...


class ProductionCountRepository(Protocol):
    async def get_by_event_id(self, event_id: str) -> ProductionCountRecord | None: ...
    async def add(self, record: ProductionCountRecord) -> ProductionCountRecord | None:
        """Claim the eventId; None when another sender's record holds it already."""
        ...


class DataValueRepository(Protocol):
    async def add_many(self, values: Sequence[DataValue]) -> None: ...
    async def failed_spec_names(self, track_id: int) -> set[str]:
        """The specs with a value judged FAIL on that track (each once)."""
        ...


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...
    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        """In one statement whatever the count."""
        ...


class HoldRepository(Protocol):
    async def add(self, hold: Hold) -> Hold:
        """The hold and its units (a fixed number of statements whatever the count)."""
        ...

    async def get(self, hold_id: int, *, for_update: bool = False) -> Hold | None:
        """With all its units."""
        ...

    async def open_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        """Per unit, the holds open on it (each Hold's units: that unit only); units held by
        none are left out."""
        ...

    async def release(
        self, unit_ids: Sequence[int], at: datetime, hold_id: int | None = None
    ) -> None:
        """Release these units from that hold (from every open hold when hold_id is None),
        then close each hold left with no open unit."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Nothing is saved without commit(); leaving the block rolls back."""

    @property
    def lines(self) -> LineRepository: ...

    @property
    def station_groups(self) -> StationGroupRepository: ...

    @property
    def stations(self) -> StationRepository: ...

    @property
    def operations(self) -> OperationRepository: ...

    @property
    def data_specs(self) -> DataSpecRepository: ...

    @property
    def routings(self) -> RoutingRepository: ...

    @property
    def execution_configs(self) -> ExecutionConfigRepository: ...

    @property
    def route_versions(self) -> RouteVersionRepository: ...

    @property
    def work_orders(self) -> WorkOrderRepository: ...

    @property
    def runs(self) -> RunRepository: ...

    @property
    def units(self) -> UnitRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def ingest_events(self) -> IngestEventRepository: ...

    @property
    def rejections(self) -> RejectionRepository: ...

    @property
    def tracks(self) -> TrackRepository: ...

    @property
    def data_values(self) -> DataValueRepository: ...

    @property
    def carriers(self) -> CarrierRepository: ...

    @property
    def device_data(self) -> DeviceDataRepository: ...

    @property
    def production_counts(self) -> ProductionCountRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def holds(self) -> HoldRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def publish(self, change: Change) -> None:
        """Announce a change to live subscribers once this transaction commits (never when it
        rolls back)."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class ChangeStream(Protocol):
    """One subscriber's changes, in commit order, from a bounded queue; iterating raises
    SubscriberTooSlow once it overflowed."""

    def __aiter__(self) -> ChangeStream: ...
    async def __anext__(self) -> Change: ...
    def close(self) -> None:
        """Stop receiving (idempotent)."""
        ...


class ChangeFeed(Protocol):
    """The committed changes of every server process sharing the database (PostgreSQL), or of
    this process (SQLite)."""

    async def subscribe(
        self, max_queue: int, on_overflow: Callable[[], None] | None = None
    ) -> ChangeStream:
        """A new subscriber; `on_overflow` is called once when its queue overflows."""
        ...

    async def aclose(self) -> None:
        """Stop listening (the server shuts down)."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


@dataclass(frozen=True, slots=True)
class EventFilter:
    source_system: str | None = None
    event_type: IngestEventType | None = None
    run_no: str | None = None
    sn: str | None = None
    station_code: str | None = None
    carrier_code: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class RejectionFilter:
    source_system: str | None = None
    sn: str | None = None
    code: ErrorCode | None = None
    unresolved_only: bool = False
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_key: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class TokenRepository(Protocol):
    async def add(self, token: ApiToken) -> ApiToken:
        """The token with its id; KeyTaken while another token of its name is active."""
        ...

    async def get(self, name: str) -> ApiToken | None:
        """The token of that name: the active one, else the last one revoked (a revoked
        token's name may be given to a new token)."""
        ...

    async def all(self) -> list[ApiToken]:
        """Every token, revoked ones too, by name and then age."""
        ...

    async def revoke(self, name: str, at: datetime) -> bool:
        """Revoke the active token of that name (False: none is active)."""
        ...

    async def hold(self, token_id: int) -> bool:
        """Whether the token is active, and held so until the transaction ends: a revoke
        committed before is seen, a later one waits for this transaction (PostgreSQL: FOR
        SHARE on its row; SQLite serializes writers)."""
        ...


class ReadStore(Protocol):
    """Batch reads for the query side: each call is a fixed number of statements, whatever
    the number of keys (DataLoaders call these once per batch)."""

    async def lines(self, codes: Sequence[str]) -> dict[str, Line]: ...
    async def station_groups(self, codes: Sequence[str]) -> dict[str, StationGroup]: ...
    async def stations(self, codes: Sequence[str]) -> dict[str, Station]: ...
    async def stations_of_lines(self, codes: Sequence[str]) -> dict[str, list[Station]]: ...
    async def stations_of_groups(self, codes: Sequence[str]) -> dict[str, list[Station]]: ...
    async def operations(self, codes: Sequence[str]) -> dict[str, Operation]: ...
    async def specs_of_operations(
        self, codes: Sequence[str]
    ) -> dict[str, list[DataCollectionSpec]]: ...
    async def routings(self, codes: Sequence[str]) -> dict[str, Routing]: ...
    async def versions_of_routings(self, codes: Sequence[str]) -> dict[str, list[RouteVersion]]: ...
    async def route_versions(self, ids: Sequence[int]) -> dict[int, RouteVersion]: ...
    async def route_versions_by_no(
        self, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], RouteVersion]: ...
    async def work_orders(self, wo_nos: Sequence[str]) -> dict[str, WorkOrder]: ...
    async def runs_of_work_orders(self, wo_nos: Sequence[str]) -> dict[str, list[Run]]: ...
    async def runs(self, run_nos: Sequence[str]) -> dict[str, Run]: ...
    async def units(self, sns: Sequence[str]) -> dict[str, Unit]: ...
    async def unit_counts_of_runs(self, run_nos: Sequence[str]) -> dict[str, int]: ...
    async def units_of_run(
        self, run_no: str, first: int, after_id: int | None
    ) -> tuple[list[Unit], bool]:
        """One page of a run's units in registration order, and whether more follow."""
        ...

    async def units_by_ids(self, ids: Sequence[int]) -> dict[int, Unit]: ...
    async def tracks_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Track]]:
        """In the order they were recorded."""
        ...

    async def tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, list[Track]]: ...
    async def values_of_tracks(self, track_ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def values_of_events(self, event_ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def value_counts_of_events(self, event_ids: Sequence[int]) -> dict[int, int]: ...
    async def events(self, ids: Sequence[int]) -> dict[int, IngestEvent]: ...
    async def events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[IngestEvent]]:
        """Every event that touched each unit, oldest first."""
        ...

    async def event_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None: ...
    async def events_page(
        self, where: EventFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[IngestEvent], bool]:
        """Newest first by order received (ties by id), keyset-paged."""
        ...

    async def rejections(self, ids: Sequence[int]) -> dict[int, IngestRejection]: ...
    async def rejections_page(
        self, where: RejectionFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[IngestRejection], bool]: ...

    async def carriers_by_no(self, carrier_nos: Sequence[str]) -> dict[str, Carrier]: ...
    async def carriers_by_id(self, ids: Sequence[int]) -> dict[int, Carrier]: ...
    async def loads_of_carriers(
        self, carrier_ids: Sequence[int]
    ) -> dict[int, list[CarrierLoad]]: ...
    async def loads_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[CarrierLoad]]: ...
    async def carrier_tracks(self, ids: Sequence[int]) -> dict[int, CarrierTrack]: ...
    async def carrier_tracks_of_carriers(
        self, carrier_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]: ...
    async def carrier_tracks_of_units(
        self, unit_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]: ...
    async def carrier_tracks_of_events(
        self, event_ids: Sequence[int]
    ) -> dict[int, CarrierTrack]: ...
    async def tracks_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[Track]]: ...
    async def values_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def values_of_device_records(self, ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def tracks_by_id(self, ids: Sequence[int]) -> dict[int, Track]: ...
    async def device_records_page(
        self, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[DeviceDataRecord], bool]:
        """Newest first by order received."""
        ...

    async def production_counts(
        self, line_code: str | None, start: datetime, end: datetime
    ) -> list[ProductionCountRecord]:
        """Records with startedAt in [start, end), of one line or all."""
        ...

    async def dispositions_of_units(
        self, unit_ids: Sequence[int]
    ) -> dict[int, list[Disposition]]: ...
    async def holds_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        """Per unit, every hold on it, open or closed, oldest first (each Hold's units: that
        unit only, with its own released_at)."""
        ...

    async def held_units(self, hold_ids: Sequence[int]) -> dict[int, list[HeldUnit]]: ...
    async def holds(self, open_: bool | None, limit: int) -> list[Hold]:
        """Newest first (units not loaded: held_units)."""
        ...

    async def shift_calendars(self, line_codes: Sequence[str]) -> dict[str, tuple[Shift, ...]]:
        """The shift calendars of these lines (a line without one is left out)."""
        ...

    async def token_by_lookup(self, lookup: str) -> ApiToken | None: ...
    async def audit_page(
        self, where: AuditFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[AuditEvent], bool]:
        """Newest first."""
        ...

    async def ping(self) -> None:
        """Raise when the database is unreachable."""
        ...
