"""Mutation resolvers: parse the input into a command, run it on the bus, map the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

from domain import master as dm
from domain.enums import SpecItemType, TriggerType
from domain.errors import DomainError
from domain.panels import PanelSpec
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command
from graphql_api import inputs as i
from graphql_api import payloads as p
from graphql_api.context import Info
from graphql_api.scalars import aware
from graphql_api.types.common import MesError
from graphql_api.types.master import (
    DataCollectionSpec,
    Line,
    Operation,
    RouteVersion,
    Routing,
    Station,
    StationGroup,
)
from graphql_api.types.runs_and_units import Run, Unit, WorkOrder

P = TypeVar("P")
T = TypeVar("T")


async def run_command(
    info: Info, cmd: Command, ok: Callable[[Any], P], failed: Callable[..., P]
) -> P:
    """Run a command; a business refusal becomes the payload's error."""
    try:
        return ok(await info.context.handle(cmd))
    except DomainError as err:
        return failed(error=MesError.of(err))


def _tuple(values: list[T] | None) -> tuple[T, ...] | None:
    return None if values is None else tuple(values)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def upsert_line(self, info: Info, input: i.LineInput) -> p.LinePayload:
        cmd = md.UpsertLine(dm.Line(code=input.code, name=input.name))
        return await run_command(info, cmd, lambda r: p.LinePayload(line=Line.of(r)), p.LinePayload)

    @strawberry.mutation
    async def upsert_station_group(
        self, info: Info, input: i.StationGroupInput
    ) -> p.StationGroupPayload:
        cmd = md.UpsertStationGroup(dm.StationGroup(code=input.code, name=input.name))
        return await run_command(
            info,
            cmd,
            lambda r: p.StationGroupPayload(station_group=StationGroup.of(r)),
            p.StationGroupPayload,
        )

    @strawberry.mutation
    async def upsert_station(self, info: Info, input: i.StationInput) -> p.StationPayload:
        cmd = md.UpsertStation(
            dm.Station(
                code=input.code,
                name=input.name,
                station_type=input.station_type,
                line_code=input.line_code,
                group_code=input.group_code,
                cfx_handle=input.cfx_handle,
            )
        )
        return await run_command(
            info, cmd, lambda r: p.StationPayload(station=Station.of(r)), p.StationPayload
        )

    @strawberry.mutation
    async def upsert_operation(self, info: Info, input: i.OperationInput) -> p.OperationPayload:
        cmd = md.UpsertOperation(
            dm.Operation(
                code=input.code, name=input.name, default_station_type=input.default_station_type
            )
        )
        return await run_command(
            info, cmd, lambda r: p.OperationPayload(operation=Operation.of(r)), p.OperationPayload
        )

    @strawberry.mutation
    async def upsert_data_collection_spec(
        self, info: Info, input: i.DataCollectionSpecInput
    ) -> p.DataCollectionSpecPayload:
        limits = input.limits
        alarm = input.alarm
        cmd = md.UpsertDataSpec(
            dm.DataCollectionSpec(
                operation_code=input.operation_code,
                name=input.name,
                data_type=input.data_type,
                method=input.method,
                item_type=input.item_type or SpecItemType.OBSERVATION,
                trigger_type=input.trigger_type or TriggerType.EVENT,
                is_required=bool(input.is_required),
                is_active=input.is_active is not False,
                limits=dm.SpecLimits(limits.min, limits.max, limits.unit) if limits else None,
                alarm=dm.SpecAlarm(alarm.action, alarm.min, alarm.max) if alarm else None,
            )
        )
        return await run_command(
            info,
            cmd,
            lambda r: p.DataCollectionSpecPayload(data_spec=DataCollectionSpec.of(r)),
            p.DataCollectionSpecPayload,
        )

    @strawberry.mutation
    async def upsert_routing(self, info: Info, input: i.RoutingInput) -> p.RoutingPayload:
        cmd = md.UpsertRouting(
            dm.Routing(
                code=input.code,
                name=input.name,
                source_system="MES" if input.source_system is None else input.source_system,
                source_key=input.source_key,
                product_code=input.product_code,
                steps=tuple(dm.RoutingStep(s.step_no, s.operation_code) for s in input.steps),
            )
        )
        return await run_command(
            info, cmd, lambda r: p.RoutingPayload(routing=Routing.of(r)), p.RoutingPayload
        )

    @strawberry.mutation
    async def set_execution_config(
        self, info: Info, input: i.ExecutionConfigInput
    ) -> p.ExecutionConfigPayload:
        cmd = md.SetExecutionConfig(
            dm.ExecutionConfig(
                routing_code=input.routing_code,
                step_no=input.step_no,
                operation_code=input.operation_code,
                station_type=input.station_type,
                station_group_code=input.station_group_code,
                allowed_station_codes=_tuple(input.allowed_station_codes),
                requires_fai=input.requires_fai,
                requires_authorization=input.requires_authorization,
                data_spec_names=_tuple(input.data_spec_names),
                ingest_mapping=cast(dict[str, Any] | None, input.ingest_mapping),
                max_attempts=input.max_attempts,
                max_reworks=input.max_reworks,
                info_mappings=None
                if input.info_mappings is None
                else tuple(cast(dict[str, Any], m) for m in input.info_mappings),
                recipe=input.recipe,
                on_late_key_fail=input.on_late_key_fail,
            )
        )
        return await run_command(
            info,
            cmd,
            lambda r: p.ExecutionConfigPayload(routing=Routing.of(r)),
            p.ExecutionConfigPayload,
        )

    @strawberry.mutation
    async def compile_routing(self, info: Info, code: str) -> p.CompilePayload:
        return await run_command(
            info,
            md.CompileRouting(code),
            lambda r: p.CompilePayload(version=RouteVersion.of(r)),
            p.CompilePayload,
        )

    @strawberry.mutation
    async def receive_work_order(self, info: Info, input: i.WorkOrderInput) -> p.WorkOrderPayload:
        cmd = prod.ReceiveWorkOrder(
            wo_no=input.wo_no,
            product_code=input.product_code,
            planned_qty=input.planned_qty,
            routing_code=input.routing_code,
            due_date=aware(input.due_date, "dueDate"),
        )
        return await run_command(
            info, cmd, lambda r: p.WorkOrderPayload(work_order=WorkOrder.of(r)), p.WorkOrderPayload
        )

    @strawberry.mutation
    async def release_work_order(self, info: Info, wo_no: str) -> p.WorkOrderPayload:
        return await run_command(
            info,
            prod.ReleaseWorkOrder(wo_no),
            lambda r: p.WorkOrderPayload(work_order=WorkOrder.of(r)),
            p.WorkOrderPayload,
        )

    @strawberry.mutation
    async def create_run(self, info: Info, input: i.CreateRunInput) -> p.RunPayload:
        cmd = prod.CreateRun(
            wo_no=input.wo_no,
            line_code=input.line_code,
            plan_qty=input.plan_qty,
            run_no=input.run_no,
            shift_code=input.shift_code,
        )
        return await run_command(info, cmd, lambda r: p.RunPayload(run=Run.of(r)), p.RunPayload)

    @strawberry.mutation
    async def authorize_run(self, info: Info, run_no: str) -> p.RunPayload:
        return await run_command(
            info, prod.AuthorizeRun(run_no), lambda r: p.RunPayload(run=Run.of(r)), p.RunPayload
        )

    @strawberry.mutation
    async def revoke_run_authorization(self, info: Info, run_no: str) -> p.RunPayload:
        return await run_command(
            info,
            prod.RevokeRunAuthorization(run_no),
            lambda r: p.RunPayload(run=Run.of(r)),
            p.RunPayload,
        )

    @strawberry.mutation(
        description="Complete a run whose units are all DONE, SCRAPPED or X_OUT, whatever its "
        "status (else RUN_NOT_READY with the open units counted); a run with no units may be "
        "closed. Its work order completes only when its DONE units reach the planned quantity and "
        "none of its runs is open."
    )
    async def close_run(self, info: Info, run_no: str) -> p.RunPayload:
        return await run_command(
            info, prod.CloseRun(run_no), lambda r: p.RunPayload(run=Run.of(r)), p.RunPayload
        )

    @strawberry.mutation(
        description="Complete a work order whatever its quantity (RELEASED or IN_PROGRESS; "
        "COMPLETED again is a no-op). Refused with WORK_ORDER_RUN_OPEN while one of its runs "
        "is open. A work order also completes by itself when its DONE units reach the planned "
        "quantity and none of its runs is open."
    )
    async def close_work_order(self, info: Info, wo_no: str) -> p.WorkOrderPayload:
        return await run_command(
            info,
            prod.CloseWorkOrder(wo_no),
            lambda r: p.WorkOrderPayload(work_order=WorkOrder.of(r)),
            p.WorkOrderPayload,
        )

    @strawberry.mutation
    async def register_units(
        self, info: Info, input: i.RegisterUnitsInput
    ) -> p.RegisterUnitsPayload:
        cmd = prod.RegisterUnits(
            run_no=input.run_no,
            sns=_tuple(input.sns),
            count=input.count,
            sn_prefix=input.sn_prefix,
            panels=None if input.panels is None else tuple(_panel(x) for x in input.panels),
        )
        return await run_command(
            info,
            cmd,
            lambda r: p.RegisterUnitsPayload(units=[Unit.of(u) for u in r]),
            p.RegisterUnitsPayload,
        )


def _panel(x: i.PanelInput) -> PanelSpec:
    return PanelSpec(
        panel_sn=x.panel_sn,
        positions=x.positions,
        sns=_tuple(x.sns),
        sn_pattern=x.sn_pattern,
        x_out_positions=_tuple(x.x_out_positions),
    )
