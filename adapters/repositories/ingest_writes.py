"""The accepted event's writes as one operation (`uow.ingest_writes.record`), over the
repositories of its unit of work: the Core ones on SQLite, their PostgreSQL implementations
(adapters/repositories/postgres.py: the event and its units in one statement, every later
write nobody waits for deferred into one) on PostgreSQL, as chosen once when the unit of work
is built (adapters/uow.py); the fakes in the tests (tests/fakes.py).

The steps that need an id inserted on the way are here: the event's (its tester keys, tracks,
values, carrier track) and a BATCH event's carrier's (its loads and track)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.carriers import CarrierLoad
from domain.ingest.records import IngestEvent
from domain.ports import (
    CarrierRepository,
    CarrierWrites,
    DataValueRepository,
    EventWrites,
    IngestEventRepository,
    RejectionRepository,
    RunRepository,
    TrackRepository,
    UnitOfWork,
    UnitRepository,
)


class RepositoryIngestWrites:
    """`IngestWrites` over the repositories of one unit of work."""

    ingest_events: IngestEventRepository
    carriers: CarrierRepository
    tracks: TrackRepository
    data_values: DataValueRepository
    units: UnitRepository
    runs: RunRepository
    rejections: RejectionRepository

    __slots__ = (
        "carriers",
        "data_values",
        "ingest_events",
        "rejections",
        "runs",
        "tracks",
        "units",
    )

    def __init__(self, uow: UnitOfWork):
        """Over these repositories of the unit of work (built with them, before it is used)."""
        self.ingest_events = uow.ingest_events
        self.carriers = uow.carriers
        self.tracks = uow.tracks
        self.data_values = uow.data_values
        self.units = uow.units
        self.runs = uow.runs
        self.rejections = uow.rejections

    async def record(self, writes: EventWrites) -> IngestEvent | None:
        event = await self.ingest_events.add(writes.event, writes.unit_ids)
        if event is None or event.id is None:
            return None
        event_id = event.id
        await self.ingest_events.add_tester_results(
            [replace(k, event_id=event_id) for k in writes.tester_keys]
        )
        recorded = [tr.unit_id for tr, _ in writes.tracks]
        # the boards it marked X_OUT leave their carriers (a carrier-only BATCH event must not
        # find them in its open loads)
        x_outs = [d.unit_id for d in writes.dispositions]
        at = writes.event.occurred_at
        carrier_track_id: int | None = None
        if writes.carrier is None:
            # recorded at a step that is not BATCH: the units are off their carriers
            await self.carriers.close_loads_of_units(recorded + x_outs, at)
        else:
            if x_outs:
                await self.carriers.close_loads_of_units(x_outs, at)
            carrier_track_id = await self._carrier(writes.carrier, recorded, at, event_id)
        # the values take their track's event as they are stored (a copy of each of a TEST
        # event's hundred values would cost ~1 ms of CPU)
        await self.tracks.add_with_values(
            [
                (replace(tr, ingest_event_id=event_id, carrier_track_id=carrier_track_id), vs)
                for tr, vs in writes.tracks
            ]
        )
        await self.units.update_many(writes.units)
        for disposition in writes.dispositions:
            # the boards a skip value marked X_OUT: a few per panel, mostly none
            await self.units.add_disposition(disposition)
        start = writes.run_start
        if start is not None:
            # the run is held since the event's units were locked: only another execution
            # can have started it meanwhile (then it is IN_PROGRESS already)
            await self.runs.set_status_if(start.run_no, start.expected, start.new)
        await self.rejections.resolve_key(event.source_system, event.dedupe_key, event_id)
        return event

    async def _carrier(
        self, c: CarrierWrites, unit_ids: Sequence[int], at: datetime, event_id: int
    ) -> int | None:
        """The carrier (created if new), its loads, its track and the carrier-level values;
        the track's id. Relinked, the units become its loads (their open loads elsewhere
        closed); else its open loads stay. The loads stay open for the next BATCH step
        (reflow then wash): they close on unloadCarrier, on a load elsewhere, or at a step
        that is not BATCH."""
        carrier = await self.carriers.get_or_create(c.carrier_no, c.created_at)
        assert carrier.id is not None
        if c.relink:
            open_loads = await self.carriers.open_loads_of_units(unit_ids)
            elsewhere = [ld.id or 0 for ld in open_loads if ld.carrier_id != carrier.id]
            await self.carriers.close_loads(elsewhere, at)
            here = {ld.unit_id for ld in open_loads if ld.carrier_id == carrier.id}
            await self.carriers.add_loads(
                [
                    CarrierLoad(carrier_id=carrier.id, unit_id=u, loaded_at=at)
                    for u in unit_ids
                    if u not in here
                ]
            )
        track = await self.carriers.add_track(
            replace(c.track, carrier_id=carrier.id, ingest_event_id=event_id)
        )
        await self.data_values.add_many(
            [replace(v, ingest_event_id=event_id, carrier_track_id=track.id) for v in c.values]
        )
        return track.id
