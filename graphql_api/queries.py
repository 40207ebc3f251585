"""Query resolvers: each a loader lookup (batched, cached per request)."""

from __future__ import annotations

import strawberry

from domain.ports import ParkedFilter
from graphql_api.context import Info
from graphql_api.pagination import Connection, after_time, connection, page_size, time_cursor
from graphql_api.types.master import Line, Operation, RouteVersion, Routing, Station, load_station
from graphql_api.types.parking import ParkedEvent, ParkedEventFilter
from graphql_api.types.runs_and_units import Panel, Run, Unit, WorkOrder, load_panel


@strawberry.type
class Query:
    @strawberry.field
    async def line(self, info: Info, code: str) -> Line | None:
        found = await info.context.loaders.line.load(code)
        return Line.of(found) if found else None

    @strawberry.field
    async def station(self, info: Info, code: str) -> Station | None:
        return await load_station(info, code)

    @strawberry.field
    async def operation(self, info: Info, code: str) -> Operation | None:
        found = await info.context.loaders.operation.load(code)
        return Operation.of(found) if found else None

    @strawberry.field
    async def routing(self, info: Info, code: str) -> Routing | None:
        found = await info.context.loaders.routing.load(code)
        return Routing.of(found) if found else None

    @strawberry.field
    async def route_version(
        self, info: Info, routing_code: str, version_no: int
    ) -> RouteVersion | None:
        found = await info.context.loaders.route_version_by_no.load((routing_code, version_no))
        return RouteVersion.of(found) if found else None

    @strawberry.field
    async def work_order(self, info: Info, wo_no: str) -> WorkOrder | None:
        found = await info.context.loaders.work_order.load(wo_no)
        return WorkOrder.of(found) if found else None

    @strawberry.field
    async def run(self, info: Info, run_no: str) -> Run | None:
        found = await info.context.loaders.run.load(run_no)
        return Run.of(found) if found else None

    @strawberry.field
    async def panel(self, info: Info, panel_sn: str) -> Panel | None:
        return await load_panel(info, panel_sn)

    @strawberry.field
    async def unit(self, info: Info, sn: str) -> Unit | None:
        found = await info.context.loaders.unit.load(sn)
        return Unit.of(found) if found else None

    @strawberry.field(
        description="Events waiting for their units to reach their step, newest "
        "first by order received."
    )
    async def parked_events(
        self,
        info: Info,
        filter: ParkedEventFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[ParkedEvent]:
        f = filter or ParkedEventFilter()
        page, more = await info.context.store.parked_events_page(
            ParkedFilter(source_system=f.source_system, sn=f.sn),
            page_size(info, first),
            after_time(after),
        )
        return connection(
            page, more, after, ParkedEvent.of, lambda p: time_cursor(p.received_at, p.id)
        )
