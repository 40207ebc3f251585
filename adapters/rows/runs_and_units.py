"""Rows ↔ production: work orders, runs, units, dispositions, holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from domain.enums import (
    DispositionAction,
    RunStatus,
    UnitStatus,
    WorkOrderStatus,
)
from domain.holds import HeldUnit, Hold
from domain.panels import Panel
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder


def work_order_to_values(wo: WorkOrder) -> dict[str, Any]:
    return {
        "wo_no": wo.wo_no,
        "product_code": wo.product_code,
        "planned_qty": wo.planned_qty,
        "status": wo.status.value,
        "routing_code": wo.routing_code,
        "due_date": wo.due_date,
    }


def work_order_from_row(r: Row[Any]) -> WorkOrder:
    return WorkOrder(
        wo_no=r.wo_no,
        product_code=r.product_code,
        planned_qty=r.planned_qty,
        status=WorkOrderStatus(r.status),
        routing_code=r.routing_code,
        due_date=r.due_date,
    )


def run_to_values(run: Run) -> dict[str, Any]:
    return {
        "run_no": run.run_no,
        "wo_no": run.wo_no,
        "status": run.status.value,
        "plan_qty": run.plan_qty,
        "route_version_id": run.route_version_id,
        "line_code": run.line_code,
        "shift_code": run.shift_code,
        "created_at": run.created_at,
    }


def run_from_row(r: Row[Any]) -> Run:
    return Run(
        run_no=r.run_no,
        wo_no=r.wo_no,
        status=RunStatus(r.status),
        plan_qty=r.plan_qty,
        route_version_id=r.route_version_id,
        line_code=r.line_code,
        shift_code=r.shift_code,
        created_at=r.created_at,
    )


def unit_to_values(u: Unit) -> dict[str, Any]:
    return {
        "sn": u.sn,
        "wo_no": u.wo_no,
        "run_no": u.run_no,
        "status": u.status.value,
        "current_step_no": u.current_step_no,
        "created_at": u.created_at,
        "step_fails": u.step_fails,
        "held_from": u.held_from.value if u.held_from else None,
        "panel_sn": u.panel_sn,
        "position": u.position,
    }


# a page reads 500 units: a dict lookup is ten times cheaper than UnitStatus(value)
_STATUSES = {m.value: m for m in UnitStatus}


def unit_from_row(r: Row[Any]) -> Unit:
    return Unit(
        id=r.id,
        sn=r.sn,
        wo_no=r.wo_no,
        run_no=r.run_no,
        status=_STATUSES[r.status],
        current_step_no=r.current_step_no,
        created_at=r.created_at,
        step_fails=r.step_fails,
        held_from=_STATUSES[r.held_from] if r.held_from else None,
        panel_sn=r.panel_sn,
        position=r.position,
    )


def disposition_to_values(d: Disposition) -> dict[str, Any]:
    return {
        "unit_id": d.unit_id,
        "action": d.action.value,
        "reason": d.reason,
        "operator_id": d.operator_id,
        "from_status": d.from_status.value,
        "to_status": d.to_status.value,
        "from_step_no": d.from_step_no,
        "to_step_no": d.to_step_no,
        "at": d.at,
    }


def disposition_from_row(r: Row[Any]) -> Disposition:
    return Disposition(
        id=r.id,
        unit_id=r.unit_id,
        action=DispositionAction(r.action),
        reason=r.reason,
        operator_id=r.operator_id,
        from_status=UnitStatus(r.from_status),
        to_status=UnitStatus(r.to_status),
        from_step_no=r.from_step_no,
        to_step_no=r.to_step_no,
        at=r.at,
    )


def hold_from_row(r: Row[Any]) -> Hold:
    """A hold without its units (the caller adds those it read)."""
    return Hold(
        id=r.id, reason=r.reason, actor=r.actor, opened_at=r.opened_at, closed_at=r.closed_at
    )


def held_unit_from_row(r: Row[Any]) -> HeldUnit:
    return HeldUnit(unit_id=r.unit_id, sn=r.sn, released_at=r.released_at)


def panel_to_values(p: Panel) -> dict[str, Any]:
    return {
        "panel_sn": p.panel_sn,
        "positions": p.positions,
        "run_no": p.run_no,
        "created_at": p.created_at,
    }


def panel_from_row(r: Row[Any]) -> Panel:
    return Panel(
        panel_sn=r.panel_sn, positions=r.positions, run_no=r.run_no, created_at=r.created_at
    )
