"""Manual execution at a station: trackIn, then trackOut with result and data (DOMAIN.md §5)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain import run_states as rs
from domain.actors import check_station_binding
from domain.changes import UnitsChanged
from domain.enums import (
    CollectionMethod,
    SpecItemType,
    StationType,
    TrackResult,
    TrackSource,
    UnitStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.holding import open_hold, open_holds_of
from domain.holds import ALARM_REASON
from domain.ingest.checks import check_station, check_step, check_unit_state
from domain.ingest.data import JudgedValue, missing_required
from domain.lifecycle import advance, attempt_of, check_in_station, tracked_in
from domain.ports import UnitOfWork
from domain.routes import RouteStep, RouteVersion, StepDataSpec
from domain.runs_and_units import Run, Unit
from domain.tracks import Track
from domain.usecases.bus import Command, Deps
from domain.usecases.holds import SYSTEM_ACTOR
from domain.validation import check_code, check_optional_code, check_values
from domain.values import ValueInput, judged_inputs

MAX_VALUES = 1000


@dataclass(frozen=True, slots=True)
class Executed:
    track: Track
    unit: Unit


async def _unit_run_version(
    uow: UnitOfWork, sn: str, run_no: str
) -> tuple[Unit, Run, RouteVersion]:
    check_code(sn, "sn")
    check_code(run_no, "runNo")
    unit = await uow.units.get(sn, for_update=True)
    if unit is None:
        raise DomainError(ErrorCode.UNIT_NOT_FOUND, f"unit {sn!r} not found", {"sns": [sn]})
    # held (after the unit, as ingest does): an authorize, revoke or close waits for us
    run = await uow.runs.get(run_no, for_share=True)
    if run is None:
        raise DomainError(ErrorCode.RUN_NOT_FOUND, f"run {run_no!r} not found", {"runNo": run_no})
    if unit.run_no != run.run_no:
        raise DomainError(
            ErrorCode.RUN_MISMATCH,
            f"unit {sn} belongs to run {unit.run_no}, not to {run_no}",
            {"sn": sn, "runNo": run_no, "unitRunNo": unit.run_no},
        )
    version = (await uow.route_versions.get_many([run.route_version_id]))[run.route_version_id]
    return unit, run, version


@dataclass(frozen=True, slots=True)
class TrackIn(Command):
    station_code: str
    run_no: str
    sn: str
    operator_id: str | None = None
    action: ClassVar[str] = "trackIn"
    entity_type: ClassVar[str] = "Unit"

    def entity_key(self) -> str:
        return self.sn


async def track_in(cmd: TrackIn, uow: UnitOfWork, deps: Deps) -> Executed:
    """Unit and run state as in §4; a MANUAL current step; the station meets its constraints
    → an open track, the unit IN_STATION."""
    check_code(cmd.station_code, "stationCode")
    check_optional_code(cmd.operator_id, "operatorId")
    await check_station_binding(deps.actor, uow, cmd.station_code)
    unit, run, version = await _unit_run_version(uow, cmd.sn, cmd.run_no)
    run_error = rs.refusal(run, rs.RunAction.EXECUTE)
    for error in (check_unit_state(unit, await open_holds_of(uow, [unit])), run_error):
        if error:
            raise error
    step, step_error = check_step(unit, version, StationType.MANUAL)
    if step_error:
        raise step_error
    assert step is not None
    station = await uow.stations.get(cmd.station_code)
    station_error = check_station(station, cmd.station_code, step, run)
    if station_error:
        raise station_error
    now = deps.clock.now()
    [track] = await uow.tracks.add_many(
        [
            Track(
                unit_id=unit.id or 0,
                unit_sn=unit.sn,
                run_no=run.run_no,
                step_no=step.step_no,
                attempt=attempt_of(unit),
                operation_code=step.operation_code,
                source=TrackSource.MANUAL,
                station_code=cmd.station_code,
                in_at=now,
                operator_id=cmd.operator_id,
            )
        ]
    )
    # recorded at a step that is not BATCH: the unit is off its carrier (DOMAIN.md §6)
    await uow.carriers.close_loads_of_units([unit.id or 0], now)
    moved = tracked_in(unit)
    await uow.units.update_many([moved])
    uow.publish(UnitsChanged.of([moved]))
    started = rs.moved(run, rs.RunAction.EXECUTE)
    if started is not run:
        # the run is held since it was read: only another execution can have started it
        await uow.runs.set_status_if(run.run_no, run.status, started.status)
    return Executed(track, moved)


@dataclass(frozen=True, slots=True)
class TrackOut(Command):
    station_code: str
    run_no: str
    sn: str
    result: TrackResult
    operator_id: str | None = None
    data: tuple[ValueInput, ...] = ()
    action: ClassVar[str] = "trackOut"
    entity_type: ClassVar[str] = "Unit"

    def entity_key(self) -> str:
        return self.sn


def read_manual_values(
    step: RouteStep, values: tuple[ValueInput, ...], now: datetime
) -> list[tuple[JudgedValue, datetime]]:
    """Data only for the step's bound unit-level specs of MANUAL method, exactly one value
    field each, coerced and judged as in §3."""
    if len(values) > MAX_VALUES:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"at most {MAX_VALUES} data values per trackOut",
            {"field": "data", "count": len(values), "max": MAX_VALUES},
        )
    return judged_inputs(step, values, now, carrier_level=False, check_method=_by_operators)


def _by_operators(spec: StepDataSpec) -> None:
    if spec.method is not CollectionMethod.MANUAL:
        raise DomainError(
            ErrorCode.DATA_SPEC_METHOD_MISMATCH,
            f"spec {spec.name} is collected {spec.method.value}, not by operators",
            {"specName": spec.name, "method": spec.method.value},
        )


async def _device_key_failures(uow: UnitOfWork, step: RouteStep, track: Track) -> list[str]:
    """KEY specs a device judged FAIL on the track while it was open: they fail its PASS too
    (one statement, only at a step with KEY specs)."""
    keys = {s.name for s in step.data_specs if s.item_type is SpecItemType.KEY}
    if not keys:
        return []
    return sorted(keys & await uow.data_values.failed_spec_names(track.id or 0))


async def track_out(cmd: TrackOut, uow: UnitOfWork, deps: Deps) -> Executed:
    """Close the open track at that station with result and data; the unit moves as after an
    ingest event (PASS → next step, FAIL → OUT_FAILED, ERROR → QUEUED at the same step; a
    KEY failure makes a PASS a FAIL)."""
    check_code(cmd.station_code, "stationCode")
    check_optional_code(cmd.operator_id, "operatorId")
    await check_station_binding(deps.actor, uow, cmd.station_code)
    check_values([v.values for v in cmd.data], "data", deps.limits.max_json_depth)
    unit, _run, version = await _unit_run_version(uow, cmd.sn, cmd.run_no)
    if unit.status is UnitStatus.ON_HOLD:
        # held in station: the open track waits for the release
        refusal = check_unit_state(unit, await open_holds_of(uow, [unit]))
        assert refusal is not None
        raise refusal
    open_track = check_in_station(
        unit, await uow.tracks.open_of_unit(unit.id or 0), cmd.station_code
    )
    step = version.step(open_track.step_no)
    assert step is not None
    now = deps.clock.now()
    values = read_manual_values(step, cmd.data, now)
    result = cmd.result
    key_failures = [v.spec.name for v, _ in values if v.key_failure]
    if result is TrackResult.PASS and not key_failures:
        key_failures = await _device_key_failures(uow, step, open_track)
    if key_failures and result is TrackResult.PASS:
        result = TrackResult.FAIL  # an ERROR stays one: no verdict on the board
    if result is TrackResult.PASS:
        missing = missing_required(
            step,
            (v.spec.name for v, _ in values),
            method=CollectionMethod.MANUAL,
            carrier_level=False,
        )
        if missing:
            raise DomainError(
                ErrorCode.REQUIRED_DATA_MISSING,
                f"unit {unit.sn} passed without required data: {', '.join(missing)}",
                {"sn": unit.sn, "stepNo": step.step_no, "missing": missing},
            )
    closed = replace(
        open_track, out_at=now, result=result, operator_id=cmd.operator_id or open_track.operator_id
    )
    await uow.tracks.close(closed)
    await uow.data_values.add_many(
        [v.data_value(TrackSource.MANUAL, at, track_id=closed.id) for v, at in values]
    )
    moved = advance(unit, result, version, step)
    if any(v.holds for v, _ in values):
        actor = deps.actor.name if deps.actor else SYSTEM_ACTOR
        _, [moved] = await open_hold(uow, [moved], ALARM_REASON, actor, now)
    else:
        await uow.units.update_many([moved])
        uow.publish(UnitsChanged.of([moved]))
        if moved.current_step_no != unit.current_step_no:
            await deps.redrive(uow, [moved])  # its events parked for the next step (issue 20)
    return Executed(closed, moved)
