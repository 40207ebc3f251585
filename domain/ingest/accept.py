"""Judging one resolved event, §4 steps 4–8, for AUTO, TEST and BATCH.

Each unit is judged on its own (steps 4, 6 and 8), so ALL_OR_NOTHING refuses on the first
refusal and PARTIAL writes the units that pass and lists the others. Nothing is written here:
the `Judgement` goes to domain/ingest/write.py once every check has run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from domain.actors import Actor
from domain.enums import (
    CollectionMethod,
    StationType,
    TrackResult,
)
from domain.errors import DomainError, ErrorCode
from domain.holding import open_holds_of
from domain.ingest.checks import (
    check_recipe,
    check_run_state,
    check_same_units,
    check_station,
    check_step,
    check_unit_state,
)
from domain.ingest.data import StepData, missing_required, read_measurements
from domain.ingest.early import is_early, waiting_step
from domain.ingest.panel_boards import board_readings
from domain.ingest.resolve import MappingCache, Resolved, Verdict
from domain.ingest.stations import station_named
from domain.mapping.normalize import IngestMapping
from domain.mapping.normalized import NormalizedPayload, UnitReading
from domain.ports import UnitOfWork, UnitsOfMeasure
from domain.routes import RouteStep
from domain.runs_and_units import Unit


@dataclass(frozen=True, slots=True)
class Judgement:
    """Steps 4–8's answer for an event that may be written: the units' verdicts, the event's
    step and its mapping, the normalized payload, and a BATCH event's carrier-level data."""

    resolved: Resolved
    #: the units to record, in the event's order
    ok: tuple[Verdict, ...]
    #: the units PARTIAL refused (ALL_OR_NOTHING refuses the event instead)
    refused: tuple[Verdict, ...]
    step: RouteStep
    mapping: IngestMapping
    normalized: NormalizedPayload
    carrier_data: StepData | None
    #: measurement names no bound spec took, over every unit and then the carrier
    unmapped: tuple[str, ...]
    #: the panel boards the machine skipped (a skip value, `reading.skipped`): X_OUT, no track
    x_outs: tuple[Verdict, ...] = ()
    #: set when the units have not reached the event's step yet: the step it waits for
    #: (issue 20, domain/ingest/early.py); the rest is judged as if they stood there
    waiting_for_step_no: int | None = None


#: refusals of the event's station at the units' step that a later step of the same type may
#: not give (the event is then early, not wrong)
_LATER_STEP_MAY_FIT = frozenset({ErrorCode.STATION_MISMATCH, ErrorCode.RECIPE_MISMATCH})


class Acceptor:
    """Judges one resolved event inside the caller's unit of work (steps 4–8); raises
    DomainError on refusal."""

    def __init__(
        self,
        uow: UnitOfWork,
        mappings: MappingCache,
        actor: Actor | None = None,
        *,
        units_of_measure: UnitsOfMeasure,
    ):
        self.uow = uow
        self.mappings = mappings
        #: converts a value sent in another unit into its spec's (§3)
        self.units_of_measure = units_of_measure
        #: the sender: its station binding (§4 step 7)
        self.actor = actor

    # ------------------------------------------------------------ steps 4–8

    async def judge(
        self, root: dict[str, Any], station_type: StationType, resolved: Resolved
    ) -> Judgement:
        """Steps 4–8. ALL_OR_NOTHING raises the first refusal; PARTIAL keeps refusals per unit
        and raises only when every unit is refused (or the event as a whole is)."""
        holds = await open_holds_of(self.uow, resolved.units)
        verdicts = [Verdict(unit=u, error=check_unit_state(u, holds)) for u in resolved.units]
        step, mapping = self._event_step(verdicts, resolved, station_type, root)
        partial = mapping is not None and mapping.partial
        _settle(verdicts, partial)
        run_error = check_run_state(resolved.run)
        if run_error:
            raise run_error
        expected = step.step_no if step is not None else None
        for v in verdicts:
            if v.error is None:
                _, v.error = check_step(v.unit, resolved.version, station_type, expected)
        if is_early(verdicts, partial):
            early = await self._early(root, station_type, resolved, verdicts)
            if early is not None:
                return early
        _settle(verdicts, partial)
        assert step is not None and mapping is not None
        normalized = mapping.normalize(root, station_type)
        boards = board_readings(normalized.units, resolved.units, resolved.carried)
        normalized = replace(normalized, units=boards)
        check_same_units(normalized, resolved, step)
        station = await station_named(self.uow, normalized.station_code)
        if station is not None and station.code != normalized.station_code:
            normalized = replace(normalized, station_code=station.code)  # named by its handle
        # a station the token may not write for, before anything else is said about it
        forbidden = (
            self.actor.station_refusal(normalized.station_code, station) if self.actor else None
        )
        if forbidden:
            raise forbidden
        station_error = check_station(
            station, normalized.station_code, step, resolved.run
        ) or check_recipe(step, normalized.recipe)
        if station_error:
            if station_error.code in _LATER_STEP_MAY_FIT:
                # two steps of one type in a row (SPI, then AOI): the event's station may be a
                # later step's, which its units have not reached yet (issue 20)
                early = await self._early(root, station_type, resolved, verdicts)
                if early is not None:
                    return early
            raise station_error
        carrier_data = self._carrier_data(station_type, step, mapping, normalized)
        readings = {r.sn: r for r in normalized.units}
        unmapped: dict[str, None] = {}
        x_outs: list[Verdict] = []
        for v in verdicts:
            if v.error is None:
                reading = readings.get(v.unit.sn) or UnitReading(
                    v.unit.sn, normalized.event_result or TrackResult.PASS
                )
                if is_x_out(v.unit, reading):
                    v.reading = reading
                    x_outs.append(v)
                    continue
                names = _unit_data(
                    v, reading, step, mapping, normalized, carrier_data, self.units_of_measure
                )
                unmapped.update(dict.fromkeys(names))
        _settle(verdicts, partial)
        if carrier_data is not None:
            unmapped.update(dict.fromkeys(carrier_data.unmapped))
        return Judgement(
            resolved,
            tuple(v for v in verdicts if v.error is None and all(v is not x for x in x_outs)),
            tuple(v for v in verdicts if v.error is not None),
            step,
            mapping,
            normalized,
            carrier_data,
            tuple(unmapped),
            tuple(x_outs),
        )

    async def _early(
        self,
        root: dict[str, Any],
        station_type: StationType,
        resolved: Resolved,
        verdicts: list[Verdict],
    ) -> Judgement | None:
        """Units not yet at the event's step (issue 20): judged as if they stood there (any
        other refusal is raised), the judgement naming the step it waits for; None: not early."""
        step = await waiting_step(
            self.uow, self.mappings, self.actor, root, station_type, resolved, verdicts
        )
        if step is None:
            return None
        there = [replace(u, current_step_no=step.step_no) for u in resolved.units]
        judgement = await self.judge(root, station_type, replace(resolved, units=there))
        return replace(judgement, waiting_for_step_no=step.step_no)

    def _event_step(
        self,
        verdicts: list[Verdict],
        resolved: Resolved,
        station_type: StationType,
        root: dict[str, Any],
    ) -> tuple[RouteStep | None, IngestMapping | None]:
        """The event's step: the first unit's (of the units that may execute at all, standing
        at a step of this type), and the step's mapping (of a oneOf, the alternative that reads
        the payload). Without one, the policy is the mapping that found the units."""
        for v in verdicts:
            if v.error is None:
                step = resolved.version.step(v.unit.current_step_no)
                if step is not None and step.station_type is station_type:
                    found = self.mappings.get(resolved.version, step)
                    return step, found.pick(root) if found else None
        return None, resolved.found_by

    def _carrier_data(
        self,
        station_type: StationType,
        step: RouteStep,
        mapping: IngestMapping,
        normalized: NormalizedPayload,
    ) -> StepData | None:
        """BATCH: the event's measurements feed the EACH_CARRIER specs (one set per carrier);
        a required one is needed on PASS, a KEY failure fails every board."""
        if station_type is not StationType.BATCH:
            return None
        data = read_measurements(
            step,
            normalized.carrier_measurements,
            mapping.data_spec_map,
            carrier_level=True,
            units_of_measure=self.units_of_measure,
            pass_values=normalized.pass_values,
            fail_values=normalized.fail_values,
            unmapped_names=mapping.unmapped_names,
        )
        if normalized.result is TrackResult.PASS and not data.key_failures:
            missing = missing_required(
                step,
                (v.spec.name for v in data.values),
                method=CollectionMethod.AUTO,
                carrier_level=True,
            )
            if missing:
                raise DomainError(
                    ErrorCode.REQUIRED_DATA_MISSING,
                    f"carrier {normalized.carrier_code} passed without required data: "
                    f"{', '.join(missing)}",
                    {
                        "carrierNo": normalized.carrier_code,
                        "stepNo": step.step_no,
                        "missing": missing,
                    },
                )
        return data


def is_x_out(unit: Unit, reading: UnitReading) -> bool:
    """A skip value (`result.skipValues`) makes a panel's board X_OUT: the machine skipped a
    board its supplier marked bad, as every later machine will. A unit of no panel is not
    X-outed on a machine's word: X_OUT is terminal and closeRun counts it finished, so a
    skipped single board would leave the flow with nobody deciding. Its reading stays an
    ERROR track (no verdict): it waits at the step, and quality may scrap it by hand."""
    return reading.skipped is not None and unit.panel_sn is not None


def _unit_data(
    v: Verdict,
    reading: UnitReading,
    step: RouteStep,
    mapping: IngestMapping,
    normalized: NormalizedPayload,
    carrier_data: StepData | None,
    units_of_measure: UnitsOfMeasure,
) -> tuple[str, ...]:
    """Step 8 for one unit: its values, a KEY failure turning PASS into FAIL, the required
    AUTO data a PASS needs. Returns the measurement names no bound spec took."""
    v.reading = reading
    try:
        data = read_measurements(
            step,
            reading.measurements,
            mapping.data_spec_map,
            carrier_level=False,
            units_of_measure=units_of_measure,
            pass_values=normalized.pass_values,
            fail_values=normalized.fail_values,
            unmapped_names=mapping.unmapped_names,
        )
    except DomainError as err:
        if err.code is ErrorCode.INGEST_PAYLOAD_INVALID:
            raise  # unmappedNames: REFUSE refuses the event, not only this unit
        v.error = _for_unit(err, v.unit.sn)
        return ()
    v.values = data.values
    v.result = reading.result
    key_failed = data.key_failures or (carrier_data is not None and carrier_data.key_failures)
    if key_failed and v.result is TrackResult.PASS:
        # a KEY failure turns a PASS into FAIL; an ERROR stays one (no verdict on the board)
        v.result = TrackResult.FAIL
    if v.result is TrackResult.PASS:
        missing = missing_required(
            step,
            (jv.spec.name for jv in data.values),
            method=CollectionMethod.AUTO,
            carrier_level=False,
        )
        if missing:
            v.error = DomainError(
                ErrorCode.REQUIRED_DATA_MISSING,
                f"unit {v.unit.sn} passed without required data: {', '.join(missing)}",
                {"sn": v.unit.sn, "stepNo": step.step_no, "missing": missing},
            )
    return data.unmapped


def _for_unit(err: DomainError, sn: str) -> DomainError:
    details = dict(err.details or {})
    details.setdefault("sn", sn)
    return DomainError(err.code, f"unit {sn}: {err.message}", details)


def _settle(verdicts: list[Verdict], partial: bool) -> None:
    """ALL_OR_NOTHING: one refused unit refuses the event. PARTIAL: only all refused does."""
    refused = [v for v in verdicts if v.error]
    if refused and (not partial or len(refused) == len(verdicts)):
        _raise_first(verdicts, all_refused=partial)


def _raise_first(verdicts: Iterable[Verdict], all_refused: bool = False) -> None:
    refused = [v for v in verdicts if v.error]
    if not refused:
        return
    first = refused[0].error
    assert first is not None
    if all_refused and len(refused) > 1:
        details = dict(first.details or {})
        details["refused"] = [
            {"sn": v.unit.sn, "code": v.error.code.value} for v in refused if v.error
        ]
        raise DomainError(first.code, first.message, details)
    raise first
