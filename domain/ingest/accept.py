"""The accepting path of one event, §4 steps 2–9, for AUTO, TEST and BATCH.

Each unit is judged on its own (steps 4, 6 and 8), so ALL_OR_NOTHING refuses on the first
refusal and PARTIAL writes the units that pass and lists the others. Nothing is written
before every check has run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import (
    CollectionMethod,
    IngestStatus,
    RunStatus,
    StationType,
    TrackResult,
    TrackSource,
)
from domain.errors import DomainError, ErrorCode
from domain.execution import (
    Carrier,
    CarrierLoad,
    CarrierTrack,
    DataValue,
    IngestEnvelope,
    IngestEvent,
    IngestRejection,
    Track,
)
from domain.ingest.checks import check_run_state, check_station, check_step, check_unit_state
from domain.ingest.data import JudgedValue, StepData, missing_required, read_measurements
from domain.ingest.envelope import stored_input
from domain.lifecycle import advance
from domain.mapping.normalize import IngestMapping, NormalizedPayload, UnitReading
from domain.mapping.paths import values_at
from domain.ports import UnitOfWork
from domain.production import Run, Unit
from domain.routes import RouteStep, RouteVersion

PLAIN_SN_PATHS = ("payload.sn", "payload.snList[*]", "payload.snList")
DERIVED_KEY = "{key}#{sn}"


class MappingCache:
    """Parsed mappings per (route version, step): versions never change, so this is safe to
    keep across requests, and processes never disagree about it."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._cache: dict[tuple[int, int], IngestMapping] = {}

    def get(self, version: RouteVersion, step: RouteStep) -> IngestMapping | None:
        if version.id is None or not isinstance(step.ingest_mapping, dict):
            return None
        key = (version.id, step.step_no)
        found = self._cache.get(key)
        if found is None:
            found = IngestMapping.parse(step.ingest_mapping)
            if len(self._cache) >= self.size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = found
        return found


@dataclass
class Progress:
    """What the pipeline learnt before it refused: the SNs of step 3, for the rejection."""

    sns: list[str] = field(default_factory=list)


@dataclass
class Resolved:
    """Step 3's answer: the units (locked), their run and its frozen version; for a
    carrier-only BATCH event also the carrier and the open loads that stand for its units."""

    units: list[Unit]
    run: Run
    version: RouteVersion
    carrier: Carrier | None = None
    loads: list[CarrierLoad] = field(default_factory=list)
    #: the candidate mapping that found the units (its batchPolicy holds when no unit stands
    #: at a step of the event's type)
    found_by: IngestMapping | None = None


@dataclass
class Verdict:
    """One unit's reading after steps 4–8: its result and values, or its refusal."""

    unit: Unit
    reading: UnitReading | None = None
    result: TrackResult = TrackResult.PASS
    values: tuple[JudgedValue, ...] = ()
    error: DomainError | None = None


@dataclass
class Accepted:
    status: IngestStatus
    event: IngestEvent


class Acceptor:
    """Runs steps 2–9 inside the caller's unit of work; raises DomainError on refusal."""

    def __init__(self, uow: UnitOfWork, mappings: MappingCache, now: datetime):
        self.uow = uow
        self.mappings = mappings
        self.now = now
        #: measurement names no bound spec took, over every unit
        self.unmapped: dict[str, None] = {}

    # ------------------------------------------------------------ step 3

    async def resolve(
        self,
        env: IngestEnvelope,
        root: dict[str, Any],
        station_type: StationType,
        progress: Progress,
    ) -> Resolved:
        uow = self.uow
        if env.run_no is not None:
            run = await uow.runs.get(env.run_no)
            if run is None:
                raise DomainError(
                    ErrorCode.RUN_NOT_FOUND, f"run {env.run_no!r} not found", {"runNo": env.run_no}
                )
            runs = [run]
        else:
            runs = await uow.runs.unfinished()
        versions = await uow.route_versions.get_many(list({r.route_version_id for r in runs}))
        if env.run_no is not None:
            require_step_of_type(runs[0], versions.get(runs[0].route_version_id), station_type)
        tried: list[str] = []
        sns: list[str] = []
        found_by: IngestMapping | None = None
        carrier_code: str | None = None
        seen: set[tuple[int, int]] = set()
        for run in runs:
            version = versions.get(run.route_version_id)
            if version is None or version.id is None:
                continue
            for step in version.steps:
                if step.station_type is not station_type or (version.id, step.step_no) in seen:
                    continue
                seen.add((version.id, step.step_no))
                mapping = self.mappings.get(version, step)
                if mapping is None:
                    continue
                paths = (mapping.sn, mapping.sn_list, mapping.unit_items, mapping.carrier)
                tried += [p.text for p in paths if p]
                sns = mapping.unit_sns(root)
                if not sns and carrier_code is None and station_type is StationType.BATCH:
                    carrier_code = mapping.carrier_code(root)
                    found_by = mapping
                if sns:
                    found_by = mapping
                    break
            if sns:
                break
        carrier: Carrier | None = None
        loads: list[CarrierLoad] = []
        if not sns and carrier_code is not None:
            carrier = await uow.carriers.get(carrier_code)
            if carrier is None or carrier.id is None:
                raise DomainError(
                    ErrorCode.CARRIER_NOT_FOUND,
                    f"carrier {carrier_code!r} not found: name its units, or load it first",
                    {"carrierNo": carrier_code},
                )
            loads = await uow.carriers.open_loads(carrier.id)
            if not loads:
                raise DomainError(
                    ErrorCode.CARRIER_EMPTY,
                    f"carrier {carrier_code!r} has no open loads",
                    {"carrierNo": carrier_code},
                )
            units = await uow.units.get_many_by_id([ld.unit_id for ld in loads], for_update=True)
            sns = [u.sn for u in units]
        elif not sns:
            for path in PLAIN_SN_PATHS:
                tried.append(path)
                sns = plain_sns(values_at(path, root))
                if sns:
                    break
        if not sns:
            raise DomainError(
                ErrorCode.INGEST_PAYLOAD_INVALID,
                "no unit found in the payload by the mappings of "
                f"{station_type.value} steps of unfinished runs",
                {"pathsTried": list(dict.fromkeys(tried))},
            )
        if env.restrict_to_sn is not None:
            sns = [sn for sn in sns if sn == env.restrict_to_sn]
        progress.sns = sns
        if carrier is None:
            units = await uow.units.get_many(sns, for_update=True)
        else:
            units = [u for u in units if u.sn in set(sns)]
        missing = sorted(set(sns) - {u.sn for u in units})
        if missing:
            raise DomainError(
                ErrorCode.UNIT_NOT_FOUND,
                f"unit(s) not registered: {', '.join(missing[:10])}",
                {"sns": missing[:100]},
            )
        run_nos = sorted({u.run_no for u in units})
        if len(run_nos) > 1 or (env.run_no is not None and run_nos != [env.run_no]):
            raise DomainError(
                ErrorCode.RUN_MISMATCH,
                f"the event's units belong to run(s) {', '.join(run_nos)}"
                + (f", not to {env.run_no}" if env.run_no else ""),
                {"runNos": run_nos, "runNo": env.run_no},
            )
        run = next((r for r in runs if r.run_no == run_nos[0]), None) or await uow.runs.get(
            run_nos[0]
        )
        assert run is not None  # the unit's foreign key guarantees it
        version = versions.get(run.route_version_id) or (
            await uow.route_versions.get_many([run.route_version_id])
        ).get(run.route_version_id)
        require_step_of_type(run, version, station_type)
        assert version is not None
        order = {sn: i for i, sn in enumerate(sns)}
        units.sort(key=lambda u: order[u.sn])
        return Resolved(units, run, version, carrier, loads, found_by)

    # ------------------------------------------------------------ steps 4–8

    async def judge(
        self,
        env: IngestEnvelope,
        root: dict[str, Any],
        station_type: StationType,
        resolved: Resolved,
    ) -> tuple[list[Verdict], RouteStep, IngestMapping, NormalizedPayload, StepData | None]:
        """Steps 4–8. ALL_OR_NOTHING raises the first refusal; PARTIAL keeps refusals per unit
        and raises only when every unit is refused (or the event as a whole is)."""
        verdicts = [Verdict(unit=u, error=check_unit_state(u)) for u in resolved.units]
        step, mapping = self._event_step(verdicts, resolved, station_type)
        partial = mapping is not None and mapping.partial
        _settle(verdicts, partial)
        run_error = check_run_state(resolved.run)
        if run_error:
            raise run_error
        expected = step.step_no if step is not None else None
        for v in verdicts:
            if v.error is None:
                _, v.error = check_step(v.unit, resolved.version, station_type, expected)
        _settle(verdicts, partial)
        assert step is not None and mapping is not None
        normalized = mapping.normalize(root, station_type)
        self._same_units(normalized, resolved, step)
        station = await self.uow.stations.get(normalized.station_code)
        station_error = check_station(station, normalized.station_code, step)
        if station_error:
            raise station_error
        carrier_data = self._carrier_data(station_type, step, mapping, normalized)
        readings = {r.sn: r for r in normalized.units}
        for v in verdicts:
            if v.error is None:
                reading = readings.get(v.unit.sn) or UnitReading(
                    v.unit.sn, normalized.event_result or TrackResult.PASS
                )
                self._unit_data(v, reading, step, mapping, normalized, carrier_data)
        _settle(verdicts, partial)
        return verdicts, step, mapping, normalized, carrier_data

    def _event_step(
        self, verdicts: list[Verdict], resolved: Resolved, station_type: StationType
    ) -> tuple[RouteStep | None, IngestMapping | None]:
        """The event's step: the first unit's (of the units that may execute at all, standing
        at a step of this type). Without one, the policy is the mapping that found the units."""
        for v in verdicts:
            if v.error is None:
                step = resolved.version.step(v.unit.current_step_no)
                if step is not None and step.station_type is station_type:
                    return step, self.mappings.get(resolved.version, step)
        return None, resolved.found_by

    def _same_units(
        self, normalized: NormalizedPayload, resolved: Resolved, step: RouteStep
    ) -> None:
        """The step's own mapping must yield the units step 3 found (or, for a carrier-only
        BATCH event, name that carrier)."""
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
            pass_values=normalized.pass_values,
            fail_values=normalized.fail_values,
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

    def _unit_data(
        self,
        v: Verdict,
        reading: UnitReading,
        step: RouteStep,
        mapping: IngestMapping,
        normalized: NormalizedPayload,
        carrier_data: StepData | None,
    ) -> None:
        """Step 8 for one unit: its values, a KEY failure turning PASS into FAIL, the
        required AUTO data a PASS needs."""
        v.reading = reading
        try:
            data = read_measurements(
                step,
                reading.measurements,
                mapping.data_spec_map,
                carrier_level=False,
                pass_values=normalized.pass_values,
                fail_values=normalized.fail_values,
            )
        except DomainError as err:
            v.error = _for_unit(err, v.unit.sn)
            return
        v.values = data.values
        v.result = reading.result
        if data.key_failures or (carrier_data is not None and carrier_data.key_failures):
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
        self.unmapped.update(dict.fromkeys(data.unmapped))

    # ------------------------------------------------------------ step 9

    async def write(
        self,
        env: IngestEnvelope,
        input_hash: str,
        resolved: Resolved,
        verdicts: list[Verdict],
        step: RouteStep,
        normalized: NormalizedPayload,
        carrier_data: StepData | None,
    ) -> IngestEvent | None:
        """Everything in the caller's transaction; None when another sender's event took the
        key meanwhile (the caller looks again)."""
        uow = self.uow
        occurred_at = normalized.occurred_at or env.occurred_at
        assert occurred_at is not None
        ok = [v for v in verdicts if v.error is None]
        refused = [v for v in verdicts if v.error is not None]
        carrier_values = carrier_data.values if carrier_data else ()
        overall = (
            TrackResult.FAIL if any(v.result is TrackResult.FAIL for v in ok) else TrackResult.PASS
        )
        if carrier_data is not None and normalized.event_result is TrackResult.FAIL:
            overall = TrackResult.FAIL
        sns = [v.unit.sn for v in ok]
        key_failures: list[dict[str, Any]] = [
            {"sn": v.unit.sn, "specs": [jv.spec.name for jv in v.values if jv.key_failure]}
            for v in ok
            if any(jv.key_failure for jv in v.values)
        ]
        if carrier_data is not None and carrier_data.key_failures:
            key_failures.append(
                {"carrierNo": normalized.carrier_code, "specs": list(carrier_data.key_failures)}
            )
        unmapped = list(self.unmapped)
        if carrier_data is not None:
            unmapped += [n for n in carrier_data.unmapped if n not in unmapped]
        event = await uow.ingest_events.add(
            IngestEvent(
                source_system=env.source_system,
                dedupe_key=env.dedupe_key,
                input_hash=input_hash,
                event_type=env.event_type,
                occurred_at=occurred_at,
                received_at=self.now,
                payload=env.payload,
                run_no=resolved.run.run_no,
                step_no=step.step_no,
                station_code=normalized.station_code,
                line_code=normalized.line_code,
                sn=sns[0] if len(sns) == 1 else None,
                sn_list=tuple(sns),
                carrier_code=normalized.carrier_code,
                test_result_id=normalized.test_result_id,
                result=overall,
                normalized={
                    "stationCode": normalized.station_code,
                    "lineCode": normalized.line_code,
                    "occurredAt": occurred_at.isoformat(),
                    "testResultId": normalized.test_result_id,
                    "carrierCode": normalized.carrier_code,
                    "stepNo": step.step_no,
                    "units": [
                        {"sn": v.unit.sn, "result": v.result.value, "values": len(v.values)}
                        for v in ok
                    ],
                    "carrierValues": len(carrier_values),
                    "unmapped": unmapped,
                    "keyFailures": key_failures,
                    "refused": [
                        {"sn": v.unit.sn, "code": v.error.code.value, "details": v.error.details}
                        for v in refused
                        if v.error
                    ],
                },
                meta=env.meta,
            ),
            [v.unit.id for v in ok if v.unit.id is not None],
        )
        if event is None or event.id is None:
            return None
        source = TrackSource(env.event_type.value)
        carrier_track: CarrierTrack | None = None
        if carrier_data is not None:
            carrier_track = await self._carrier_writes(
                resolved, ok, step, normalized, occurred_at, overall, event.id
            )
            await uow.data_values.add_many(
                [
                    _value(jv, source, occurred_at, event.id, carrier_track_id=carrier_track.id)
                    for jv in carrier_values
                ]
            )
        tracks = await uow.tracks.add_many(
            [
                Track(
                    unit_id=v.unit.id or 0,
                    unit_sn=v.unit.sn,
                    run_no=resolved.run.run_no,
                    step_no=step.step_no,
                    attempt=1,
                    operation_code=step.operation_code,
                    source=source,
                    station_code=normalized.station_code,
                    in_at=occurred_at,
                    out_at=occurred_at,
                    result=v.result,
                    ingest_event_id=event.id,
                    carrier_track_id=carrier_track.id if carrier_track else None,
                )
                for v in ok
            ]
        )
        await uow.data_values.add_many(
            [
                _value(jv, source, occurred_at, event.id, track_id=track.id)
                for track, v in zip(tracks, ok, strict=True)
                for jv in v.values
            ]
        )
        carrier_holds = any(jv.holds for jv in carrier_values)
        await uow.units.update_many(
            [
                advance(
                    v.unit,
                    v.result,
                    resolved.version,
                    step,
                    carrier_holds or any(jv.holds for jv in v.values),
                )
                for v in ok
            ]
        )
        if resolved.run.status is RunStatus.AUTHORIZED:
            await uow.runs.set_status_if(
                resolved.run.run_no, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS
            )
        await uow.rejections.resolve_key(env.source_system, env.dedupe_key, event.id)
        for v in refused:
            await self._partial_rejection(env, input_hash, v)
        return event

    async def _carrier_writes(
        self,
        resolved: Resolved,
        ok: list[Verdict],
        step: RouteStep,
        normalized: NormalizedPayload,
        occurred_at: datetime,
        overall: TrackResult,
        event_id: int,
    ) -> CarrierTrack:
        """The carrier (created if new), its loads, and its CarrierTrack. A unit list makes
        those units the carrier's loads (closing their other open loads); a carrier-only event
        uses the open loads. The loads it processed close at occurredAt."""
        uow = self.uow
        assert normalized.carrier_code is not None
        carrier = await uow.carriers.get_or_create(normalized.carrier_code, self.now)
        assert carrier.id is not None
        unit_ids = [v.unit.id or 0 for v in ok]
        if resolved.carrier is not None and not normalized.sns_given:
            processed = [ld.id or 0 for ld in resolved.loads if ld.unit_id in set(unit_ids)]
        else:
            open_loads = await uow.carriers.open_loads_of_units(unit_ids)
            elsewhere = [ld.id or 0 for ld in open_loads if ld.carrier_id != carrier.id]
            await uow.carriers.close_loads(elsewhere, occurred_at)
            here = {ld.unit_id: ld for ld in open_loads if ld.carrier_id == carrier.id}
            await uow.carriers.add_loads(
                [
                    CarrierLoad(carrier_id=carrier.id, unit_id=u, loaded_at=occurred_at)
                    for u in unit_ids
                    if u not in here
                ]
            )
            processed = [
                ld.id or 0
                for ld in await uow.carriers.open_loads_of_units(unit_ids)
                if ld.carrier_id == carrier.id
            ]
        await uow.carriers.close_loads(processed, occurred_at)
        return await uow.carriers.add_track(
            CarrierTrack(
                carrier_id=carrier.id,
                run_no=resolved.run.run_no,
                step_no=step.step_no,
                source=TrackSource.BATCH,
                station_code=normalized.station_code,
                in_at=occurred_at,
                out_at=occurred_at,
                result=overall,
                ingest_event_id=event_id,
            )
        )

    async def _partial_rejection(self, env: IngestEnvelope, input_hash: str, v: Verdict) -> None:
        """A unit PARTIAL refused: its own rejection, replayable under `dedupeKey#sn`."""
        assert v.error is not None
        key = DERIVED_KEY.format(key=env.dedupe_key, sn=v.unit.sn)
        existing = await self.uow.rejections.find_open(env.source_system, key, input_hash)
        if existing is not None:
            return
        await self.uow.rejections.add(
            IngestRejection(
                source_system=env.source_system,
                dedupe_key=key,
                input_hash=input_hash,
                event_type=env.event_type,
                received_at=self.now,
                occurred_at=env.occurred_at,
                error_code=v.error.code,
                error_message=v.error.message,
                error_details=v.error.details,
                input=stored_input(env),
                sns=(v.unit.sn,),
                restrict_to_sn=v.unit.sn,
                last_attempt_at=self.now,
            )
        )


def _for_unit(err: DomainError, sn: str) -> DomainError:
    details = dict(err.details or {})
    details.setdefault("sn", sn)
    return DomainError(err.code, f"unit {sn}: {err.message}", details)


def _settle(verdicts: list[Verdict], partial: bool) -> None:
    """ALL_OR_NOTHING: one refused unit refuses the event. PARTIAL: only all refused does."""
    refused = [v for v in verdicts if v.error]
    if refused and (not partial or len(refused) == len(verdicts)):
        _raise_first(verdicts, all_refused=partial)


def _value(
    jv: JudgedValue,
    source: TrackSource,
    at: datetime,
    event_id: int,
    track_id: int | None = None,
    carrier_track_id: int | None = None,
) -> DataValue:
    return DataValue(
        spec_name=jv.spec.name,
        data_type=jv.spec.data_type,
        source=source,
        collected_at=at,
        value_number=jv.value.number,
        value_text=jv.value.text,
        value_boolean=jv.value.boolean,
        value_json=jv.value.json,
        value_unit=jv.unit,
        judge=jv.judge,
        alarmed=jv.alarmed,
        track_id=track_id,
        carrier_track_id=carrier_track_id,
        ingest_event_id=event_id,
    )


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


def require_step_of_type(run: Run, version: RouteVersion | None, station_type: StationType) -> None:
    if version is None or not any(s.station_type is station_type for s in version.steps):
        raise DomainError(
            ErrorCode.INGEST_MAPPING_MISSING,
            f"run {run.run_no}'s route has no {station_type.value} step",
            {"runNo": run.run_no, "eventType": station_type.value},
        )


def plain_sns(values: list[Any]) -> list[str]:
    out: dict[str, None] = {}
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, bool):
                continue
            text = str(item) if isinstance(item, int | float | str) else None
            if text and len(text) <= 100 and text == text.strip():
                out[text] = None
    return list(out)
