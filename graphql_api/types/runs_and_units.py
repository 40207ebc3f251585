"""Work orders, runs and units."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import runs_and_units as dp
from domain.enums import DispositionAction, RunStatus, UnitStatus, WorkOrderStatus
from graphql_api.context import Info
from graphql_api.pagination import Connection, after_unit, connection, page_size, unit_cursor
from graphql_api.types.carriers import CarrierLoad, CarrierTrack
from graphql_api.types.holds import Hold
from graphql_api.types.master import Line, RouteVersion
from graphql_api.types.parking import ParkedEvent
from graphql_api.types.tracks import IngestEvent, Track


@strawberry.type
class WorkOrder:
    wo_no: str
    product_code: str
    planned_qty: int
    status: WorkOrderStatus
    routing_code: str | None
    due_date: datetime | None

    @strawberry.field
    async def runs(self, info: Info) -> list[Run]:
        found = await info.context.loaders.runs_of_work_order.load(self.wo_no)
        return [Run.of(r) for r in found]

    @classmethod
    def of(cls, wo: dp.WorkOrder) -> WorkOrder:
        return cls(
            wo_no=wo.wo_no,
            product_code=wo.product_code,
            planned_qty=wo.planned_qty,
            status=wo.status,
            routing_code=wo.routing_code,
            due_date=wo.due_date,
        )


async def load_work_order(info: Info, wo_no: str) -> WorkOrder:
    found = await info.context.loaders.work_order.load(wo_no)
    assert found is not None, f"work order {wo_no} vanished"  # foreign key guarantees it
    return WorkOrder.of(found)


@strawberry.type
class Run:
    run_no: str
    status: RunStatus
    plan_qty: int
    shift_code: str | None
    created_at: datetime | None
    wo_no: strawberry.Private[str]
    line_code: strawberry.Private[str | None]
    route_version_id: strawberry.Private[int]

    @strawberry.field
    async def work_order(self, info: Info) -> WorkOrder:
        return await load_work_order(info, self.wo_no)

    @strawberry.field
    async def line(self, info: Info) -> Line | None:
        if self.line_code is None:
            return None
        found = await info.context.loaders.line.load(self.line_code)
        return Line.of(found) if found else None

    @strawberry.field(description="The route version this run froze at createRun.")
    async def route_version(self, info: Info) -> RouteVersion:
        found = await info.context.loaders.route_version.load(self.route_version_id)
        assert found is not None, f"route version {self.route_version_id} vanished"
        return RouteVersion.of(found)

    @strawberry.field(description="The run's units in registration order.")
    async def units(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> UnitConnection:
        page, more = await info.context.store.units_of_run(
            self.run_no, page_size(info, first, default=100), after_unit(after)
        )
        found = connection(page, more, after, Unit.of, lambda u: unit_cursor(u.id))
        return UnitConnection(edges=found.edges, page_info=found.page_info, run_no=self.run_no)

    @classmethod
    def of(cls, run: dp.Run) -> Run:
        return cls(
            run_no=run.run_no,
            status=run.status,
            plan_qty=run.plan_qty,
            shift_code=run.shift_code,
            created_at=run.created_at,
            wo_no=run.wo_no,
            line_code=run.line_code,
            route_version_id=run.route_version_id,
        )


@strawberry.type
class Unit:
    sn: str
    status: UnitStatus
    current_step_no: int | None
    panel_sn: str | None = strawberry.field(description="The panel this board was registered on.")
    position: int | None = strawberry.field(description="The board's position on its panel.")
    wo_no: strawberry.Private[str]
    run_no: strawberry.Private[str]
    unit_id: strawberry.Private[int]

    @strawberry.field(description="The panel this board was registered on, if any.")
    async def panel(self, info: Info) -> Panel | None:
        return await load_panel(info, self.panel_sn) if self.panel_sn else None

    @strawberry.field(
        description="Ordered by outAt, the machine's time (late arrivals take their place; "
        "ties by the order they were recorded; a track still open comes last)."
    )
    async def tracks(self, info: Info) -> list[Track]:
        found = await info.context.loaders.tracks_of_unit.load(self.unit_id)
        return [Track.of(tr) for tr in found]

    @strawberry.field(description="Quality's decisions about this unit, oldest first.")
    async def dispositions(self, info: Info) -> list[Disposition]:
        found = await info.context.loaders.dispositions_of_unit.load(self.unit_id)
        return [Disposition.of(d) for d in found]

    @strawberry.field(
        description="Every hold on this unit, oldest first, open or closed (see each hold's "
        "units for when it let go of this one)."
    )
    async def holds(self, info: Info) -> list[Hold]:
        found = await info.context.loaders.holds_of_unit.load(self.unit_id)
        return [Hold.of(h) for h in found]

    @strawberry.field(
        description="Events waiting for this unit to reach their step, oldest occurredAt first."
    )
    async def parked_events(self, info: Info) -> list[ParkedEvent]:
        found = await info.context.loaders.parked_events_of_unit.load(self.unit_id)
        return [ParkedEvent.of(p) for p in found]

    @strawberry.field
    async def carrier_loads(self, info: Info) -> list[CarrierLoad]:
        found = await info.context.loaders.loads_of_unit.load(self.unit_id)
        return [CarrierLoad.of(ld) for ld in found]

    @strawberry.field(description="Tracks of the carriers this unit rode in (BATCH steps).")
    async def carrier_tracks(self, info: Info) -> list[CarrierTrack]:
        found = await info.context.loaders.carrier_tracks_of_unit.load(self.unit_id)
        return [CarrierTrack.of(ct) for ct in found]

    @strawberry.field(description="Every ingest event that touched this unit, oldest first.")
    async def ingest_events(self, info: Info) -> list[IngestEvent]:
        found = await info.context.loaders.events_of_unit.load(self.unit_id)
        return [IngestEvent.of(e) for e in found]

    @strawberry.field
    async def work_order(self, info: Info) -> WorkOrder:
        return await load_work_order(info, self.wo_no)

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        found = await info.context.loaders.run.load(self.run_no)
        return Run.of(found) if found else None

    @classmethod
    def of(cls, u: dp.Unit) -> Unit:
        return cls(
            sn=u.sn,
            status=u.status,
            current_step_no=u.current_step_no,
            panel_sn=u.panel_sn,
            position=u.position,
            wo_no=u.wo_no,
            run_no=u.run_no,
            unit_id=u.id or 0,
        )


@strawberry.type(description="A barcode over several boards at positions 1..positions.")
class Panel:
    panel_sn: str
    positions: int
    created_at: datetime
    run_no: strawberry.Private[str]

    @strawberry.field(description="The panel's boards in position order.")
    async def boards(self, info: Info) -> list[Unit]:
        found = await info.context.loaders.boards_of_panel.load(self.panel_sn)
        return [Unit.of(u) for u in found]

    @strawberry.field
    async def run(self, info: Info) -> Run | None:
        found = await info.context.loaders.run.load(self.run_no)
        return Run.of(found) if found else None


async def load_panel(info: Info, panel_sn: str) -> Panel | None:
    found = await info.context.loaders.panel.load(panel_sn)
    if found is None:
        return None
    return Panel(
        panel_sn=found.panel_sn,
        positions=found.positions,
        created_at=found.created_at,
        run_no=found.run_no,
    )


@strawberry.type
class Disposition:
    action: DispositionAction
    reason: str
    operator_id: str | None
    from_step_no: int | None
    to_step_no: int | None
    at: datetime
    from_status: UnitStatus
    to_status: UnitStatus

    @classmethod
    def of(cls, d: dp.Disposition) -> Disposition:
        return cls(
            action=d.action,
            reason=d.reason,
            operator_id=d.operator_id,
            from_step_no=d.from_step_no,
            to_step_no=d.to_step_no,
            at=d.at,
            from_status=d.from_status,
            to_status=d.to_status,
        )


@strawberry.type
class UnitConnection(Connection[Unit]):
    run_no: strawberry.Private[str]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        count: int = await info.context.loaders.unit_count_of_run.load(self.run_no)
        return count
