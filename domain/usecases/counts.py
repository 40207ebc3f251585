"""Placement production counts and the production report (DOMAIN.md §7)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from domain.errors import DomainError, ErrorCode
from domain.execution import ModuleCount, ProductionCountRecord
from domain.ports import UnitOfWork
from domain.usecases.bus import Command, Deps, check_station_binding
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
                product_code=cmd.product_code,
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


@dataclass(frozen=True, slots=True)
class ReportRow:
    day: str
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
    records: Iterable[ProductionCountRecord], plant_tz: tzinfo
) -> list[ReportRow]:
    """Group by day (of startedAt in the plant's time zone) × line × product × run."""
    groups: dict[tuple[str, str, str | None, str | None], list[ProductionCountRecord]] = (
        defaultdict(list)
    )
    for r in records:
        day = r.started_at.astimezone(plant_tz).date().isoformat()
        groups[(day, r.line_code, r.product_code, r.run_no)].append(r)
    rows = [
        ReportRow(
            day=day,
            line_code=line,
            product_code=product,
            run_no=run,
            quantity=sum(r.quantity for r in rs),
            picked=sum(r.picked for r in rs),
            placed=sum(r.placed for r in rs),
            first_started_at=min(r.started_at for r in rs),
            last_ended_at=max(r.ended_at for r in rs),
        )
        for (day, line, product, run), rs in groups.items()
    ]
    return sorted(rows, key=lambda r: (r.day, r.line_code, r.product_code or "", r.run_no or ""))
