"""Per-request DataLoaders: one per relation, each a single batched read (no N+1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from domain.ports import ReadStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _loader(
    fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]], default: Callable[[], Any] = lambda: None
) -> DataLoader[K, Any]:
    async def load(keys: list[K]) -> list[Any]:
        found = await fetch(keys)
        return [found[k] if k in found else default() for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Built fresh for every request (loaders cache per request only)."""

    def __init__(self, store: ReadStore):
        self.line = _loader(store.lines)
        self.station_group = _loader(store.station_groups)
        self.station = _loader(store.stations)
        self.stations_of_line = _loader(store.stations_of_lines, list)
        self.stations_of_group = _loader(store.stations_of_groups, list)
        self.operation = _loader(store.operations)
        self.specs_of_operation = _loader(store.specs_of_operations, list)
        self.routing = _loader(store.routings)
        self.versions_of_routing = _loader(store.versions_of_routings, list)
        self.route_version = _loader(store.route_versions)
        self.route_version_by_no = _loader(store.route_versions_by_no)
        self.work_order = _loader(store.work_orders)
        self.runs_of_work_order = _loader(store.runs_of_work_orders, list)
        self.run = _loader(store.runs)
        self.unit = _loader(store.units)
        self.unit_count_of_run = _loader(store.unit_counts_of_runs, int)
        self.unit_by_id = _loader(store.units_by_ids)
        self.tracks_of_unit = _loader(store.tracks_of_units, list)
        self.tracks_of_event = _loader(store.tracks_of_events, list)
        self.values_of_track = _loader(store.values_of_tracks, list)
        self.values_of_event = _loader(store.values_of_events, list)
        self.value_count_of_event = _loader(store.value_counts_of_events, int)
        self.event = _loader(store.events)
        self.events_of_unit = _loader(store.events_of_units, list)
        self.carrier = _loader(store.carriers_by_no)
        self.carrier_by_id = _loader(store.carriers_by_id)
        self.loads_of_carrier = _loader(store.loads_of_carriers, list)
        self.loads_of_unit = _loader(store.loads_of_units, list)
        self.carrier_track = _loader(store.carrier_tracks)
        self.carrier_tracks_of_carrier = _loader(store.carrier_tracks_of_carriers, list)
        self.carrier_tracks_of_unit = _loader(store.carrier_tracks_of_units, list)
        self.carrier_track_of_event = _loader(store.carrier_tracks_of_events)
        self.tracks_of_carrier_track = _loader(store.tracks_of_carrier_tracks, list)
        self.values_of_carrier_track = _loader(store.values_of_carrier_tracks, list)
        self.values_of_device_record = _loader(store.values_of_device_records, list)
        self.track = _loader(store.tracks_by_id)
        self.dispositions_of_unit = _loader(store.dispositions_of_units, list)
