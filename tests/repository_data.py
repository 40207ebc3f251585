"""What the repository tests share: instants with an offset, the master data later rows refer
to, a route version, a row count, and the implementations the contract tests run against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    RouteVersionStatus,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.master import Line, Operation, Routing, RoutingStep, SpecAlarm, SpecLimits, StationGroup
from domain.ports import UnitOfWork
from domain.routes import CompileError, RouteIdentity, RouteStep, RouteVersion, StepDataSpec
from domain.tracks import DataValue
from tests.fakes import FakeUnitOfWorkFactory

#: A time sent with a +02:00 offset: it must come back as the same instant, in UTC.
CEST = timezone(timedelta(hours=2))
AT = datetime(2026, 6, 15, 10, 30, 15, 250000, tzinfo=CEST)
LATER = AT + timedelta(minutes=5)

#: a new unit of work of one implementation (fake or SQL)
NewUow = Callable[[], UnitOfWork]


def assert_utc(value: datetime | None, expected: datetime) -> None:
    assert value is not None
    assert value == expected
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    assert value.replace(tzinfo=None) == expected.astimezone(UTC).replace(tzinfo=None)


async def count(engine: AsyncEngine, table: t.Table, *where: Any) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(stmt)).scalar_one())


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


@dataclass(frozen=True)
class Implementation:
    """One implementation of the repositories under the contract tests: the fake or a SQL one."""

    name: str
    new_uow: NewUow
    #: the SQL implementations' database (None: the fake)
    engine: AsyncEngine | None = None

    async def assert_rows(self, expected: int, table: t.Table, *where: Any) -> None:
        """SQL only: the rows behind what the ports return (an upsert writes in place)."""
        if self.engine is not None:
            assert await count(self.engine, table, *where) == expected

    async def values_of_event(self, event_id: int) -> list[DataValue]:
        """The data values stored with an ingest event, in the order written, read back as
        every SQL read of values reads them (a fake keeps the objects it was given)."""
        if self.engine is None:
            store = cast(FakeUnitOfWorkFactory, self.new_uow).store
            return [v for v in store.values if v.ingest_event_id == event_id]
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(t.data_value)
                .where(t.data_value.c.ingest_event_id == event_id)
                .order_by(t.data_value.c.id)
            )
            return [rows.value_from_row(r) for r in found.all()]
