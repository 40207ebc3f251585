"""The unit's state machine (domain/lifecycle.py): every disposition from every status, allowed
or refused DISPOSITION_INVALID, and the moves of registration, trackIn/trackOut and holds
(DOMAIN.md §2, §6). Moves after an execution are tested in test_retests/test_tester_errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain import lifecycle as lc
from domain import run_states as rs
from domain.enums import (
    DispositionAction,
    RouteVersionStatus,
    RunStatus,
    StationType,
    TrackSource,
    UnitStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.checks import check_unit_state
from domain.routes import RouteIdentity, RouteStep, RouteVersion
from domain.runs_and_units import Run, Unit
from domain.tracks import Track

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
Q, IN, OF = UnitStatus.QUEUED, UnitStatus.IN_STATION, UnitStatus.OUT_FAILED
DONE, H, X = UnitStatus.DONE, UnitStatus.ON_HOLD, UnitStatus.SCRAPPED
XO = UnitStatus.X_OUT
RETEST, REWORK, HOLD, RELEASE, SCRAP = (
    DispositionAction.RETEST,
    DispositionAction.REWORK,
    DispositionAction.HOLD,
    DispositionAction.RELEASE,
    DispositionAction.SCRAP,
)
#: X_OUT is recorded by a registration or an event, never disposed by hand (issue 19 item 3)
MARK = DispositionAction.X_OUT
INVALID = ErrorCode.DISPOSITION_INVALID

#: per status, per disposition: the status after it, or the refusal (written out; an ON_HOLD
#: unit here was held from OUT_FAILED, so RELEASE returns it there)
NONE: dict[DispositionAction, UnitStatus | ErrorCode] = dict.fromkeys(DispositionAction, INVALID)
EXPECTED: dict[UnitStatus, dict[DispositionAction, UnitStatus | ErrorCode]] = {
    Q: {RETEST: INVALID, REWORK: INVALID, HOLD: H, RELEASE: INVALID, SCRAP: X, MARK: INVALID},
    IN: {RETEST: INVALID, REWORK: INVALID, HOLD: H, RELEASE: INVALID, SCRAP: X, MARK: INVALID},
    OF: {RETEST: Q, REWORK: Q, HOLD: H, RELEASE: INVALID, SCRAP: X, MARK: INVALID},
    DONE: {**NONE, HOLD: H},
    H: {RETEST: INVALID, REWORK: INVALID, HOLD: INVALID, RELEASE: OF, SCRAP: X, MARK: INVALID},
    X: NONE,
    # a skipped board is terminal: not held, not scrapped, not sent round again
    XO: NONE,
}

CASES = [(s, a, want) for s, by_action in EXPECTED.items() for a, want in by_action.items()]

VERSION = RouteVersion(
    "R",
    1,
    RouteVersionStatus.READY,
    AT,
    RouteIdentity("R", "Route", "MES"),
    tuple(RouteStep(n, f"OP{n}", f"Op {n}", StationType.MANUAL) for n in (10, 20, 30)),
    max_reworks=2,
)


def a_unit(status: UnitStatus) -> Unit:
    held_from = OF if status is H else None
    return Unit("SN-1", "WO-1", "R-1", status, 20, id=7, step_fails=1, held_from=held_from)


def test_every_status_and_every_disposition_is_covered() -> None:
    assert set(EXPECTED) == set(UnitStatus)
    assert all(set(by_action) == set(DispositionAction) for by_action in EXPECTED.values())


@pytest.mark.parametrize(("status", "action", "want"), CASES)
def test_disposition(
    status: UnitStatus, action: DispositionAction, want: UnitStatus | ErrorCode
) -> None:
    unit = a_unit(status)
    if isinstance(want, UnitStatus):
        moved = lc.dispose(unit, action, VERSION, to_step_no=10)
        assert moved.status is want
        assert moved.held_from == (status if want is H else None)
    else:
        with pytest.raises(DomainError) as caught:
            lc.dispose(unit, action, VERSION, to_step_no=10)
        assert caught.value.code is want
        assert caught.value.details is not None
        assert caught.value.details["status"] == status.value
        assert caught.value.details["action"] == action.value


@pytest.mark.parametrize("action", [RETEST, REWORK])
def test_reworks_stop_at_the_routes_max_reworks(action: DispositionAction) -> None:
    unit = a_unit(OF)
    assert lc.dispose(unit, action, VERSION, 10, reworks_done=1).status is Q
    with pytest.raises(DomainError) as caught:
        lc.dispose(unit, action, VERSION, 10, reworks_done=2)
    assert caught.value.code is INVALID
    assert caught.value.details is not None and caught.value.details["maxReworks"] == 2


@pytest.mark.parametrize("to_step_no", [None, 15, 30])
def test_rework_goes_back_to_a_step_of_the_route_not_after_the_current_one(
    to_step_no: int | None,
) -> None:
    with pytest.raises(DomainError) as caught:
        lc.dispose(a_unit(OF), REWORK, VERSION, to_step_no)
    assert caught.value.code is INVALID


def test_a_registered_unit_is_queued_at_the_first_step() -> None:
    run = Run("R-1", "WO-1", RunStatus.PREP, 5, route_version_id=1)
    assert lc.registered("SN-9", run, 10, AT) == Unit("SN-9", "WO-1", "R-1", Q, 10, created_at=AT)


@pytest.mark.parametrize("status", list(UnitStatus))
def test_hold_and_release(status: UnitStatus) -> None:
    unit = replace(a_unit(status), held_from=None)
    held = lc.held(unit)
    assert lc.can_be_held(unit) is (status not in (X, XO))
    if status in (H, X, XO):
        assert held is unit  # a held unit stays held; a scrapped or X_OUT one is held by none
    else:
        assert held == replace(unit, status=H, held_from=status)
        assert lc.released(held) == unit


def test_track_in_and_out() -> None:
    unit = a_unit(Q)
    inside = lc.tracked_in(unit)
    assert inside == replace(unit, status=IN)
    track = Track(7, "SN-1", "R-1", 20, 1, "OP20", TrackSource.MANUAL, "ST-1", AT)
    assert lc.check_in_station(inside, track, "ST-1") is track
    for unit_now, open_track, station in [
        (inside, track, "ST-2"),
        (inside, None, "ST-1"),
        (unit, track, "ST-1"),
    ]:
        with pytest.raises(DomainError) as caught:
            lc.check_in_station(unit_now, open_track, station)
        assert caught.value.code is ErrorCode.UNIT_NOT_IN_STATION
        assert caught.value.details == {
            "sn": "SN-1",
            "stationCode": station,
            "status": unit_now.status.value,
            "openAtStationCode": open_track.station_code if open_track else None,
        }


def test_a_unit_scrapped_in_station_leaves_it() -> None:
    inside = a_unit(IN)
    held_inside = lc.held(inside)
    scrapped = a_unit(X)
    assert lc.leaves_station(inside, scrapped)
    assert lc.leaves_station(held_inside, scrapped)
    assert not lc.leaves_station(a_unit(Q), scrapped)
    assert not lc.leaves_station(inside, lc.held(inside))


def test_an_x_out_board_is_terminal_and_refused_by_name() -> None:
    board = a_unit(XO)
    assert not lc.can_be_held(board) and lc.held(board) == board
    refusal = check_unit_state(board)
    assert refusal is not None and refusal.code is ErrorCode.UNIT_X_OUT
    run = Run("R-1", "WO-1", RunStatus.IN_PROGRESS, 5, route_version_id=1)
    rs.check_units_finished(run, {DONE: 2, XO: 1, X: 1})
