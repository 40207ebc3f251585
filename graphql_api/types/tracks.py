"""Tracks, data values and ingest events: the trace."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from domain import tracks as dt
from domain.enums import DataType, IngestEventType, Judge, TrackFlag, TrackResult, TrackSource
from domain.ingest import records as di
from graphql_api.context import Info
from graphql_api.scalars import JSON
from graphql_api.types.carriers import CarrierTrack
from graphql_api.types.master import Station, load_station

if TYPE_CHECKING:
    from graphql_api.types.runs_and_units import Unit


@strawberry.type
class DataValue:
    id: strawberry.ID
    spec_name: str
    data_type: DataType
    value_number: float | None
    value_text: str | None
    value_boolean: bool | None
    value_json: JSON | None
    value_unit: str | None = strawberry.field(
        description="Measurement unit, e.g. C, V, Ohm: the spec limits' unit when they have "
        "one (a number sent in another unit is converted into it: originalValue, "
        "originalUnit), else as reported."
    )
    judge: Judge | None
    alarmed: bool
    source: TrackSource
    collected_at: datetime
    original_value: float | None = strawberry.field(
        description="The number as sent, when it came in another unit than its spec's and "
        "valueNumber holds it converted into the spec's unit (judged there); else null."
    )
    original_unit: str | None = strawberry.field(
        description="The unit the value was sent in, when it was converted; else null."
    )
    low_limit: float | None = strawberry.field(
        description="The low limit the machine sent with the value (mapping lowLimitPath), as "
        "sent, in limitUnit; it judged the value when no spec gave limits. Else null."
    )
    high_limit: float | None = strawberry.field(
        description="The high limit the machine sent with the value (highLimitPath), as sent, "
        "in limitUnit; it judged the value when no spec gave limits. Else null."
    )
    expected: float | None = strawberry.field(
        description="The nominal value the machine sent (expectedPath), in limitUnit; stored, "
        "never judged. Else null."
    )
    limit_unit: str | None = strawberry.field(
        description="The unit of the sent limits: limitUnitPath's, else the unit the value "
        "was sent in. Null when no limits were sent."
    )


def served_values(found: list[dt.DataValue]) -> list[DataValue]:
    """The domain's values served as they are, not copied: every field of the GraphQL
    `DataValue` reads the domain attribute of its name (an int id serializes as the ID's
    string), and the type has no interface that would check the class. A copy per value cost
    ~2 µs, 2,040 times in a deep trace. tests/unit/test_served_values.py holds the names to
    it."""
    return cast(list[DataValue], found)


@strawberry.type
class Track:
    id: strawberry.ID
    step_no: int
    attempt: int = strawberry.field(
        description="1 for the first try at this step since the unit arrived there (or was "
        "disposed), 2 for the automatic retest after a FAIL, ..."
    )
    operation_code: str
    source: TrackSource
    in_at: datetime | None
    out_at: datetime | None
    result: TrackResult | None
    flag: TrackFlag | None = strawberry.field(
        description="LATE_KEY_FAIL when device data judged a KEY spec FAIL after the track "
        "passed (the step's onLateKeyFail: HOLD also held the unit, FLAG only marks the track); "
        "the result stands. Null: no flag."
    )
    operator_id: str | None
    track_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    station_code: strawberry.Private[str | None]
    ingest_event_id: strawberry.Private[int | None]
    carrier_track_id: strawberry.Private[int | None]

    @strawberry.field(
        description="When the event that recorded this track reached the service (null for a "
        "track recorded by trackIn/trackOut): beside outAt, it shows a late arrival."
    )
    async def received_at(self, info: Info) -> datetime | None:
        event = await load_event(info, self.ingest_event_id)
        return event.received_at if event else None

    @strawberry.field
    async def unit(
        self, info: Info
    ) -> Annotated[Unit, strawberry.lazy("graphql_api.types.runs_and_units")]:
        from graphql_api.types.runs_and_units import Unit

        found = await info.context.loaders.unit_by_id.load(self.unit_id)
        assert found is not None
        return Unit.of(found)

    @strawberry.field
    async def station(self, info: Info) -> Station | None:
        return await load_station(info, self.station_code)

    @strawberry.field
    async def data_values(self, info: Info) -> list[DataValue]:
        return served_values(await info.context.loaders.values_of_track.load(self.track_id))

    @strawberry.field
    async def ingest_event(self, info: Info) -> IngestEvent | None:
        return await load_event(info, self.ingest_event_id)

    @strawberry.field(
        description="The carrier's pass through the BATCH step this track was part of."
    )
    async def carrier_track(self, info: Info) -> CarrierTrack | None:
        if self.carrier_track_id is None:
            return None
        found = await info.context.loaders.carrier_track.load(self.carrier_track_id)
        return CarrierTrack.of(found) if found else None

    @classmethod
    def of(cls, tr: dt.Track) -> Track:
        return cls(
            id=strawberry.ID(str(tr.id)),
            step_no=tr.step_no,
            attempt=tr.attempt,
            operation_code=tr.operation_code,
            source=tr.source,
            in_at=tr.in_at,
            out_at=tr.out_at,
            result=tr.result,
            flag=tr.flag,
            operator_id=tr.operator_id,
            track_id=tr.id or 0,
            unit_id=tr.unit_id,
            station_code=tr.station_code,
            ingest_event_id=tr.ingest_event_id,
            carrier_track_id=tr.carrier_track_id,
        )


@strawberry.type
class IngestEvent:
    id: strawberry.ID
    source_system: str
    dedupe_key: str
    event_type: IngestEventType
    occurred_at: datetime
    received_at: datetime
    accepted_at: datetime | None = strawberry.field(
        description="When it was accepted, when later than receivedAt: a parked event (it "
        "came before its units reached its step) re-driven when they did. Null: accepted "
        "as it arrived."
    )
    run_no: str | None
    step_no: int | None
    station_code: str | None
    line_code: str | None
    sn: str | None
    sn_list: list[str] | None
    carrier_code: str | None
    test_result_id: str | None
    result: TrackResult | None
    event_id: strawberry.Private[int]
    #: the payload and normalized reading when the event came with them (else read on demand)
    documents: strawberry.Private[di.EventDocuments | None]

    @strawberry.field
    async def payload(self, info: Info) -> JSON:
        return cast(JSON, (await documents_of(info, self)).payload)

    @strawberry.field
    async def normalized(self, info: Info) -> JSON | None:
        return cast(JSON, (await documents_of(info, self)).normalized)

    @strawberry.field
    async def tracks(self, info: Info) -> list[Track]:
        return [
            Track.of(tr) for tr in await info.context.loaders.tracks_of_event.load(self.event_id)
        ]

    @strawberry.field
    async def data_values(self, info: Info) -> list[DataValue]:
        return served_values(await info.context.loaders.values_of_event.load(self.event_id))

    @strawberry.field
    async def carrier_track(self, info: Info) -> CarrierTrack | None:
        found = await info.context.loaders.carrier_track_of_event.load(self.event_id)
        return CarrierTrack.of(found) if found else None

    @strawberry.field
    async def data_value_count(self, info: Info) -> int:
        count: int = await info.context.loaders.value_count_of_event.load(self.event_id)
        return count

    @classmethod
    def of(cls, e: di.EventHead) -> IngestEvent:
        return cls(
            id=strawberry.ID(str(e.id)),
            source_system=e.source_system,
            dedupe_key=e.dedupe_key,
            event_type=e.event_type,
            occurred_at=e.occurred_at,
            received_at=e.received_at,
            accepted_at=e.accepted_at,
            run_no=e.run_no,
            step_no=e.step_no,
            station_code=e.station_code,
            line_code=e.line_code,
            sn=e.sn,
            sn_list=list(e.sn_list),
            carrier_code=e.carrier_code,
            test_result_id=e.test_result_id,
            result=e.result,
            event_id=e.id or 0,
            documents=(
                di.EventDocuments(e.payload, e.normalized)
                if isinstance(e, di.IngestEvent)
                else None
            ),
        )


async def documents_of(info: Info, event: IngestEvent) -> di.EventDocuments:
    """The event's payload and normalized reading: those it came with, else read (once per
    request for the events asked about, by the request's loader)."""
    if event.documents is None:
        event.documents = await info.context.loaders.event_documents.load(event.event_id)
        # an accepted event is never deleted: its head was just read
        assert event.documents is not None
    return event.documents


async def load_event(info: Info, event_id: int | None) -> IngestEvent | None:
    """The ingest event of that id through the request's loader; None for no id or none found."""
    if event_id is None:
        return None
    found = await info.context.loaders.event.load(event_id)
    return IngestEvent.of(found) if found else None
