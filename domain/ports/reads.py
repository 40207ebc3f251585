"""The read side: the filters of the list queries and the ReadStore the loaders batch over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit import AuditEvent
from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.device_records import DeviceDataRecord, ProductionCountRecord
from domain.enums import (
    IngestEventType,
)
from domain.errors import ErrorCode
from domain.holds import HeldUnit, Hold
from domain.ingest.records import (
    EventDocuments,
    EventHead,
    IngestEvent,
    IngestRejection,
    ParkedEvent,
)
from domain.master import (
    DataCollectionSpec,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.panels import Panel
from domain.routes import RouteVersion
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder
from domain.security import ApiToken
from domain.shifts import Shift
from domain.tracks import DataValue, Track


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
class ParkedFilter:
    """Parked events waiting for this unit, or sent by this source (both: both)."""

    source_system: str | None = None
    sn: str | None = None


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


class ReadStore(Protocol):
    """Batch reads for the query side: each call is a fixed number of statements, whatever
    the number of keys (DataLoaders call these once per batch)."""

    async def lines(self, codes: Sequence[str]) -> dict[str, Line]: ...
    async def station_groups(self, codes: Sequence[str]) -> dict[str, StationGroup]: ...
    async def stations(self, codes: Sequence[str]) -> dict[str, Station]: ...
    async def stations_with_groups(
        self, codes: Sequence[str]
    ) -> tuple[dict[str, Station], dict[str, StationGroup]]:
        """The stations by code, with their groups (by code)."""
        ...

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
    async def units_in_context(
        self, sns: Sequence[str]
    ) -> tuple[dict[str, Unit], dict[str, Run], dict[str, WorkOrder]]:
        """The units by SN, with their runs and work orders (by run and work order no)."""
        ...

    async def unit_counts_of_runs(self, run_nos: Sequence[str]) -> dict[str, int]: ...
    async def panels(self, panel_sns: Sequence[str]) -> dict[str, Panel]: ...
    async def boards_of_panels(self, panel_sns: Sequence[str]) -> dict[str, list[Unit]]:
        """Each panel's boards in position order."""
        ...

    async def units_of_run(
        self, run_no: str, first: int, after_id: int | None
    ) -> tuple[list[Unit], bool]:
        """One page of a run's units in registration order, and whether more follow."""
        ...

    async def units_by_ids(self, ids: Sequence[int]) -> dict[int, Unit]: ...
    async def tracks_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Track]]:
        """By outAt (the machines' time), ties by id, open tracks last."""
        ...

    async def tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, list[Track]]: ...
    async def values_of_tracks(self, track_ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def values_of_events(self, event_ids: Sequence[int]) -> dict[int, list[DataValue]]: ...
    async def value_counts_of_events(self, event_ids: Sequence[int]) -> dict[int, int]: ...
    async def events(self, ids: Sequence[int]) -> dict[int, IngestEvent]: ...
    async def event_heads(self, ids: Sequence[int]) -> dict[int, EventHead]: ...
    async def event_documents(self, ids: Sequence[int]) -> dict[int, EventDocuments]: ...
    async def events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[EventHead]]:
        """Every event that touched each unit, oldest first (heads: no documents)."""
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

    async def parked_events_page(
        self, where: ParkedFilter, first: int, after: tuple[datetime, int] | None
    ) -> tuple[list[ParkedEvent], bool]:
        """Newest first by order received (ties by id), keyset-paged; units not loaded
        (units_of_parked_events)."""
        ...

    async def parked_events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[ParkedEvent]]:
        """Per unit, the parked events waiting for it, oldest occurredAt first (units not
        loaded)."""
        ...

    async def units_of_parked_events(self, ids: Sequence[int]) -> dict[int, list[Unit]]:
        """Per parked event, the units it waits for, in registration order."""
        ...

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
