"""The run's state machine (domain/run_states.py): every command from every status, allowed or
refused with its code (DOMAIN.md §2, §6)."""

from __future__ import annotations

import pytest

from domain import run_states as rs
from domain.enums import RunStatus, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.run_states import RunAction
from domain.runs_and_units import Run

P, A, IP, H = RunStatus.PREP, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS, RunStatus.ON_HOLD
C, R, S = RunStatus.COMPLETED, RunStatus.CLOSED_REWORK, RunStatus.SCRAPPED
NOT_READY, NOT_AUTHORIZED = ErrorCode.RUN_NOT_READY, ErrorCode.RUN_NOT_AUTHORIZED

#: per command, per status: the status after it, or the refusal's code (written out, not
#: derived from the table under test)
EXPECTED: dict[RunAction, dict[RunStatus, RunStatus | ErrorCode]] = {
    RunAction.AUTHORIZE: {
        P: A,
        A: A,
        IP: NOT_READY,
        H: NOT_READY,
        C: NOT_READY,
        R: NOT_READY,
        S: NOT_READY,
    },
    RunAction.REVOKE: {
        P: P,
        A: P,
        IP: NOT_AUTHORIZED,
        H: NOT_AUTHORIZED,
        C: NOT_AUTHORIZED,
        R: NOT_AUTHORIZED,
        S: NOT_AUTHORIZED,
    },
    RunAction.CLOSE: {P: C, A: C, IP: C, H: NOT_READY, C: C, R: NOT_READY, S: NOT_READY},
    RunAction.REGISTER_UNITS: {P: P, A: A, IP: IP, H: H, C: NOT_READY, R: NOT_READY, S: NOT_READY},
    RunAction.EXECUTE: {
        P: NOT_AUTHORIZED,
        A: IP,
        IP: IP,
        H: NOT_AUTHORIZED,
        C: NOT_AUTHORIZED,
        R: NOT_AUTHORIZED,
        S: NOT_AUTHORIZED,
    },
}

CASES = [(a, s, want) for a, by_status in EXPECTED.items() for s, want in by_status.items()]


def a_run(status: RunStatus) -> Run:
    return Run("R-1", "WO-1", status, plan_qty=5, route_version_id=1)


def test_every_command_and_every_status_is_covered() -> None:
    assert set(EXPECTED) == set(RunAction) == set(rs.RUN_MOVES)
    assert all(set(by_status) == set(RunStatus) for by_status in EXPECTED.values())


@pytest.mark.parametrize(("action", "status", "want"), CASES)
def test_run_transition(action: RunAction, status: RunStatus, want: RunStatus | ErrorCode) -> None:
    run = a_run(status)
    if isinstance(want, RunStatus):
        assert rs.refusal(run, action) is None
        moved = rs.moved(run, action)
        assert moved.status is want
        assert moved == a_run(want)
        assert (moved is run) == (want is status)  # nothing to save when it stays
    else:
        with pytest.raises(DomainError) as caught:
            rs.moved(run, action)
        assert caught.value.code is want
        assert caught.value.details == {"runNo": "R-1", "runStatus": status.value}


@pytest.mark.parametrize(
    ("action", "status", "message"),
    [
        (RunAction.AUTHORIZE, IP, "run 'R-1' is IN_PROGRESS; only a PREP run can be authorized"),
        (RunAction.REVOKE, C, "run 'R-1' is COMPLETED; only an AUTHORIZED run can be revoked"),
        (RunAction.CLOSE, S, "run 'R-1' is SCRAPPED: it cannot be closed"),
        (RunAction.REGISTER_UNITS, C, "run 'R-1' is COMPLETED: it takes no more units"),
        (RunAction.EXECUTE, P, "run R-1 is PREP: it takes no execution"),
    ],
)
def test_refusal_messages(action: RunAction, status: RunStatus, message: str) -> None:
    error = rs.refusal(a_run(status), action)
    assert error is not None and error.message == message


def test_a_run_closes_only_when_every_unit_is_done_or_scrapped() -> None:
    run = a_run(IP)
    rs.check_units_finished(run, {UnitStatus.DONE: 3, UnitStatus.SCRAPPED: 1, UnitStatus.QUEUED: 0})
    rs.check_units_finished(run, {})
    with pytest.raises(DomainError) as caught:
        rs.check_units_finished(
            run, {UnitStatus.DONE: 3, UnitStatus.ON_HOLD: 1, UnitStatus.OUT_FAILED: 2}
        )
    assert caught.value.code is NOT_READY
    assert (
        caught.value.message == "run 'R-1' still has 3 unit(s) that are not DONE, SCRAPPED or X_OUT"
    )
    assert caught.value.details == {
        "runNo": "R-1",
        "runStatus": "IN_PROGRESS",
        "openUnits": 3,
        "byStatus": {"ON_HOLD": 1, "OUT_FAILED": 2},
    }
