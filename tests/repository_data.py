"""Rows the repository tests write and read back: an instant with an offset, master data,
a route version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from adapters.uow import SqlUnitOfWork
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    RouteVersionStatus,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.master import (
    Line,
    Operation,
    Routing,
    RoutingStep,
    SpecAlarm,
    SpecLimits,
    StationGroup,
)
from domain.routes import CompileError, RouteIdentity, RouteStep, RouteVersion, StepDataSpec

#: A time sent with a +02:00 offset: it must come back as the same instant, in UTC.
CEST = timezone(timedelta(hours=2))


AT = datetime(2026, 6, 15, 10, 30, 15, 250000, tzinfo=CEST)


NewUow = Callable[[], SqlUnitOfWork]


async def master_data(uow: NewUow, tag: str) -> None:
    """A line, a group and two operations (what later rows refer to)."""
    async with uow() as u:
        await u.lines.upsert(Line(f"{tag}-L", "Line"))
        await u.station_groups.upsert(StationGroup(f"{tag}-G", "Group"))
        await u.operations.upsert(Operation(f"{tag}-OP1", "Print", StationType.MANUAL))
        await u.operations.upsert(Operation(f"{tag}-OP2", "AOI", StationType.AUTO))
        await u.routings.upsert(
            Routing(f"{tag}-R", "Route", steps=(RoutingStep(10, f"{tag}-OP1"),))
        )
        await u.commit()


def a_version(code: str, version_no: int, status: RouteVersionStatus) -> RouteVersion:
    steps = (
        RouteStep(
            step_no=10,
            operation_code="OP-PRINT",
            operation_name="Print",
            station_type=StationType.MANUAL,
            station_group_code="PRN-G",
            requires_fai=True,
            data_specs=(
                StepDataSpec(
                    "Pressure",
                    DataType.NUMBER,
                    CollectionMethod.MANUAL,
                    SpecItemType.KEY,
                    TriggerType.EVENT,
                    True,
                    limits=SpecLimits(4.0, 8.0, "kg"),
                    alarm=SpecAlarm(AlarmAction.HOLD, 3.0, None),
                ),
                StepDataSpec(
                    "Width",
                    DataType.NUMBER,
                    CollectionMethod.MANUAL,
                    SpecItemType.OBSERVATION,
                    TriggerType.EACH_UNIT,
                    False,
                    limits=SpecLimits(unit="mm"),
                ),
            ),
        ),
        RouteStep(
            step_no=20,
            operation_code="OP-AOI",
            operation_name="AOI",
            station_type=StationType.AUTO,
            allowed_station_codes=("AOI-1", "AOI-2"),
            requires_authorization=True,
            data_specs=(
                StepDataSpec(
                    "Note",
                    DataType.JSON,
                    CollectionMethod.AUTO,
                    SpecItemType.OBSERVATION,
                    TriggerType.EVENT,
                    False,
                ),
            ),
            ingest_mapping={
                "eventType": "AUTO",
                "units": {"itemsPath": "payload.boards[*]", "snPath": "sn"},
                "result": {"passValues": ["GOOD"], "failValues": ["NG"]},
                "dataSpecMap": {"note": "Note"},
            },
            max_attempts=3,
        ),
    )
    errors = (
        (CompileError(None, "ROUTING_EMPTY", "no"), CompileError(20, "STATION_NOT_FOUND", "x"))
        if status is RouteVersionStatus.INVALID
        else ()
    )
    return RouteVersion(
        routing_code=code,
        version_no=version_no,
        status=status,
        compiled_at=AT,
        route=RouteIdentity(code, "Route", "ERP", "SAP-1", "PCB-9"),
        steps=steps,
        errors=errors,
    )
