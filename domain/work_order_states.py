"""How a work order moves (DOMAIN.md §2, §6): the one table of what each command may do to its
status, and the rules for completing it. Use cases load it, ask here, save what comes back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum
from typing import Any

from domain.enums import RunStatus, WorkOrderStatus
from domain.errors import DomainError, ErrorCode
from domain.run_states import CLOSED_RUN_STATUSES
from domain.runs_and_units import WorkOrder
from domain.states import Move


class WorkOrderAction(StrEnum):
    RELEASE = "releaseWorkOrder"
    #: createRun: the first run starts the work order
    CREATE_RUN = "createRun"
    #: → COMPLETED whatever its quantity, once no run is open (`check_no_open_runs`)
    CLOSE = "closeWorkOrder"


_STARTED = frozenset({WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS})

WORK_ORDER_MOVES: dict[WorkOrderAction, Move[WorkOrderStatus]] = {
    WorkOrderAction.RELEASE: Move(
        frozenset({WorkOrderStatus.RECEIVED}),
        WorkOrderStatus.RELEASED,
        ErrorCode.WORK_ORDER_NOT_RECEIVED,
        "work order {key!r} is {status}; only a RECEIVED one can be released",
    ),
    WorkOrderAction.CREATE_RUN: Move(
        frozenset({WorkOrderStatus.RELEASED}),
        WorkOrderStatus.IN_PROGRESS,
        ErrorCode.WORK_ORDER_NOT_RELEASED,
        "work order {key!r} is {status}; release it first",
    ),
    WorkOrderAction.CLOSE: Move(
        _STARTED,
        WorkOrderStatus.COMPLETED,
        ErrorCode.WORK_ORDER_NOT_RELEASED,
        "work order {key!r} is {status}; release it before closing it",
    ),
}


def _details(wo: WorkOrder) -> dict[str, Any]:
    return {"woNo": wo.wo_no, "status": wo.status.value}


def refusal(wo: WorkOrder, action: WorkOrderAction) -> DomainError | None:
    """Why the work order refuses the command (None: it does not)."""
    return WORK_ORDER_MOVES[action].refusal(wo.wo_no, wo.status, lambda: _details(wo))


def moved(wo: WorkOrder, action: WorkOrderAction) -> WorkOrder:
    """The work order after the command (itself when the status stays), or its refusal."""
    return WORK_ORDER_MOVES[action].apply(wo, wo.wo_no, wo.status, lambda: _details(wo))


def open_runs(run_statuses: Mapping[str, RunStatus]) -> list[str]:
    """The run numbers (sorted) of the runs that are not closed."""
    return sorted(no for no, s in run_statuses.items() if s not in CLOSED_RUN_STATUSES)


def check_no_open_runs(wo: WorkOrder, run_statuses: Mapping[str, RunStatus]) -> None:
    """closeWorkOrder waits for every run of the work order to be closed."""
    still_open = open_runs(run_statuses)
    if still_open:
        raise DomainError(
            ErrorCode.WORK_ORDER_RUN_OPEN,
            f"work order {wo.wo_no!r} has {len(still_open)} open run(s): "
            f"{', '.join(still_open[:10])}; close them first",
            {"woNo": wo.wo_no, "openRuns": still_open[:100], "count": len(still_open)},
        )


def may_complete(wo: WorkOrder, run_statuses: Mapping[str, RunStatus]) -> bool:
    """Whether a closing run may complete the work order: not COMPLETED yet and none of its
    runs open (then `completed_by_quantity` decides)."""
    return wo.status is not WorkOrderStatus.COMPLETED and not open_runs(run_statuses)


def completed_by_quantity(wo: WorkOrder, done_qty: int) -> WorkOrder | None:
    """COMPLETED when its DONE units reach the planned quantity (once `may_complete`); never
    merely because its last open run closed (DOMAIN.md §6). None: it stays as it is."""
    if done_qty < wo.planned_qty:
        return None
    return replace(wo, status=WorkOrderStatus.COMPLETED)
