"""The device gateway's input, payload and record."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import device_records as ddev
from domain.enums import DeviceDataSource
from graphql_api.context import Info
from graphql_api.scalars import JSON
from graphql_api.types.carriers import CarrierTrack
from graphql_api.types.common import MesError
from graphql_api.types.tracks import DataValue, Track, served_values
from graphql_api.types.values import DeviceDataItemInput


@strawberry.input(
    description="Device gateway record: attaches data values to an existing track or carrier "
    "track. Resolve by trackId, or carrierTrackId, or runNo + unitSn + stationCode + stepNo."
)
class DeviceDataInput:
    event_id: str
    event_time: datetime
    source: DeviceDataSource
    data: list[DeviceDataItemInput]
    run_no: str | None = None
    unit_sn: str | None = None
    station_code: str | None = None
    step_no: int | None = None
    track_id: strawberry.ID | None = None
    carrier_track_id: strawberry.ID | None = None
    equipment_id: str | None = None
    operator_id: str | None = None
    meta: JSON | None = None


@strawberry.type
class DeviceDataPayload:
    duplicate: bool = False
    data_values_created: int = 0
    track: Track | None = None
    carrier_track: CarrierTrack | None = None
    error: MesError | None = None


@strawberry.type(description="A device gateway's record: which values it attached, and where.")
class DeviceDataRecord:
    id: strawberry.ID
    event_id: str
    source: DeviceDataSource
    event_time: datetime
    received_at: datetime
    equipment_id: str | None
    operator_id: str | None
    data_values_created: int
    record_id: strawberry.Private[int]
    track_id: strawberry.Private[int | None]
    carrier_track_id: strawberry.Private[int | None]

    @strawberry.field
    async def track(self, info: Info) -> Track | None:
        found = await info.context.loaders.track.load(self.track_id) if self.track_id else None
        return Track.of(found) if found else None

    @strawberry.field
    async def carrier_track(self, info: Info) -> CarrierTrack | None:
        if self.carrier_track_id is None:
            return None
        found = await info.context.loaders.carrier_track.load(self.carrier_track_id)
        return CarrierTrack.of(found) if found else None

    @strawberry.field
    async def data_values(self, info: Info) -> list[DataValue]:
        found = await info.context.loaders.values_of_device_record.load(self.record_id)
        return served_values(found)

    @classmethod
    def of(cls, d: ddev.DeviceDataRecord) -> DeviceDataRecord:
        return cls(
            id=strawberry.ID(str(d.id)),
            event_id=d.event_id,
            source=DeviceDataSource(d.source),
            event_time=d.event_time,
            received_at=d.received_at,
            equipment_id=d.equipment_id,
            operator_id=d.operator_id,
            data_values_created=d.values_created,
            record_id=d.id or 0,
            track_id=d.track_id,
            carrier_track_id=d.carrier_track_id,
        )
