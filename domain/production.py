"""Production: work orders, runs, units, and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import AuditOutcome, DispositionAction, RunStatus, UnitStatus, WorkOrderStatus


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


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Who did what, when, with which outcome: every mutation, accepted or refused."""

    at: datetime
    actor: str
    request_id: str
    action: str
    entity_type: str
    entity_key: str | None
    outcome: AuditOutcome
    error_code: str | None = None
    details: dict[str, Any] | None = field(default=None, hash=False)
    #: the X-Request-ID the client sent (request_id is always the server's own)
    client_request_id: str | None = None
    id: int | None = None


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
