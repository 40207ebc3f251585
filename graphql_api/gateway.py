"""Carriers (load/unload), the device gateway and placement production counts over GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from domain import device_records as ddev
from domain.enums import ReportGroupBy
from domain.usecases import carriers as ca
from domain.usecases import counts as co
from domain.usecases import device as dv
from graphql_api.context import Info
from graphql_api.mutations import run_command
from graphql_api.pagination import Connection, after_time, connection, page_size, time_cursor
from graphql_api.scalars import aware, row_id
from graphql_api.types.carriers import Carrier, CarrierLoadInput, CarrierPayload, CarrierTrack
from graphql_api.types.counts import (
    ProductionCountRecord,
    ProductionCountsInput,
    ProductionCountsPayload,
    ProductionReportRow,
)
from graphql_api.types.devices import (
    DeviceDataInput,
    DeviceDataPayload,
    DeviceDataRecord,
)
from graphql_api.types.tracks import Track
from graphql_api.types.values import value_input


def _id(value: strawberry.ID | None, name: str) -> int | None:
    return None if value is None else row_id(value, name)


def _device_payload(r: dv.DeviceDataResult) -> DeviceDataPayload:
    return DeviceDataPayload(
        duplicate=r.duplicate,
        data_values_created=r.values_created,
        track=Track.of(r.track) if r.track else None,
        carrier_track=CarrierTrack.of(r.carrier_track) if r.carrier_track else None,
    )


@strawberry.type
class GatewayMutation:
    @strawberry.mutation
    async def load_carrier(self, info: Info, input: CarrierLoadInput) -> CarrierPayload:
        cmd = ca.LoadCarrier(
            input.carrier_no, tuple(input.sns or ()), aware(input.at, "at"), input.station_code
        )
        return await run_command(
            info, cmd, lambda c: CarrierPayload(carrier=Carrier.of(c)), CarrierPayload
        )

    @strawberry.mutation
    async def unload_carrier(self, info: Info, input: CarrierLoadInput) -> CarrierPayload:
        sns = None if input.sns is None else tuple(input.sns)
        cmd = ca.UnloadCarrier(input.carrier_no, sns, aware(input.at, "at"), input.station_code)
        return await run_command(
            info, cmd, lambda c: CarrierPayload(carrier=Carrier.of(c)), CarrierPayload
        )

    @strawberry.mutation
    async def record_device_data(self, info: Info, input: DeviceDataInput) -> DeviceDataPayload:
        cmd = dv.RecordDeviceData(
            event_id=input.event_id,
            event_time=aware(input.event_time, "eventTime") or input.event_time,
            source=input.source,
            data=tuple(value_input(i) for i in input.data),
            run_no=input.run_no,
            unit_sn=input.unit_sn,
            station_code=input.station_code,
            step_no=input.step_no,
            track_id=_id(input.track_id, "trackId"),
            carrier_track_id=_id(input.carrier_track_id, "carrierTrackId"),
            equipment_id=input.equipment_id,
            operator_id=input.operator_id,
            meta=input.meta,
        )
        return await run_command(info, cmd, _device_payload, DeviceDataPayload)

    @strawberry.mutation
    async def record_production_counts(
        self, info: Info, input: ProductionCountsInput
    ) -> ProductionCountsPayload:
        cmd = co.RecordProductionCounts(
            event_id=input.event_id,
            line_code=input.line_code,
            quantity=input.quantity,
            started_at=aware(input.started_at, "startedAt") or input.started_at,
            ended_at=aware(input.ended_at, "endedAt") or input.ended_at,
            modules=tuple(ddev.ModuleCount(m.module, m.picked, m.placed) for m in input.modules),
            station_code=input.station_code,
            equipment_id=input.equipment_id,
            run_no=input.run_no,
            product_code=input.product_code,
        )
        return await run_command(
            info,
            cmd,
            lambda r: ProductionCountsPayload(
                duplicate=r.duplicate, record=ProductionCountRecord.of(r.record)
            ),
            ProductionCountsPayload,
        )


@strawberry.type
class GatewayQuery:
    @strawberry.field
    async def carrier(self, info: Info, carrier_no: str) -> Carrier | None:
        found = await info.context.loaders.carrier.load(carrier_no)
        return Carrier.of(found) if found else None

    @strawberry.field(description="Device gateway records, newest first by order received.")
    async def device_data_records(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[DeviceDataRecord]:
        page, more = await info.context.store.device_records_page(
            page_size(info, first), after_time(after)
        )
        return connection(
            page, more, after, DeviceDataRecord.of, lambda d: time_cursor(d.received_at, d.id)
        )

    @strawberry.field(
        description="Placement counts per day (in the plant's time zone, MES_PLANT_TZ) — or per "
        "shift of the line's calendar and its business day — × line × product × run, over "
        "records with startedAt in [from, to)."
    )
    async def production_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        line_code: str | None = None,
        group_by: Annotated[
            ReportGroupBy,
            strawberry.argument(
                description="DAY (default), or SHIFT: a job belongs to the shift, and that "
                "shift's business day, in which it started."
            ),
        ] = ReportGroupBy.DAY,
    ) -> list[ProductionReportRow]:
        start = aware(from_, "from")
        end = aware(to, "to")
        assert start is not None and end is not None
        records = await info.context.store.production_counts(line_code, start, end)
        calendars = (
            await info.context.store.shift_calendars(sorted({r.line_code for r in records}))
            if group_by is ReportGroupBy.SHIFT
            else {}
        )
        rows = co.production_report(records, ZoneInfo(info.context.plant_tz), group_by, calendars)
        return [
            ProductionReportRow(
                day=r.day,
                shift_code=r.shift_code,
                line_code=r.line_code,
                product_code=r.product_code,
                run_no=r.run_no,
                quantity=r.quantity,
                picked=r.picked,
                placed=r.placed,
                pick_loss=r.pick_loss,
                placement_rate=r.placement_rate,
                first_started_at=r.first_started_at,
                last_ended_at=r.last_ended_at,
            )
            for r in rows
        ]
