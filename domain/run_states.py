"""How a run moves (DOMAIN.md §2, §6): the one table of what each command may do to a run's
status, and the rule for closing it. Use cases load the run, ask here, save what comes back."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from domain.enums import RunStatus, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.runs_and_units import Run
from domain.states import Move

#: Runs that take no more units (and no more executions).
CLOSED_RUN_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.CLOSED_REWORK, RunStatus.SCRAPPED})

#: Units that no longer keep a run open.
FINISHED_UNIT_STATUSES = frozenset({UnitStatus.DONE, UnitStatus.SCRAPPED, UnitStatus.X_OUT})


class RunAction(StrEnum):
    AUTHORIZE = "authorizeRun"
    REVOKE = "revokeRunAuthorization"
    #: → COMPLETED, once every unit is finished (`check_units_finished`)
    CLOSE = "closeRun"
    #: a guard: the run takes more units
    REGISTER_UNITS = "registerUnits"
    #: a manual execution (trackIn): the first one starts an AUTHORIZED run
    EXECUTE = "trackIn"


_OPEN = frozenset({RunStatus.PREP, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS})

RUN_MOVES: dict[RunAction, Move[RunStatus]] = {
    RunAction.AUTHORIZE: Move(
        frozenset({RunStatus.PREP}),
        RunStatus.AUTHORIZED,
        ErrorCode.RUN_NOT_READY,
        "run {key!r} is {status}; only a PREP run can be authorized",
    ),
    RunAction.REVOKE: Move(
        frozenset({RunStatus.AUTHORIZED}),
        RunStatus.PREP,
        ErrorCode.RUN_NOT_AUTHORIZED,
        "run {key!r} is {status}; only an AUTHORIZED run can be revoked",
    ),
    # whatever the run's status: a run with no units may be closed
    RunAction.CLOSE: Move(
        _OPEN,
        RunStatus.COMPLETED,
        ErrorCode.RUN_NOT_READY,
        "run {key!r} is {status}: it cannot be closed",
    ),
    RunAction.REGISTER_UNITS: Move(
        frozenset(RunStatus) - CLOSED_RUN_STATUSES,
        None,
        ErrorCode.RUN_NOT_READY,
        "run {key!r} is {status}: it takes no more units",
    ),
    RunAction.EXECUTE: Move(
        frozenset({RunStatus.AUTHORIZED}),
        RunStatus.IN_PROGRESS,
        ErrorCode.RUN_NOT_AUTHORIZED,
        "run {key} is {status}: it takes no execution",
    ),
}


def _details(run: Run) -> dict[str, Any]:
    return {"runNo": run.run_no, "runStatus": run.status.value}


def refusal(run: Run, action: RunAction) -> DomainError | None:
    """Why the run refuses the command (None: it does not)."""
    return RUN_MOVES[action].refusal(run.run_no, run.status, lambda: _details(run))


def moved(run: Run, action: RunAction) -> Run:
    """The run after the command (itself when the status stays), or the run's refusal."""
    return RUN_MOVES[action].apply(run, run.run_no, run.status, lambda: _details(run))


def check_units_finished(run: Run, unit_counts: Mapping[UnitStatus, int]) -> None:
    """A run closes only when every unit is DONE, SCRAPPED or X_OUT (DOMAIN.md §6)."""
    finished = FINISHED_UNIT_STATUSES
    open_units = {s.value: n for s, n in unit_counts.items() if s not in finished and n}
    if open_units:
        total = sum(open_units.values())
        raise DomainError(
            ErrorCode.RUN_NOT_READY,
            f"run {run.run_no!r} still has {total} unit(s) that are not DONE, SCRAPPED or X_OUT",
            {
                "runNo": run.run_no,
                "runStatus": run.status.value,
                "openUnits": total,
                "byStatus": open_units,
            },
        )
