"""Carriers, their loads and their tracks through BATCH steps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import carriers as dcar
from domain.enums import TrackFlag, TrackResult, TrackSource
from graphql_api.context import Info
from graphql_api.types.common import MesError
from graphql_api.types.master import Station, load_station

if TYPE_CHECKING:
    from graphql_api.types.runs_and_units import Unit
    from graphql_api.types.tracks import DataValue, IngestEvent, Track

TRACKS = "graphql_api.types.tracks"
RUNS_AND_UNITS = "graphql_api.types.runs_and_units"


@strawberry.type
class Carrier:
    carrier_no: str
    carrier_id: strawberry.Private[int]

    @strawberry.field
    async def loads(self, info: Info) -> list[CarrierLoad]:
        found = await info.context.loaders.loads_of_carrier.load(self.carrier_id)
        return [CarrierLoad.of(ld) for ld in found]

    @strawberry.field
    async def tracks(self, info: Info) -> list[CarrierTrack]:
        found = await info.context.loaders.carrier_tracks_of_carrier.load(self.carrier_id)
        return [CarrierTrack.of(ct) for ct in found]

    @classmethod
    def of(cls, c: dcar.Carrier) -> Carrier:
        return cls(carrier_no=c.carrier_no, carrier_id=c.id or 0)


async def load_carrier(info: Info, carrier_id: int) -> Carrier:
    found = await info.context.loaders.carrier_by_id.load(carrier_id)
    assert found is not None
    return Carrier.of(found)


@strawberry.type
class CarrierLoad:
    loaded_at: datetime
    unloaded_at: datetime | None
    carrier_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]

    @strawberry.field
    async def carrier(self, info: Info) -> Carrier:
        return await load_carrier(info, self.carrier_id)

    @strawberry.field
    async def unit(self, info: Info) -> Annotated[Unit, strawberry.lazy(RUNS_AND_UNITS)]:
        from graphql_api.types.runs_and_units import Unit

        found = await info.context.loaders.unit_by_id.load(self.unit_id)
        assert found is not None
        return Unit.of(found)

    @classmethod
    def of(cls, ld: dcar.CarrierLoad) -> CarrierLoad:
        return cls(
            loaded_at=ld.loaded_at,
            unloaded_at=ld.unloaded_at,
            carrier_id=ld.carrier_id,
            unit_id=ld.unit_id,
        )


@strawberry.type
class CarrierTrack:
    id: strawberry.ID
    step_no: int
    source: TrackSource
    in_at: datetime | None
    out_at: datetime | None
    result: TrackResult | None
    flag: TrackFlag | None = strawberry.field(
        description="LATE_KEY_FAIL when device data judged a KEY spec FAIL after the carrier "
        "track passed (the step's onLateKeyFail: HOLD also held its boards, FLAG only marks "
        "the carrier track); the result stands. Null: no flag."
    )
    carrier_track_id: strawberry.Private[int]
    carrier_id: strawberry.Private[int]
    station_code: strawberry.Private[str | None]
    ingest_event_id: strawberry.Private[int | None]

    @strawberry.field
    async def carrier(self, info: Info) -> Carrier:
        return await load_carrier(info, self.carrier_id)

    @strawberry.field
    async def station(self, info: Info) -> Station | None:
        return await load_station(info, self.station_code)

    @strawberry.field
    async def data_values(self, info: Info) -> list[Annotated[DataValue, strawberry.lazy(TRACKS)]]:
        from graphql_api.types.tracks import served_values

        found = await info.context.loaders.values_of_carrier_track.load(self.carrier_track_id)
        return served_values(found)

    @strawberry.field
    async def unit_tracks(self, info: Info) -> list[Annotated[Track, strawberry.lazy(TRACKS)]]:
        from graphql_api.types.tracks import Track

        found = await info.context.loaders.tracks_of_carrier_track.load(self.carrier_track_id)
        return [Track.of(tr) for tr in found]

    @strawberry.field
    async def ingest_event(
        self, info: Info
    ) -> Annotated[IngestEvent, strawberry.lazy(TRACKS)] | None:
        from graphql_api.types.tracks import load_event

        return await load_event(info, self.ingest_event_id)

    @classmethod
    def of(cls, ct: dcar.CarrierTrack) -> CarrierTrack:
        return cls(
            id=strawberry.ID(str(ct.id)),
            step_no=ct.step_no,
            source=ct.source,
            in_at=ct.in_at,
            out_at=ct.out_at,
            result=ct.result,
            flag=ct.flag,
            carrier_track_id=ct.id or 0,
            carrier_id=ct.carrier_id,
            station_code=ct.station_code,
            ingest_event_id=ct.ingest_event_id,
        )


@strawberry.input
class CarrierLoadInput:
    carrier_no: str
    sns: list[str] | None = strawberry.field(
        default=None, description="Omitted on unload: every open load of the carrier."
    )
    at: datetime | None = None
    station_code: str | None = strawberry.field(
        default=None,
        description="Where it happens; required for a token bound to stations.",
    )


@strawberry.type
class CarrierPayload:
    carrier: Carrier | None = None
    error: MesError | None = None
