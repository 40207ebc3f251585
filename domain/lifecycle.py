"""How a unit moves (DOMAIN.md §2, §6): after an execution, on a hold, by a disposition."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from domain.enums import DispositionAction, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.routes import RouteStep, RouteVersion
from domain.runs_and_units import Run, Unit
from domain.tracks import Track


def attempt_of(unit: Unit) -> int:
    """1 for the first try at the current step since the unit arrived there (or was
    disposed), 2 for the automatic retest after a FAIL, ..."""
    return unit.step_fails + 1


def event_result(results: Iterable[TrackResult]) -> TrackResult:
    """An event's result (DOMAIN.md §6): FAIL if any unit failed, else ERROR if any errored,
    else PASS."""
    seen = set(results)
    if TrackResult.FAIL in seen:
        return TrackResult.FAIL
    return TrackResult.ERROR if TrackResult.ERROR in seen else TrackResult.PASS


def advance(
    unit: Unit, result: TrackResult, version: RouteVersion, step: RouteStep, hold: bool = False
) -> Unit:
    """PASS → QUEUED at the next step (DONE after the last). FAIL → QUEUED at the same step
    while the FAILs here stay below maxAttempts (retest); the FAIL that reaches it makes the
    unit OUT_FAILED. ERROR (the tester failed, not the board) → QUEUED at the same step, the
    FAIL count untouched: the next track repeats the attempt it interrupted. An alarm with
    action HOLD then holds the unit (after the advance)."""
    if result is TrackResult.ERROR:
        moved = replace(unit, status=UnitStatus.QUEUED, current_step_no=step.step_no)
    elif result is TrackResult.PASS:
        next_step = version.next_step_no(step.step_no)
        moved = replace(
            unit,
            status=UnitStatus.QUEUED if next_step is not None else UnitStatus.DONE,
            current_step_no=next_step if next_step is not None else step.step_no,
            step_fails=0,
        )
    else:
        fails = unit.step_fails + 1
        moved = replace(
            unit,
            status=UnitStatus.QUEUED if fails < step.max_attempts else UnitStatus.OUT_FAILED,
            current_step_no=step.step_no,
            step_fails=fails,
        )
    return held(moved) if hold else moved


def tracked_in(unit: Unit) -> Unit:
    """IN_STATION: a manual track is open (its state checked first, as for any execution)."""
    return replace(unit, status=UnitStatus.IN_STATION)


def check_in_station(unit: Unit, open_track: Track | None, station_code: str) -> Track:
    """trackOut closes the unit's open track at that station; UNIT_NOT_IN_STATION when there
    is none there. The open track."""
    if (
        unit.status is not UnitStatus.IN_STATION
        or open_track is None
        or open_track.station_code != station_code
    ):
        raise DomainError(
            ErrorCode.UNIT_NOT_IN_STATION,
            f"unit {unit.sn} has no open track at station {station_code}",
            {
                "sn": unit.sn,
                "stationCode": station_code,
                "status": unit.status.value,
                "openAtStationCode": open_track.station_code if open_track else None,
            },
        )
    return open_track


def registered(sn: str, run: Run, first_step_no: int | None, at: datetime) -> Unit:
    """A new unit of the run: QUEUED at the first step of the run's route version."""
    return Unit(
        sn=sn,
        wo_no=run.wo_no,
        run_no=run.run_no,
        status=UnitStatus.QUEUED,
        current_step_no=first_step_no,
        created_at=at,
    )


def can_be_held(unit: Unit) -> bool:
    """Any unit but a SCRAPPED or X_OUT one can be held (an ON_HOLD one by one more hold)."""
    return unit.status not in (UnitStatus.SCRAPPED, UnitStatus.X_OUT)


def held(unit: Unit) -> Unit:
    """ON_HOLD, remembering the status to go back to on RELEASE (a held unit stays held)."""
    if unit.status is UnitStatus.ON_HOLD or not can_be_held(unit):
        return unit
    return replace(unit, status=UnitStatus.ON_HOLD, held_from=unit.status)


#: what each disposition may act on (DOMAIN.md §6); anything else is DISPOSITION_INVALID
ALLOWED = {
    UnitStatus.QUEUED: {DispositionAction.HOLD, DispositionAction.SCRAP},
    UnitStatus.IN_STATION: {DispositionAction.HOLD, DispositionAction.SCRAP},
    UnitStatus.OUT_FAILED: {
        DispositionAction.RETEST,
        DispositionAction.REWORK,
        DispositionAction.HOLD,
        DispositionAction.SCRAP,
    },
    # containment of finished goods
    UnitStatus.DONE: {DispositionAction.HOLD},
    UnitStatus.ON_HOLD: {DispositionAction.RELEASE, DispositionAction.SCRAP},
}


def released(unit: Unit) -> Unit:
    """The unit after its last open hold closed: back to the status it was held from (its step
    never changed while held; an IN_STATION unit still has its open track)."""
    if unit.status is not UnitStatus.ON_HOLD:
        return unit
    return replace(unit, status=unit.held_from or UnitStatus.QUEUED, held_from=None)


#: the dispositions that send a unit round again, counted against the route's maxReworks
REWORKS = frozenset({DispositionAction.RETEST, DispositionAction.REWORK})


def dispose(
    unit: Unit,
    action: DispositionAction,
    version: RouteVersion,
    to_step_no: int | None,
    reworks_done: int = 0,
) -> Unit:
    """The unit after a disposition, or DISPOSITION_INVALID. `reworks_done`: the RETEST and
    REWORK dispositions the unit had so far (at most the version's maxReworks in all)."""
    if action not in ALLOWED.get(unit.status, set()):
        allowed = sorted(a.value for a in ALLOWED.get(unit.status, set()))
        raise DomainError(
            ErrorCode.DISPOSITION_INVALID,
            f"{action.value} is not a disposition for a unit that is {unit.status.value}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else ""),
            {
                "sn": unit.sn,
                "status": unit.status.value,
                "action": action.value,
                "allowed": allowed,
            },
        )
    if action in REWORKS and reworks_done >= version.max_reworks:
        raise DomainError(
            ErrorCode.DISPOSITION_INVALID,
            f"unit {unit.sn} was reworked or retested {reworks_done} times: the route allows "
            f"{version.max_reworks} (maxReworks)",
            {
                "sn": unit.sn,
                "status": unit.status.value,
                "action": action.value,
                "reworks": reworks_done,
                "maxReworks": version.max_reworks,
            },
        )
    if action is DispositionAction.RETEST:
        return replace(unit, status=UnitStatus.QUEUED, step_fails=0)
    if action is DispositionAction.REWORK:
        steps = [s.step_no for s in version.steps]
        current = unit.current_step_no if unit.current_step_no is not None else steps[-1]
        if to_step_no is None or to_step_no not in steps or to_step_no > current:
            raise DomainError(
                ErrorCode.DISPOSITION_INVALID,
                "REWORK needs toStepNo: a step of the run's route version, not after the "
                f"current step {current}",
                {"sn": unit.sn, "toStepNo": to_step_no, "currentStepNo": current, "steps": steps},
            )
        return replace(unit, status=UnitStatus.QUEUED, current_step_no=to_step_no, step_fails=0)
    if action is DispositionAction.HOLD:
        return held(unit)
    if action is DispositionAction.RELEASE:
        return released(unit)
    return replace(unit, status=UnitStatus.SCRAPPED, held_from=None)


def leaves_station(before: Unit, after: Unit) -> bool:
    """Whether a disposition takes the unit out of a station it was in (SCRAP of a unit in
    station, or held there): its open track is then closed (DOMAIN.md §6)."""
    return after.status is UnitStatus.SCRAPPED and UnitStatus.IN_STATION in (
        before.status,
        before.held_from,
    )
