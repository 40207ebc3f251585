"""Carriers, their loads and carrier tracks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from adapters import rows
from adapters import tables as t
from adapters.reads.base import ReadBase, grouped
from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.tracks import DataValue, Track


class CarrierReads(ReadBase):
    """Carriers by number or id, loads, carrier tracks and what they recorded."""

    async def carriers_by_no(self, carrier_nos: Sequence[str]) -> dict[str, Carrier]:
        found = await self._in(select(t.carrier), t.carrier.c.carrier_no, carrier_nos)
        return {r.carrier_no: rows.carrier_from_row(r) for r in found}

    async def carriers_by_id(self, ids: Sequence[int]) -> dict[int, Carrier]:
        found = await self._in(select(t.carrier), t.carrier.c.id, ids)
        return {r.id: rows.carrier_from_row(r) for r in found}

    async def _loads_by(self, column: Any, keys: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        found = await self._in(select(t.carrier_load).order_by(t.carrier_load.c.id), column, keys)
        grouped: dict[int, list[CarrierLoad]] = defaultdict(list)
        for r in found:
            grouped[r._mapping[column.name]].append(rows.load_from_row(r))
        return grouped

    async def loads_of_carriers(self, carrier_ids: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        return await self._loads_by(t.carrier_load.c.carrier_id, carrier_ids)

    async def loads_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[CarrierLoad]]:
        return await self._loads_by(t.carrier_load.c.unit_id, unit_ids)

    async def carrier_tracks(self, ids: Sequence[int]) -> dict[int, CarrierTrack]:
        found = await self._in(select(t.carrier_track), t.carrier_track.c.id, ids)
        return {r.id: rows.carrier_track_from_row(r) for r in found}

    async def carrier_tracks_of_carriers(
        self, carrier_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]:
        found = await self._in(
            select(t.carrier_track).order_by(t.carrier_track.c.id),
            t.carrier_track.c.carrier_id,
            carrier_ids,
        )
        return grouped(found, "carrier_id", rows.carrier_track_from_row)

    async def carrier_tracks_of_units(
        self, unit_ids: Sequence[int]
    ) -> dict[int, list[CarrierTrack]]:
        found = await self._in(
            select(t.carrier_track, t.track.c.unit_id.label("of_unit"))
            .join(t.track, t.track.c.carrier_track_id == t.carrier_track.c.id)
            .order_by(t.carrier_track.c.id),
            t.track.c.unit_id,
            unit_ids,
        )
        return grouped(found, "of_unit", rows.carrier_track_from_row)

    async def carrier_tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, CarrierTrack]:
        found = await self._in(
            select(t.carrier_track), t.carrier_track.c.ingest_event_id, event_ids
        )
        return {r.ingest_event_id: rows.carrier_track_from_row(r) for r in found}

    async def tracks_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(t.track.c.id),
            t.track.c.carrier_track_id,
            ids,
        )
        return grouped(found, "carrier_track_id", rows.track_from_row)

    async def values_of_carrier_tracks(self, ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id), t.data_value.c.carrier_track_id, ids
        )
        return grouped(found, "carrier_track_id", rows.value_from_row)
