"""Per-request DataLoaders: one per relation, each a single batched read (no N+1).

Each relation is a typed attribute built from a bound read-store method, so a misspelt
relation or a wrong value type fails mypy, not a client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.holds import HeldUnit, Hold
from domain.ingest.records import EventDocuments, EventHead, ParkedEvent
from domain.master import DataCollectionSpec, Line, Operation, Routing, Station, StationGroup
from domain.panels import Panel
from domain.ports import ReadStore
from domain.routes import RouteVersion
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder
from domain.tracks import DataValue, Track

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

Fetch = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


def _loader(fetch: Fetch[K, V], missing: Callable[[], T]) -> DataLoader[K, V | T]:
    """A loader over one batch read: answers in key order, `missing()` for a key not found."""

    async def load(keys: list[K]) -> list[V | T]:
        found = await fetch(keys)
        return [found[k] if k in found else missing() for k in keys]

    return DataLoader(load_fn=load)


def one(fetch: Fetch[K, V]) -> DataLoader[K, V | None]:
    """At most one value per key (None when missing)."""
    return _loader(fetch, lambda: None)


def many(fetch: Fetch[K, list[V]]) -> DataLoader[K, list[V]]:
    """A list per key (empty when missing)."""
    return _loader(fetch, list)


def count(fetch: Fetch[K, int]) -> DataLoader[K, int]:
    """A count per key (0 when missing)."""
    return _loader(fetch, int)


class Loaders:
    """Built fresh for every request (loaders cache per request only). Each loader is built
    when the request first uses it: a request uses a few of the many relations, and building
    every DataLoader cost more than the ingest request's resolver (py-spy)."""

    def __init__(self, store: ReadStore):
        self.store = store

    # ------------------------------------------------------------ master data

    @cached_property
    def line(self) -> DataLoader[str, Line | None]:
        return one(self.store.lines)

    @cached_property
    def station_group(self) -> DataLoader[str, StationGroup | None]:
        return one(self.store.station_groups)

    @cached_property
    def station(self) -> DataLoader[str, Station | None]:
        async def stations(codes: Sequence[str]) -> dict[str, Station]:
            # read with their groups: a station's group is answered from what was read
            found, groups = await self.store.stations_with_groups(codes)
            self.station_group.prime_many(groups)
            return found

        return one(stations)

    @cached_property
    def stations_of_line(self) -> DataLoader[str, list[Station]]:
        return many(self.store.stations_of_lines)

    @cached_property
    def stations_of_group(self) -> DataLoader[str, list[Station]]:
        return many(self.store.stations_of_groups)

    @cached_property
    def operation(self) -> DataLoader[str, Operation | None]:
        return one(self.store.operations)

    @cached_property
    def specs_of_operation(self) -> DataLoader[str, list[DataCollectionSpec]]:
        return many(self.store.specs_of_operations)

    @cached_property
    def routing(self) -> DataLoader[str, Routing | None]:
        return one(self.store.routings)

    @cached_property
    def versions_of_routing(self) -> DataLoader[str, list[RouteVersion]]:
        return many(self.store.versions_of_routings)

    @cached_property
    def route_version(self) -> DataLoader[int, RouteVersion | None]:
        return one(self.store.route_versions)

    @cached_property
    def route_version_by_no(self) -> DataLoader[tuple[str, int], RouteVersion | None]:
        return one(self.store.route_versions_by_no)

    # ------------------------------------------------------------ production

    @cached_property
    def work_order(self) -> DataLoader[str, WorkOrder | None]:
        return one(self.store.work_orders)

    @cached_property
    def runs_of_work_order(self) -> DataLoader[str, list[Run]]:
        return many(self.store.runs_of_work_orders)

    @cached_property
    def run(self) -> DataLoader[str, Run | None]:
        return one(self.store.runs)

    @cached_property
    def unit(self) -> DataLoader[str, Unit | None]:
        async def units(sns: Sequence[str]) -> dict[str, Unit]:
            # read with their runs and work orders, which a unit's next fields ask for:
            # those loaders answer from what was read (primed before any of them can ask)
            found, runs, work_orders = await self.store.units_in_context(sns)
            self.run.prime_many(runs)
            self.work_order.prime_many(work_orders)
            return found

        return one(units)

    @cached_property
    def panel(self) -> DataLoader[str, Panel | None]:
        return one(self.store.panels)

    @cached_property
    def boards_of_panel(self) -> DataLoader[str, list[Unit]]:
        return many(self.store.boards_of_panels)

    @cached_property
    def unit_count_of_run(self) -> DataLoader[str, int]:
        return count(self.store.unit_counts_of_runs)

    @cached_property
    def unit_by_id(self) -> DataLoader[int, Unit | None]:
        return one(self.store.units_by_ids)

    @cached_property
    def dispositions_of_unit(self) -> DataLoader[int, list[Disposition]]:
        return many(self.store.dispositions_of_units)

    @cached_property
    def holds_of_unit(self) -> DataLoader[int, list[Hold]]:
        return many(self.store.holds_of_units)

    @cached_property
    def parked_events_of_unit(self) -> DataLoader[int, list[ParkedEvent]]:
        return many(self.store.parked_events_of_units)

    @cached_property
    def units_of_parked_event(self) -> DataLoader[int, list[Unit]]:
        return many(self.store.units_of_parked_events)

    @cached_property
    def held_units_of_hold(self) -> DataLoader[int, list[HeldUnit]]:
        return many(self.store.held_units)

    # ------------------------------------------------------------ execution and ingest

    @cached_property
    def track(self) -> DataLoader[int, Track | None]:
        return one(self.store.tracks_by_id)

    @cached_property
    def tracks_of_unit(self) -> DataLoader[int, list[Track]]:
        return many(self.store.tracks_of_units)

    @cached_property
    def tracks_of_event(self) -> DataLoader[int, list[Track]]:
        return many(self.store.tracks_of_events)

    @cached_property
    def values_of_track(self) -> DataLoader[int, list[DataValue]]:
        return many(self.store.values_of_tracks)

    @cached_property
    def values_of_event(self) -> DataLoader[int, list[DataValue]]:
        return many(self.store.values_of_events)

    @cached_property
    def value_count_of_event(self) -> DataLoader[int, int]:
        return count(self.store.value_counts_of_events)

    @cached_property
    def event(self) -> DataLoader[int, EventHead | None]:
        return one(self.store.event_heads)

    @cached_property
    def event_documents(self) -> DataLoader[int, EventDocuments | None]:
        return one(self.store.event_documents)

    @cached_property
    def events_of_unit(self) -> DataLoader[int, list[EventHead]]:
        return many(self.store.events_of_units)

    @cached_property
    def values_of_device_record(self) -> DataLoader[int, list[DataValue]]:
        return many(self.store.values_of_device_records)

    # ------------------------------------------------------------ carriers

    @cached_property
    def carrier(self) -> DataLoader[str, Carrier | None]:
        return one(self.store.carriers_by_no)

    @cached_property
    def carrier_by_id(self) -> DataLoader[int, Carrier | None]:
        return one(self.store.carriers_by_id)

    @cached_property
    def loads_of_carrier(self) -> DataLoader[int, list[CarrierLoad]]:
        return many(self.store.loads_of_carriers)

    @cached_property
    def loads_of_unit(self) -> DataLoader[int, list[CarrierLoad]]:
        return many(self.store.loads_of_units)

    @cached_property
    def carrier_track(self) -> DataLoader[int, CarrierTrack | None]:
        return one(self.store.carrier_tracks)

    @cached_property
    def carrier_tracks_of_carrier(self) -> DataLoader[int, list[CarrierTrack]]:
        return many(self.store.carrier_tracks_of_carriers)

    @cached_property
    def carrier_tracks_of_unit(self) -> DataLoader[int, list[CarrierTrack]]:
        return many(self.store.carrier_tracks_of_units)

    @cached_property
    def carrier_track_of_event(self) -> DataLoader[int, CarrierTrack | None]:
        return one(self.store.carrier_tracks_of_events)

    @cached_property
    def tracks_of_carrier_track(self) -> DataLoader[int, list[Track]]:
        return many(self.store.tracks_of_carrier_tracks)

    @cached_property
    def values_of_carrier_track(self) -> DataLoader[int, list[DataValue]]:
        return many(self.store.values_of_carrier_tracks)
