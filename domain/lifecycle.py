"""How a unit moves after an execution (DOMAIN.md §2, §6), for ingest and trackOut alike."""

from __future__ import annotations

from dataclasses import replace

from domain.enums import TrackResult, UnitStatus
from domain.production import Unit
from domain.routes import RouteStep, RouteVersion


def advance(
    unit: Unit, result: TrackResult, version: RouteVersion, step: RouteStep, hold: bool = False
) -> Unit:
    """PASS → QUEUED at the next step (DONE after the last); FAIL → OUT_FAILED. An alarm with
    action HOLD then puts the unit ON_HOLD (after the advance)."""
    if result is TrackResult.PASS:
        next_step = version.next_step_no(step.step_no)
        moved = replace(
            unit,
            status=UnitStatus.QUEUED if next_step is not None else UnitStatus.DONE,
            current_step_no=next_step if next_step is not None else step.step_no,
        )
    else:
        moved = replace(unit, status=UnitStatus.OUT_FAILED, current_step_no=step.step_no)
    if hold:
        moved = replace(moved, status=UnitStatus.ON_HOLD)
    return moved
