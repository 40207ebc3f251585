"""validateUnits: the interlock a machine asks before it processes a board (IPC-CFX
ValidateUnitsRequest). The checks 3–7 of §4 for the station's type (trackIn's for a MANUAL
station), one answer per unit, writing nothing, in a fixed number of reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.enums import StationType, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.holds import Hold
from domain.ingest.checks import (
    check_recipe,
    check_run_state,
    check_station,
    check_step,
    check_unit_state,
)
from domain.master import Station
from domain.ports import ReadStore
from domain.routes import RouteVersion
from domain.runs_and_units import Run, Unit
from domain.validation import check_code

MAX_UNITS = 1000


@dataclass(frozen=True, slots=True)
class UnitValidation:
    sn: str
    ok: bool
    code: ErrorCode | None = None
    details: dict[str, Any] | None = None
    current_step_no: int | None = None


async def validate_units(
    store: ReadStore, station_code: str, sns: list[str], recipe: str | None = None
) -> list[UnitValidation]:
    """Per unit, in the pipeline's order: registered (UNIT_NOT_FOUND), the run has a step of
    the station's type (INGEST_MAPPING_MISSING), unit state, run state, current step
    (STEP_MISMATCH), station (STATION_NOT_FOUND / STATION_MISMATCH), and, when the machine
    names the program it is about to run, the step's recipe (RECIPE_MISMATCH)."""
    check_code(station_code, "stationCode")
    if recipe is not None:
        check_code(recipe, "recipe")
    if len(sns) > MAX_UNITS:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"validateUnits takes at most {MAX_UNITS} units",
            {"field": "sns", "count": len(sns), "max": MAX_UNITS},
        )
    station = (await store.stations([station_code])).get(station_code)
    units = await store.units(sns)
    runs = await store.runs(sorted({u.run_no for u in units.values()}))
    versions = await store.route_versions(sorted({r.route_version_id for r in runs.values()}))
    held = [u.id for u in units.values() if u.status is UnitStatus.ON_HOLD and u.id is not None]
    holds = (
        {
            unit_id: [h for h in found if h.units and h.units[0].is_open]
            for unit_id, found in (await store.holds_of_units(held)).items()
        }
        if held
        else {}
    )
    answers: list[UnitValidation] = []
    for sn in sns:
        unit = units.get(sn)
        if unit is None:
            answers.append(UnitValidation(sn, False, ErrorCode.UNIT_NOT_FOUND, {"sns": [sn]}, None))
            continue
        error = _check(unit, runs, versions, station, station_code, holds, recipe)
        answers.append(
            UnitValidation(
                sn,
                error is None,
                error.code if error else None,
                error.details if error else None,
                unit.current_step_no,
            )
        )
    return answers


def _check(
    unit: Unit,
    runs: dict[str, Run],
    versions: dict[int, RouteVersion],
    station: Station | None,
    station_code: str,
    holds: Mapping[int, Sequence[Hold]],
    recipe: str | None,
) -> DomainError | None:
    run = runs[unit.run_no]
    version = versions[run.route_version_id]
    if station is None:
        # without a station there is no type to check against: the pipeline's step 7 answer
        return (
            check_unit_state(unit, holds)
            or check_run_state(run)
            or DomainError(
                ErrorCode.STATION_NOT_FOUND,
                f"station {station_code!r} not found",
                {"stationCode": station_code},
            )
        )
    stype: StationType = station.station_type
    # an ingest event needs a step of its type in the run (§4 step 3); trackIn has no such check
    if stype is not StationType.MANUAL and not any(s.station_type is stype for s in version.steps):
        return DomainError(
            ErrorCode.INGEST_MAPPING_MISSING,
            f"run {run.run_no}'s route has no {stype.value} step",
            {"runNo": run.run_no, "eventType": stype.value},
        )
    state = check_unit_state(unit, holds) or check_run_state(run)
    if state:
        return state
    step, step_error = check_step(unit, version, stype)
    if step_error:
        return step_error
    assert step is not None
    return check_station(station, station_code, step, run) or check_recipe(step, recipe, unit.sn)
