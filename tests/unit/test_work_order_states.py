"""The work order's state machine (domain/work_order_states.py): every command from every
status, allowed or refused with its code, and completion (DOMAIN.md §2, §6)."""

from __future__ import annotations

import pytest

from domain import work_order_states as wos
from domain.enums import RunStatus, WorkOrderStatus
from domain.errors import DomainError, ErrorCode
from domain.runs_and_units import WorkOrder
from domain.work_order_states import WorkOrderAction

RC, RL = WorkOrderStatus.RECEIVED, WorkOrderStatus.RELEASED
IP, CO = WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED
NOT_RECEIVED, NOT_RELEASED = ErrorCode.WORK_ORDER_NOT_RECEIVED, ErrorCode.WORK_ORDER_NOT_RELEASED

#: per command, per status: the status after it, or the refusal's code (written out)
EXPECTED: dict[WorkOrderAction, dict[WorkOrderStatus, WorkOrderStatus | ErrorCode]] = {
    WorkOrderAction.RELEASE: {RC: RL, RL: RL, IP: NOT_RECEIVED, CO: NOT_RECEIVED},
    WorkOrderAction.CREATE_RUN: {RC: NOT_RELEASED, RL: IP, IP: IP, CO: NOT_RELEASED},
    WorkOrderAction.CLOSE: {RC: NOT_RELEASED, RL: CO, IP: CO, CO: CO},
}

CASES = [(a, s, want) for a, by_status in EXPECTED.items() for s, want in by_status.items()]


def a_work_order(status: WorkOrderStatus, planned_qty: int = 5) -> WorkOrder:
    return WorkOrder("WO-1", "PCB", planned_qty, status)


def test_every_command_and_every_status_is_covered() -> None:
    assert set(EXPECTED) == set(WorkOrderAction) == set(wos.WORK_ORDER_MOVES)
    assert all(set(by_status) == set(WorkOrderStatus) for by_status in EXPECTED.values())


@pytest.mark.parametrize(("action", "status", "want"), CASES)
def test_work_order_transition(
    action: WorkOrderAction, status: WorkOrderStatus, want: WorkOrderStatus | ErrorCode
) -> None:
    wo = a_work_order(status)
    if isinstance(want, WorkOrderStatus):
        assert wos.refusal(wo, action) is None
        moved = wos.moved(wo, action)
        assert moved == a_work_order(want)
        assert (moved is wo) == (want is status)  # nothing to save when it stays
    else:
        with pytest.raises(DomainError) as caught:
            wos.moved(wo, action)
        assert caught.value.code is want
        assert caught.value.details == {"woNo": "WO-1", "status": status.value}


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (
            WorkOrderAction.RELEASE,
            IP,
            "work order 'WO-1' is IN_PROGRESS; only a RECEIVED one can be released",
        ),
        (WorkOrderAction.CREATE_RUN, CO, "work order 'WO-1' is COMPLETED; release it first"),
        (WorkOrderAction.CLOSE, RC, "work order 'WO-1' is RECEIVED; release it before closing it"),
    ],
)
def test_refusal_messages(action: WorkOrderAction, status: WorkOrderStatus, message: str) -> None:
    error = wos.refusal(a_work_order(status), action)
    assert error is not None and error.message == message


def test_close_waits_for_every_run() -> None:
    wo = a_work_order(IP)
    closed = {"R-1": RunStatus.COMPLETED, "R-2": RunStatus.SCRAPPED, "R-3": RunStatus.CLOSED_REWORK}
    wos.check_no_open_runs(wo, closed)
    with pytest.raises(DomainError) as caught:
        wos.check_no_open_runs(wo, {**closed, "R-5": RunStatus.PREP, "R-4": RunStatus.ON_HOLD})
    assert caught.value.code is ErrorCode.WORK_ORDER_RUN_OPEN
    assert caught.value.message == "work order 'WO-1' has 2 open run(s): R-4, R-5; close them first"
    assert caught.value.details == {"woNo": "WO-1", "openRuns": ["R-4", "R-5"], "count": 2}


def test_a_work_order_completes_by_quantity_once_no_run_is_open() -> None:
    wo = a_work_order(IP, planned_qty=5)
    assert wos.may_complete(wo, {"R-1": RunStatus.COMPLETED})
    assert wos.may_complete(wo, {})
    assert not wos.may_complete(wo, {"R-1": RunStatus.COMPLETED, "R-2": RunStatus.AUTHORIZED})
    assert not wos.may_complete(a_work_order(CO), {"R-1": RunStatus.COMPLETED})
    assert wos.completed_by_quantity(wo, 4) is None
    assert wos.completed_by_quantity(wo, 5) == a_work_order(CO)
    assert wos.completed_by_quantity(wo, 6) == a_work_order(CO)
