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


class _Lazy:
    """A loader built on first use: a request uses a few of the many relations, and building
    every DataLoader cost more than the ingest request's resolver (py-spy)."""

    def __init__(self, fetch: str, default: Callable[[], Any] = lambda: None):
        self.fetch = fetch
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Loaders | None, owner: type) -> DataLoader[Any, Any]:
        if obj is None:
            raise AttributeError(self.name)
        loader = _loader(getattr(obj.store, self.fetch), self.default)
        obj.__dict__[self.name] = loader  # later reads find it first (a non-data descriptor)
        return loader


class Loaders:
    """Built fresh for every request (loaders cache per request only); each loader is built
    when the request first uses it."""

    def __init__(self, store: ReadStore):
        self.store = store

    line = _Lazy("lines")
    station_group = _Lazy("station_groups")
    station = _Lazy("stations")
    stations_of_line = _Lazy("stations_of_lines", list)
    stations_of_group = _Lazy("stations_of_groups", list)
    operation = _Lazy("operations")
    specs_of_operation = _Lazy("specs_of_operations", list)
    routing = _Lazy("routings")
    versions_of_routing = _Lazy("versions_of_routings", list)
    route_version = _Lazy("route_versions")
    route_version_by_no = _Lazy("route_versions_by_no")
    work_order = _Lazy("work_orders")
    runs_of_work_order = _Lazy("runs_of_work_orders", list)
    run = _Lazy("runs")
    unit = _Lazy("units")
    unit_count_of_run = _Lazy("unit_counts_of_runs", int)
    unit_by_id = _Lazy("units_by_ids")
    tracks_of_unit = _Lazy("tracks_of_units", list)
    tracks_of_event = _Lazy("tracks_of_events", list)
    values_of_track = _Lazy("values_of_tracks", list)
    values_of_event = _Lazy("values_of_events", list)
    value_count_of_event = _Lazy("value_counts_of_events", int)
    event = _Lazy("events")
    events_of_unit = _Lazy("events_of_units", list)
    carrier = _Lazy("carriers_by_no")
    carrier_by_id = _Lazy("carriers_by_id")
    loads_of_carrier = _Lazy("loads_of_carriers", list)
    loads_of_unit = _Lazy("loads_of_units", list)
    carrier_track = _Lazy("carrier_tracks")
    carrier_tracks_of_carrier = _Lazy("carrier_tracks_of_carriers", list)
    carrier_tracks_of_unit = _Lazy("carrier_tracks_of_units", list)
    carrier_track_of_event = _Lazy("carrier_tracks_of_events")
    tracks_of_carrier_track = _Lazy("tracks_of_carrier_tracks", list)
    values_of_carrier_track = _Lazy("values_of_carrier_tracks", list)
    values_of_device_record = _Lazy("values_of_device_records", list)
    track = _Lazy("tracks_by_id")
    dispositions_of_unit = _Lazy("dispositions_of_units", list)
    holds_of_unit = _Lazy("holds_of_units", list)
    held_units_of_hold = _Lazy("held_units", list)
