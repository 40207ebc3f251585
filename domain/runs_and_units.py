"""Production: work orders, their runs, the units (boards) a run builds, and quality's
dispositions of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.enums import DispositionAction, RunStatus, UnitStatus, WorkOrderStatus
from domain.errors import DomainError, ErrorCode


@dataclass(frozen=True, slots=True)
class WorkOrder:
    wo_no: str
    product_code: str
    planned_qty: int
    status: WorkOrderStatus = WorkOrderStatus.RECEIVED
    routing_code: str | None = None
    due_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Run:
    run_no: str
    wo_no: str
    status: RunStatus
    plan_qty: int
    route_version_id: int
    line_code: str | None = None
    shift_code: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    sn: str
    wo_no: str
    run_no: str
    status: UnitStatus
    current_step_no: int | None
    created_at: datetime | None = None
    id: int | None = None
    #: FAILs at the current step since the unit last arrived there (retest, DOMAIN.md §6)
    step_fails: int = 0
    #: the status an ON_HOLD unit had before the hold (RELEASE goes back to it)
    held_from: UnitStatus | None = None
    #: the panel the board was registered on and its position there (domain/panels.py)
    panel_sn: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Disposition:
    """A quality decision about a unit (DOMAIN.md §6), audited and shown in the trace."""

    unit_id: int
    action: DispositionAction
    reason: str
    at: datetime
    from_status: UnitStatus
    to_status: UnitStatus
    from_step_no: int | None = None
    to_step_no: int | None = None
    operator_id: str | None = None
    id: int | None = None


def require_registered(sns: Iterable[str], units: Iterable[Unit]) -> None:
    """UNIT_NOT_FOUND naming the SNs (the first 10 in the message, 100 in details) that are no
    unit of `units`."""
    missing = sorted(set(sns) - {u.sn for u in units})
    if missing:
        raise DomainError(
            ErrorCode.UNIT_NOT_FOUND,
            f"unit(s) not registered: {', '.join(missing[:10])}",
            {"sns": missing[:100]},
        )
