"""Placement production counts and the production report (DOMAIN.md §7)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from domain.actors import check_station_binding
from domain.device_records import ModuleCount, ProductionCountRecord
from domain.enums import ReportGroupBy
from domain.errors import DomainError, ErrorCode, not_found
from domain.ports import UnitOfWork
from domain.shifts import Shift, shift_of
from domain.usecases.bus import Command, Deps
from domain.validation import check_code, check_optional_code

MAX_MODULES = 200
MAX_COUNT = 10**9


@dataclass(frozen=True, slots=True)
class CountsResult:
    duplicate: bool
    record: ProductionCountRecord


@dataclass(frozen=True, slots=True)
class RecordProductionCounts(Command):
    event_id: str
    line_code: str
    quantity: int
    started_at: datetime
    ended_at: datetime
    modules: tuple[ModuleCount, ...]
    station_code: str | None = None
    equipment_id: str | None = None
    run_no: str | None = None
    product_code: str | None = None
    action: ClassVar[str] = "recordProductionCounts"
    entity_type: ClassVar[str] = "ProductionCountRecord"
    source_bound: ClassVar[bool] = True

    def sender(self) -> str | None:
        """The sender: the equipment, else the station, else nothing."""
        return self.equipment_id or self.station_code

    def entity_key(self) -> str:
        return self.event_id

    def input_hash(self) -> str:
        doc = {
            "lineCode": self.line_code,
            "stationCode": self.station_code,
            "equipmentId": self.equipment_id,
            "runNo": self.run_no,
            "productCode": self.product_code,
            "quantity": self.quantity,
            "startedAt": self.started_at.isoformat(),
            "endedAt": self.ended_at.isoformat(),
            "modules": [[m.module, m.picked, m.placed] for m in self.modules],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _fail(message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, message, dict(details))


def _check(cmd: RecordProductionCounts) -> None:
    check_code(cmd.event_id, "eventId")
    check_code(cmd.line_code, "lineCode")
    for value, name in (
        (cmd.station_code, "stationCode"),
        (cmd.equipment_id, "equipmentId"),
        (cmd.run_no, "runNo"),
        (cmd.product_code, "productCode"),
    ):
        check_optional_code(value, name)
    if cmd.started_at.tzinfo is None or cmd.ended_at.tzinfo is None:
        raise _fail("startedAt and endedAt need a UTC offset", field="startedAt")
    if cmd.ended_at < cmd.started_at:
        raise _fail("endedAt is before startedAt", field="endedAt")
    if not 0 <= cmd.quantity <= MAX_COUNT:
        raise _fail(f"quantity must be 0 to {MAX_COUNT}", field="quantity")
    if not cmd.modules or len(cmd.modules) > MAX_MODULES:
        raise _fail(f"modules takes 1 to {MAX_MODULES} items", field="modules")
    seen: set[str] = set()
    for m in cmd.modules:
        check_code(m.module, "modules.module")
        if m.module in seen:
            raise _fail(f"module {m.module} is listed twice", field="modules", module=m.module)
        seen.add(m.module)
        if not (0 <= m.placed <= MAX_COUNT and 0 <= m.picked <= MAX_COUNT):
            raise _fail(f"module {m.module}: counts must be 0 to {MAX_COUNT}", field="modules")
        if m.placed > m.picked:
            raise _fail(
                f"module {m.module}: placed {m.placed} is more than picked {m.picked}",
                field="modules",
                module=m.module,
                picked=m.picked,
                placed=m.placed,
            )


async def record_production_counts(
    cmd: RecordProductionCounts, uow: UnitOfWork, deps: Deps
) -> CountsResult:
    """Store one job's counts; the same input again is a duplicate, another input under the
    same eventId is IDEMPOTENCY_CONFLICT."""
    _check(cmd)
    # a bound token names its station (stationCode is required for it)
    await check_station_binding(deps.actor, uow, cmd.station_code)
    input_hash = cmd.input_hash()
    existing = await uow.production_counts.get_by_event_id(cmd.event_id)
    if existing is None:
        if not await uow.lines.get(cmd.line_code):
            raise DomainError(
                ErrorCode.LINE_NOT_FOUND,
                f"line {cmd.line_code!r} not found",
                {"key": cmd.line_code},
            )
        product_code = await _product_of_run(cmd, uow)
        record = await uow.production_counts.add(
            ProductionCountRecord(
                event_id=cmd.event_id,
                input_hash=input_hash,
                line_code=cmd.line_code,
                quantity=cmd.quantity,
                started_at=cmd.started_at,
                ended_at=cmd.ended_at,
                modules=cmd.modules,
                received_at=deps.clock.now(),
                station_code=cmd.station_code,
                equipment_id=cmd.equipment_id,
                run_no=cmd.run_no,
                product_code=product_code,
            )
        )
        if record is not None:
            return CountsResult(False, record)
        existing = await uow.production_counts.get_by_event_id(cmd.event_id)
        assert existing is not None
    if existing.input_hash != input_hash:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            f"eventId {cmd.event_id!r} was recorded with other counts",
            {"eventId": cmd.event_id, "existingRecordId": str(existing.id)},
        )
    return CountsResult(True, existing)


async def _product_of_run(cmd: RecordProductionCounts, uow: UnitOfWork) -> str | None:
    """The run must exist (RUN_NOT_FOUND); the product is the run's (its work order's): sent
    as another one it is VALIDATION_FAILED, omitted it is filled in. No run: as sent."""
    if cmd.run_no is None:
        return cmd.product_code
    run = await uow.runs.get(cmd.run_no)
    if run is None:
        raise not_found(ErrorCode.RUN_NOT_FOUND, "run", cmd.run_no)
    wo = await uow.work_orders.get(run.wo_no)
    product = wo.product_code if wo else cmd.product_code
    if cmd.product_code is not None and cmd.product_code != product:
        raise _fail(
            f"run {run.run_no} makes {product}, not {cmd.product_code}",
            field="productCode",
            runNo=run.run_no,
            expected=product,
            got=cmd.product_code,
        )
    return product


@dataclass(frozen=True, slots=True)
class ReportRow:
    day: str
    #: grouped by SHIFT: the shift the jobs started in (None: outside every shift)
    shift_code: str | None
    line_code: str
    product_code: str | None
    run_no: str | None
    quantity: int
    picked: int
    placed: int
    first_started_at: datetime
    last_ended_at: datetime

    @property
    def pick_loss(self) -> int:
        return self.picked - self.placed

    @property
    def placement_rate(self) -> float | None:
        return self.placed / self.picked if self.picked else None


def production_report(
    records: Iterable[ProductionCountRecord],
    plant_tz: tzinfo,
    group_by: ReportGroupBy = ReportGroupBy.DAY,
    calendars: Mapping[str, tuple[Shift, ...]] | None = None,
) -> list[ReportRow]:
    """Group by day (of startedAt in the plant's time zone) — or by shift and that shift's
    business day (the line's calendar; a job belongs to the shift it started in) — × line ×
    product × run."""
    groups: dict[tuple[str, str | None, str, str | None, str | None], list[ProductionCountRecord]]
    groups = defaultdict(list)
    for r in records:
        if group_by is ReportGroupBy.SHIFT:
            shifts = (calendars or {}).get(r.line_code, ())
            shift, business_day = shift_of(r.started_at, shifts, plant_tz)
        else:
            shift, business_day = None, r.started_at.astimezone(plant_tz).date()
        groups[(business_day.isoformat(), shift, r.line_code, r.product_code, r.run_no)].append(r)
    rows = [
        ReportRow(
            day=day,
            shift_code=shift,
            line_code=line,
            product_code=product,
            run_no=run,
            quantity=sum(r.quantity for r in rs),
            picked=sum(r.picked for r in rs),
            placed=sum(r.placed for r in rs),
            first_started_at=min(r.started_at for r in rs),
            last_ended_at=max(r.ended_at for r in rs),
        )
        for (day, shift, line, product, run), rs in groups.items()
    ]
    # shifts in the order of their start time (the calendar's order), jobs outside any last
    calendars = calendars or {}
    rank = {(line, s.code): i for line, shifts in calendars.items() for i, s in enumerate(shifts)}
    return sorted(
        rows,
        key=lambda r: (
            r.day,
            r.line_code,
            rank.get((r.line_code, r.shift_code or ""), len(rank)),
            r.product_code or "",
            r.run_no or "",
        ),
    )
