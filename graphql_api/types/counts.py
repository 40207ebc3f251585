"""Placement production counts: input, record, payload and the report's rows."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import device_records as ddev
from graphql_api.types.common import MesError


@strawberry.input
class PlacementModuleCountInput:
    module: str
    picked: int
    placed: int


@strawberry.input(
    description="Production counts of a placement machine for one job (run) over a time window."
)
class ProductionCountsInput:
    event_id: str
    line_code: str
    quantity: int
    started_at: datetime
    ended_at: datetime
    modules: list[PlacementModuleCountInput]
    station_code: str | None = None
    equipment_id: str | None = None
    run_no: str | None = None
    product_code: str | None = None


@strawberry.type
class PlacementModuleCount:
    module: str
    picked: int
    placed: int


@strawberry.type
class ProductionCountRecord:
    id: strawberry.ID
    event_id: str
    line_code: str
    station_code: str | None
    equipment_id: str | None
    run_no: str | None
    product_code: str | None
    quantity: int
    started_at: datetime
    ended_at: datetime
    modules: list[PlacementModuleCount]
    picked: int
    placed: int
    pick_loss: int = strawberry.field(description="picked - placed")
    placement_rate: float | None = strawberry.field(
        description="placed / picked, null when picked is 0"
    )

    @classmethod
    def of(cls, r: ddev.ProductionCountRecord) -> ProductionCountRecord:
        return cls(
            id=strawberry.ID(str(r.id)),
            event_id=r.event_id,
            line_code=r.line_code,
            station_code=r.station_code,
            equipment_id=r.equipment_id,
            run_no=r.run_no,
            product_code=r.product_code,
            quantity=r.quantity,
            started_at=r.started_at,
            ended_at=r.ended_at,
            modules=[
                PlacementModuleCount(module=m.module, picked=m.picked, placed=m.placed)
                for m in r.modules
            ],
            picked=r.picked,
            placed=r.placed,
            pick_loss=r.pick_loss,
            placement_rate=r.placement_rate,
        )


@strawberry.type
class ProductionCountsPayload:
    duplicate: bool = False
    record: ProductionCountRecord | None = None
    error: MesError | None = None


@strawberry.type
class ProductionReportRow:
    day: str
    shift_code: str | None = strawberry.field(
        description="groupBy SHIFT: the shift the jobs started in (day is that shift's "
        "business day, the day it began); null when grouped by DAY or outside every shift."
    )
    line_code: str
    product_code: str | None
    run_no: str | None
    quantity: int
    picked: int
    placed: int
    pick_loss: int
    placement_rate: float | None
    first_started_at: datetime
    last_ended_at: datetime
