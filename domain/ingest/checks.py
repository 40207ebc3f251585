"""Pure checks of §4 steps 4–7, one unit at a time, so that the pipeline, PARTIAL events and
validateUnits give the same answer (none of them writes anything)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from domain import run_states as rs
from domain.enums import StationType, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.holds import Hold
from domain.master import Station
from domain.routes import RouteStep, RouteVersion
from domain.runs_and_units import Run, Unit

if TYPE_CHECKING:
    from domain.ingest.resolve import Resolved
    from domain.mapping.normalized import NormalizedPayload

_STATE_REFUSALS = {
    UnitStatus.DONE: (ErrorCode.UNIT_ALREADY_DONE, "is DONE"),
    UnitStatus.OUT_FAILED: (ErrorCode.UNIT_OUT_FAILED, "is OUT_FAILED"),
    UnitStatus.ON_HOLD: (ErrorCode.UNIT_ON_HOLD, "is ON_HOLD"),
    UnitStatus.SCRAPPED: (ErrorCode.UNIT_SCRAPPED, "is SCRAPPED"),
    UnitStatus.X_OUT: (ErrorCode.UNIT_X_OUT, "is X_OUT (a skipped board of its panel)"),
    UnitStatus.IN_STATION: (
        ErrorCode.UNIT_ALREADY_IN_STATION,
        "is IN_STATION (a manual track is open)",
    ),
}


def check_unit_state(
    unit: Unit, holds: Mapping[int, Sequence[Hold]] | None = None
) -> DomainError | None:
    """Step 4, before the step so the cause is named. `holds`: the open holds by unit id
    (`open_holds_of`), named in a UNIT_ON_HOLD refusal."""
    refusal = _STATE_REFUSALS.get(unit.status)
    if refusal is None:
        return None
    code, why = refusal
    details: dict[str, Any] = {
        "sn": unit.sn,
        "status": unit.status.value,
        "currentStepNo": unit.current_step_no,
    }
    if unit.status is UnitStatus.ON_HOLD:
        open_holds = (holds or {}).get(unit.id or 0, ())
        details["holds"] = [h.summary() for h in open_holds]
    return DomainError(code, f"unit {unit.sn} {why}", details)


def check_run_state(run: Run) -> DomainError | None:
    """Step 5: the run must take an execution (AUTHORIZED or IN_PROGRESS: run_states)."""
    return rs.refusal(run, rs.RunAction.EXECUTE)


def check_step(
    unit: Unit,
    version: RouteVersion,
    station_type: StationType,
    expected_step_no: int | None = None,
) -> tuple[RouteStep | None, DomainError | None]:
    """Step 6: the unit's current step must be of this station type (and, for the units of one
    event, the same step as the first unit's)."""
    step = version.step(unit.current_step_no)
    mismatch = step is None or step.station_type is not station_type
    if not mismatch and expected_step_no is not None and unit.current_step_no != expected_step_no:
        mismatch = True
    if mismatch:
        return step, DomainError(
            ErrorCode.STEP_MISMATCH,
            f"unit {unit.sn} is at step {unit.current_step_no} "
            f"({step.station_type.value if step and step.station_type else 'no step'}), "
            f"not at a step of type {station_type.value}"
            + (f" {expected_step_no}" if expected_step_no is not None else ""),
            {
                "sn": unit.sn,
                "currentStepNo": unit.current_step_no,
                "expectedStationType": step.station_type.value
                if step and step.station_type
                else None,
                "eventType": station_type.value,
            },
        )
    return step, None


def check_station(
    station: Station | None, station_code: str, step: RouteStep, run: Run
) -> DomainError | None:
    """Step 7: the station exists and satisfies the step (type, allowed stations, group) and,
    when it belongs to a line, the run is of that line (a station without a line, a shared
    tester, records for any run). Station membership is live master data; the frozen version
    only names the group."""
    if station is None:
        return DomainError(
            ErrorCode.STATION_NOT_FOUND,
            f"station {station_code!r} not found",
            {"stationCode": station_code},
        )
    problems = []
    if station.station_type is not step.station_type:
        expected = step.station_type.value if step.station_type else "?"
        problems.append(f"is {station.station_type.value}, the step is {expected}")
    if step.allowed_station_codes and station.code not in step.allowed_station_codes:
        problems.append("is not among the step's allowed stations")
    if step.station_group_code is not None and station.group_code != step.station_group_code:
        problems.append(f"is not in group {step.station_group_code}")
    line_mismatch = station.line_code is not None and station.line_code != run.line_code
    if line_mismatch:
        problems.append(f"is on line {station.line_code}, run {run.run_no} on {run.line_code}")
    if not problems:
        return None
    return DomainError(
        ErrorCode.STATION_MISMATCH,
        f"station {station.code} {'; '.join(problems)} (step {step.step_no})",
        {
            "stationCode": station.code,
            "stepNo": step.step_no,
            "stationType": station.station_type.value,
            "expectedStationType": step.station_type.value if step.station_type else None,
            "stationGroupCode": step.station_group_code,
            "allowedStationCodes": list(step.allowed_station_codes),
            **(
                {"stationLineCode": station.line_code, "runLineCode": run.line_code}
                if line_mismatch
                else {}
            ),
        },
    )


def check_recipe(step: RouteStep, got: str | None, sn: str | None = None) -> DomainError | None:
    """Step 7's program interlock (issue 16): when the step names a recipe and the machine
    says which one it runs, they are equal (RECIPE_MISMATCH with expected and got)."""
    if step.recipe is None or got is None or got == step.recipe:
        return None
    details: dict[str, object] = {"stepNo": step.step_no, "expected": step.recipe, "got": got}
    if sn is not None:
        details["sn"] = sn
    return DomainError(
        ErrorCode.RECIPE_MISMATCH,
        f"recipe {got!r} is not step {step.step_no}'s recipe {step.recipe!r}",
        details,
    )


def check_same_units(normalized: NormalizedPayload, resolved: Resolved, step: RouteStep) -> None:
    """Step 6: the step's own mapping must yield the units step 3 found (or, for a
    carrier-only BATCH event, name that carrier); else INGEST_PAYLOAD_INVALID."""
    found = {u.sn for u in resolved.units}
    if resolved.carrier is not None and not normalized.sns_given:
        if normalized.carrier_code != resolved.carrier.carrier_no:
            raise DomainError(
                ErrorCode.INGEST_PAYLOAD_INVALID,
                f"step {step.step_no}'s mapping reads carrier {normalized.carrier_code}, "
                f"not {resolved.carrier.carrier_no}",
                {"stepNo": step.step_no, "carrierNo": normalized.carrier_code},
            )
        return
    read = {r.sn for r in normalized.units}
    if not found <= read:
        raise DomainError(
            ErrorCode.INGEST_PAYLOAD_INVALID,
            f"step {step.step_no}'s mapping reads units {sorted(read)}, not {sorted(found)}",
            {"stepNo": step.step_no, "mapped": sorted(read), "resolved": sorted(found)},
        )
