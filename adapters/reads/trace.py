"""A unit's trace: its tracks, their values, the events that touched it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from adapters import rows
from adapters import tables as t
from adapters.pg import columns, keyed
from adapters.reads.base import ReadBase, grouped
from domain.ingest.records import EventDocuments, EventHead, IngestEvent
from domain.runs_and_units import Unit
from domain.tracks import DataValue, Track

#: a unit's tracks in the machines' time: by outAt, ties by id, open tracks (no outAt) last
_BY_OUT_AT = (t.track.c.out_at.is_(None), t.track.c.out_at, t.track.c.id)
_TRACKS_OF_UNITS = f"""SELECT {columns(t.track, "track.")}, unit.sn FROM track
JOIN unit ON unit.id = track.unit_id WHERE track.unit_id = ANY($1::bigint[])
ORDER BY track.out_at IS NULL, track.out_at, track.id"""
# a value without JSON holds JSON null (as Core's JSON type stores None): read as SQL NULL, it
# skips the driver's JSON decoder, a Python call per value (14% of a deep trace's server CPU)
_VALUE_COLUMNS = columns(t.data_value).replace(
    "value_json", "NULLIF(value_json, 'null'::jsonb) AS value_json"
)
_VALUES_OF_TRACKS = (
    f"SELECT {_VALUE_COLUMNS} FROM data_value WHERE track_id = ANY($1::bigint[]) ORDER BY id"
)
_VALUES_OF_EVENTS = (
    f"SELECT {_VALUE_COLUMNS} FROM data_value WHERE ingest_event_id = ANY($1::bigint[]) ORDER BY id"
)
#: an event's head: every column but its documents (payload, normalized, meta), which a TEST
#: event fills with its every value again; decoding them was 11% of a deep trace's server CPU
_HEAD = [c for c in t.ingest_event.c if c.name not in ("payload", "normalized", "meta")]
_EVENT_HEADS = keyed(t.ingest_event, "id", ", ".join(c.name for c in _HEAD))
_VALUE_COUNTS = """SELECT ingest_event_id, count(*) AS n FROM data_value
WHERE ingest_event_id = ANY($1::bigint[]) GROUP BY ingest_event_id"""
_EVENTS_OF_UNITS = f"""SELECT {", ".join(f"e.{c.name}" for c in _HEAD)}, link.unit_id
FROM ingest_event e JOIN ingest_event_unit link ON link.event_id = e.id
WHERE link.unit_id = ANY($1::bigint[]) ORDER BY e.id"""


class TraceReads(ReadBase):
    """Units by id, tracks, data values and ingest events (the big reads of a trace)."""

    async def units_by_ids(self, ids: Sequence[int]) -> dict[int, Unit]:
        found = await self._in(select(t.unit), t.unit.c.id, ids, keyed(t.unit, "id"))
        return {r.id: rows.unit_from_row(r) for r in found}

    async def tracks_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(*_BY_OUT_AT),
            t.track.c.unit_id,
            unit_ids,
            _TRACKS_OF_UNITS,
        )
        return grouped(found, "unit_id", rows.track_from_row)

    async def tracks_of_events(self, event_ids: Sequence[int]) -> dict[int, list[Track]]:
        found = await self._in(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .order_by(t.track.c.id),
            t.track.c.ingest_event_id,
            event_ids,
        )
        return grouped(found, "ingest_event_id", rows.track_from_row)

    async def values_of_tracks(self, track_ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id),
            t.data_value.c.track_id,
            track_ids,
            _VALUES_OF_TRACKS,
            by_position=True,
        )
        return grouped(found, rows.VALUE_COLUMN_AT["track_id"], rows.value_from_row)

    async def values_of_events(self, event_ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id),
            t.data_value.c.ingest_event_id,
            event_ids,
            _VALUES_OF_EVENTS,
            by_position=True,
        )
        return grouped(found, rows.VALUE_COLUMN_AT["ingest_event_id"], rows.value_from_row)

    async def value_counts_of_events(self, event_ids: Sequence[int]) -> dict[int, int]:
        dv = t.data_value
        found = await self._in(
            select(dv.c.ingest_event_id, func.count().label("n")).group_by(dv.c.ingest_event_id),
            dv.c.ingest_event_id,
            event_ids,
            _VALUE_COUNTS,
        )
        return {r.ingest_event_id: int(r.n) for r in found}

    async def events(self, ids: Sequence[int]) -> dict[int, IngestEvent]:
        found = await self._in(select(t.ingest_event), t.ingest_event.c.id, ids)
        return {r.id: rows.event_from_row(r) for r in found}

    async def event_heads(self, ids: Sequence[int]) -> dict[int, EventHead]:
        found = await self._in(select(*_HEAD), t.ingest_event.c.id, ids, _EVENT_HEADS)
        return {r.id: rows.event_head_from_row(r) for r in found}

    async def event_documents(self, ids: Sequence[int]) -> dict[int, EventDocuments]:
        e = t.ingest_event
        found = await self._in(select(e.c.id, e.c.payload, e.c.normalized), e.c.id, ids)
        return {r.id: rows.documents_from_row(r) for r in found}

    async def events_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[EventHead]]:
        link = t.ingest_event_unit
        found = await self._in(
            select(*_HEAD, link.c.unit_id)
            .join(link, link.c.event_id == t.ingest_event.c.id)
            .order_by(t.ingest_event.c.id),
            link.c.unit_id,
            unit_ids,
            _EVENTS_OF_UNITS,
        )
        return grouped(found, "unit_id", rows.event_head_from_row)

    async def event_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        found = await self._rows(
            select(t.ingest_event).where(
                t.ingest_event.c.source_system == source_system,
                t.ingest_event.c.dedupe_key == dedupe_key,
            )
        )
        return rows.event_from_row(found[0]) if found else None

    async def values_of_device_records(self, ids: Sequence[int]) -> dict[int, list[DataValue]]:
        found = await self._in(
            select(t.data_value).order_by(t.data_value.c.id), t.data_value.c.device_record_id, ids
        )
        return grouped(found, "device_record_id", rows.value_from_row)

    async def tracks_by_id(self, ids: Sequence[int]) -> dict[int, Track]:
        found = await self._in(
            select(t.track, t.unit.c.sn).join(t.unit, t.unit.c.id == t.track.c.unit_id),
            t.track.c.id,
            ids,
        )
        return {r.id: rows.track_from_row(r) for r in found}
