"""Carriers and their loads and tracks, device data records, production counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    insert,
    select,
    update,
)

from adapters import rows
from adapters import tables as t
from adapters.repositories.base import SqlRepository, chunks
from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.device_records import DeviceDataRecord, ProductionCountRecord
from domain.enums import (
    TrackFlag,
)


class SqlCarrierRepository(SqlRepository):
    async def get(self, carrier_no: str) -> Carrier | None:
        r = await self._one(select(t.carrier).where(t.carrier.c.carrier_no == carrier_no))
        return rows.carrier_from_row(r) if r else None

    async def get_or_create(self, carrier_no: str, at: datetime) -> Carrier:
        await self._insert_ignore(
            t.carrier, {"carrier_no": carrier_no, "created_at": at}, ["carrier_no"]
        )
        r = await self._one(
            select(t.carrier).where(t.carrier.c.carrier_no == carrier_no), for_update=True
        )
        return rows.carrier_from_row(r)

    async def open_loads(self, carrier_id: int) -> list[CarrierLoad]:
        result = await self._exec(
            select(t.carrier_load)
            .where(
                t.carrier_load.c.carrier_id == carrier_id, t.carrier_load.c.unloaded_at.is_(None)
            )
            .order_by(t.carrier_load.c.id)
        )
        return [rows.load_from_row(r) for r in result]

    async def open_loads_of_units(self, unit_ids: Sequence[int]) -> list[CarrierLoad]:
        found: list[CarrierLoad] = []
        for part in chunks(sorted(set(unit_ids))):
            result = await self._exec(
                select(t.carrier_load).where(
                    t.carrier_load.c.unit_id.in_(part), t.carrier_load.c.unloaded_at.is_(None)
                )
            )
            found += [rows.load_from_row(r) for r in result]
        return found

    async def add_loads(self, loads: Sequence[CarrierLoad]) -> None:
        if loads:
            await self._exec(
                insert(t.carrier_load),
                [
                    {
                        "carrier_id": ld.carrier_id,
                        "unit_id": ld.unit_id,
                        "loaded_at": ld.loaded_at,
                        "unloaded_at": ld.unloaded_at,
                    }
                    for ld in loads
                ],
            )

    async def close_loads(self, load_ids: Sequence[int], at: datetime) -> None:
        for part in chunks(sorted(set(load_ids))):
            await self._exec(
                update(t.carrier_load)
                .where(t.carrier_load.c.id.in_(part), t.carrier_load.c.unloaded_at.is_(None))
                .values(unloaded_at=at)
            )

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        if not unit_ids:
            return
        for part in chunks(sorted(set(unit_ids))):
            await self._exec(
                update(t.carrier_load)
                .where(t.carrier_load.c.unit_id.in_(part), t.carrier_load.c.unloaded_at.is_(None))
                .values(unloaded_at=at)
            )

    async def add_track(self, track: CarrierTrack) -> CarrierTrack:
        new_id = (
            await self._exec(
                insert(t.carrier_track).returning(t.carrier_track.c.id),
                rows.carrier_track_to_values(track),
            )
        ).scalar_one()
        return replace(track, id=new_id)

    async def get_track(self, carrier_track_id: int) -> CarrierTrack | None:
        r = await self._one(select(t.carrier_track).where(t.carrier_track.c.id == carrier_track_id))
        return rows.carrier_track_from_row(r) if r else None

    async def set_track_flag(self, carrier_track_id: int, flag: TrackFlag) -> None:
        await self._exec(
            update(t.carrier_track)
            .where(t.carrier_track.c.id == carrier_track_id)
            .values(flag=flag.value)
        )


class SqlDeviceDataRepository(SqlRepository):
    async def get_by_event_id(self, event_id: str) -> DeviceDataRecord | None:
        r = await self._one(
            select(t.device_data_record).where(t.device_data_record.c.event_id == event_id)
        )
        return rows.device_record_from_row(r) if r else None

    async def add(self, record: DeviceDataRecord) -> DeviceDataRecord | None:
        new_id = await self._insert_ignore(
            t.device_data_record, rows.device_record_to_values(record), ["event_id"]
        )
        return replace(record, id=new_id) if new_id is not None else None

    async def set_values_created(self, record_id: int, count: int) -> None:
        await self._exec(
            update(t.device_data_record)
            .where(t.device_data_record.c.id == record_id)
            .values(values_created=count)
        )


class SqlProductionCountRepository(SqlRepository):
    async def get_by_event_id(self, event_id: str) -> ProductionCountRecord | None:
        r = await self._one(
            select(t.production_count).where(t.production_count.c.event_id == event_id)
        )
        return rows.count_from_row(r) if r else None

    async def add(self, record: ProductionCountRecord) -> ProductionCountRecord | None:
        new_id = await self._insert_ignore(
            t.production_count, rows.count_to_values(record), ["event_id"]
        )
        return replace(record, id=new_id) if new_id is not None else None
