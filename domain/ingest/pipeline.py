"""The ingest pipeline for one event (DOMAIN.md §4), AUTO and TEST.

Accepted: everything is written in one transaction. Refused: nothing of that is written; a
rejection (the full input and the error) and an audit event are, in a transaction of their own.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.enums import (
    AuditOutcome,
    CollectionMethod,
    IngestEventType,
    IngestStatus,
    RunStatus,
    StationType,
    TrackResult,
    TrackSource,
    UnitStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.execution import DataValue, IngestEnvelope, IngestEvent, IngestRejection, Track
from domain.ingest.checks import check_run_state, check_station, check_step, check_unit_state
from domain.ingest.data import JudgedValue, missing_required, read_measurements
from domain.ingest.envelope import canonical_hash, check_envelope
from domain.mapping.normalize import IngestMapping, NormalizedPayload
from domain.mapping.paths import values_at
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.production import AuditEvent, Run, Unit
from domain.routes import RouteStep, RouteVersion
from domain.usecases.bus import Actor, Limits

#: codes whose rejections cannot be replayed (DOMAIN.md §4 step 10)
NOT_REPLAYABLE = frozenset({ErrorCode.IDEMPOTENCY_CONFLICT, ErrorCode.PAYLOAD_TOO_LARGE})
#: what a rejection keeps of a payload over the size limit
TRUNCATED_PAYLOAD_CHARS = 4096
PLAIN_SN_PATHS = ("payload.sn", "payload.snList[*]", "payload.snList")


@dataclass
class IngestOutcome:
    status: IngestStatus
    event: IngestEvent | None = None
    error: DomainError | None = None
    rejection: IngestRejection | None = None


class MappingCache:
    """Parsed mappings per (route version, step): versions never change, so this is safe to
    keep across requests and processes never disagree about it."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._cache: OrderedDict[tuple[int, int], IngestMapping] = OrderedDict()

    def get(self, version: RouteVersion, step: RouteStep) -> IngestMapping | None:
        if version.id is None or not isinstance(step.ingest_mapping, dict):
            return None
        key = (version.id, step.step_no)
        found = self._cache.get(key)
        if found is None:
            found = IngestMapping.parse(step.ingest_mapping)
            self._cache[key] = found
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found


@dataclass
class _Progress:
    """What the pipeline learnt before it refused: the SNs of step 3, for the rejection."""

    sns: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Resolved:
    units: list[Unit]
    run: Run
    version: RouteVersion


class IngestService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, limits: Limits, mappings: MappingCache
    ):
        self.uow_factory = uow_factory
        self.clock = clock
        self.limits = limits
        self.mappings = mappings

    # ------------------------------------------------------------ entry points

    async def ingest(self, env: IngestEnvelope, actor: Actor) -> IngestOutcome:
        """Judge and, when accepted, record one event; refusals are stored as rejections."""
        input_hash = canonical_hash(env)
        progress = _Progress()
        for _ in range(3):
            try:
                async with self.uow_factory() as uow:
                    outcome = await self._accept(uow, env, input_hash, progress)
                    if outcome is None:
                        continue  # the key was taken meanwhile: look again in a new transaction
                    await uow.audit.add(self._audit(env, actor, outcome))
                    await uow.commit()
                    return outcome
            except DomainError as err:
                return await self._refuse(env, input_hash, err, progress.sns, actor)
        raise RuntimeError("ingest: the dedupe key kept changing hands")  # pragma: no cover

    async def replay(self, rejection_id: int, actor: Actor) -> IngestOutcome:
        """Run a stored rejection again with today's master data (and the run's frozen
        version). Accepted, or a DUPLICATE of an identical accepted input: resolved. Still
        refused: the same rejection counts another attempt."""
        async with self.uow_factory() as uow:
            rejection = await uow.rejections.get(rejection_id)
        if rejection is None:
            return IngestOutcome(
                IngestStatus.REJECTED,
                error=DomainError(
                    ErrorCode.REJECTION_NOT_FOUND,
                    f"rejection {rejection_id} not found",
                    {"id": str(rejection_id)},
                ),
            )
        if rejection.resolved_by_event_id is not None:
            async with self.uow_factory() as uow:
                event = await uow.ingest_events.get_by_id(rejection.resolved_by_event_id)
            return IngestOutcome(IngestStatus.DUPLICATE, event=event, rejection=rejection)
        if not rejection.replayable:
            return IngestOutcome(
                IngestStatus.REJECTED,
                error=DomainError(
                    ErrorCode.VALIDATION_FAILED,
                    f"rejection {rejection_id} ({rejection.error_code.value}) cannot be replayed: "
                    "send the event again with its own dedupeKey",
                    {"id": str(rejection_id), "code": rejection.error_code.value},
                ),
                rejection=rejection,
            )
        outcome = await self.ingest(envelope_of(rejection), actor)
        if outcome.status is IngestStatus.DUPLICATE and outcome.event and outcome.event.id:
            async with self.uow_factory() as uow:
                await uow.rejections.resolve_key(
                    rejection.source_system, rejection.dedupe_key, outcome.event.id
                )
                await uow.commit()
        async with self.uow_factory() as uow:
            outcome.rejection = await uow.rejections.get(rejection_id)
        return outcome

    # ------------------------------------------------------------ the accepting path

    async def _accept(
        self, uow: UnitOfWork, env: IngestEnvelope, input_hash: str, progress: _Progress
    ) -> IngestOutcome | None:
        check_envelope(env, self.limits.max_payload_bytes)
        if env.event_type is IngestEventType.BATCH:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                "BATCH events are not accepted by this release yet (carriers arrive next)",
                {"eventType": env.event_type.value},
            )
        await uow.ingest_events.lock_key(env.source_system, env.dedupe_key)
        existing = await uow.ingest_events.get_by_key(env.source_system, env.dedupe_key)
        if existing is not None:
            if existing.input_hash != input_hash:
                raise DomainError(
                    ErrorCode.IDEMPOTENCY_CONFLICT,
                    f"dedupeKey {env.dedupe_key!r} of {env.source_system} was accepted with "
                    "another input",
                    {"existingEventId": str(existing.id)},
                )
            return IngestOutcome(IngestStatus.DUPLICATE, event=existing)

        root = env.root()
        resolved = await self._units_and_run(uow, env, root, progress)
        station_type = StationType(env.event_type.value)
        step = self._check_units(resolved, station_type)
        mapping = self.mappings.get(resolved.version, step)
        if mapping is None:
            raise DomainError(
                ErrorCode.INGEST_MAPPING_MISSING,
                f"step {step.step_no} has no ingest mapping",
                {"stepNo": step.step_no},
            )
        normalized = mapping.normalize(root, station_type)
        found = {u.sn for u in resolved.units}
        read = {r.sn for r in normalized.units}
        if read != found:
            raise DomainError(
                ErrorCode.INGEST_PAYLOAD_INVALID,
                f"step {step.step_no}'s mapping reads units {sorted(read)}, not {sorted(found)}",
                {"stepNo": step.step_no, "mapped": sorted(read), "resolved": sorted(found)},
            )
        station = await uow.stations.get(normalized.station_code)
        station_error = check_station(station, normalized.station_code, step)
        if station_error:
            raise station_error
        return await self._write(uow, env, input_hash, resolved, step, mapping, normalized)

    async def _units_and_run(
        self, uow: UnitOfWork, env: IngestEnvelope, root: dict[str, Any], progress: _Progress
    ) -> _Resolved:
        """Step 3: the units come from the payload, read by the candidate mappings."""
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
        station_type = StationType(env.event_type.value)
        if env.run_no is not None:
            _require_step_of_type(runs[0], versions.get(runs[0].route_version_id), station_type)
        tried: list[str] = []
        sns: list[str] = []
        seen_steps: set[tuple[int, int]] = set()
        for run in runs:
            version = versions.get(run.route_version_id)
            if version is None:
                continue
            for step in version.steps:
                if (
                    step.station_type is not station_type
                    or (version.id, step.step_no) in seen_steps
                ):
                    continue
                seen_steps.add((version.id or 0, step.step_no))
                mapping = self.mappings.get(version, step)
                if mapping is None:
                    continue
                tried += [p.text for p in (mapping.sn, mapping.sn_list, mapping.unit_items) if p]
                sns = mapping.unit_sns(root)
                if sns:
                    break
            if sns:
                break
        if not sns:
            for path in PLAIN_SN_PATHS:
                tried.append(path)
                sns = _plain_sns(values_at(path, root))
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
        units = await uow.units.get_many(sns, for_update=True)
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
        _require_step_of_type(run, version, station_type)
        assert version is not None
        units.sort(key=lambda u: sns.index(u.sn))
        return _Resolved(units, run, version)

    def _check_units(self, resolved: _Resolved, station_type: StationType) -> RouteStep:
        """Steps 4–6, unit by unit (ALL_OR_NOTHING: the first refusal refuses the event)."""
        for unit in resolved.units:
            error = check_unit_state(unit)
            if error:
                raise error
        run_error = check_run_state(resolved.run)
        if run_error:
            raise run_error
        first_step: RouteStep | None = None
        for unit in resolved.units:
            expected = first_step.step_no if first_step else None
            step, error = check_step(unit, resolved.version, station_type, expected)
            if error:
                raise error
            first_step = first_step or step
        assert first_step is not None
        return first_step

    # ------------------------------------------------------------ step 8 and 9

    async def _write(
        self,
        uow: UnitOfWork,
        env: IngestEnvelope,
        input_hash: str,
        resolved: _Resolved,
        step: RouteStep,
        mapping: IngestMapping,
        normalized: NormalizedPayload,
    ) -> IngestOutcome | None:
        occurred_at = normalized.occurred_at or env.occurred_at
        assert occurred_at is not None
        readings: list[tuple[Unit, TrackResult, list[JudgedValue]]] = []
        unmapped: dict[str, None] = {}
        key_failures: list[dict[str, Any]] = []
        by_sn = {u.sn: u for u in resolved.units}
        for reading in normalized.units:
            data = read_measurements(
                step,
                reading.measurements,
                mapping.data_spec_map,
                carrier_level=False,
                pass_values=normalized.pass_values,
                fail_values=normalized.fail_values,
            )
            unmapped.update(dict.fromkeys(data.unmapped))
            result = reading.result
            if data.key_failures:
                key_failures.append({"sn": reading.sn, "specs": list(data.key_failures)})
                result = TrackResult.FAIL
            if result is TrackResult.PASS:
                missing = missing_required(
                    step,
                    (v.spec.name for v in data.values),
                    method=CollectionMethod.AUTO,
                    carrier_level=False,
                )
                if missing:
                    raise DomainError(
                        ErrorCode.REQUIRED_DATA_MISSING,
                        f"unit {reading.sn} passed without required data: {', '.join(missing)}",
                        {"sn": reading.sn, "stepNo": step.step_no, "missing": missing},
                    )
            readings.append((by_sn[reading.sn], result, list(data.values)))

        overall = (
            TrackResult.FAIL
            if any(r is TrackResult.FAIL for _, r, _ in readings)
            else TrackResult.PASS
        )
        sns = [u.sn for u, _, _ in readings]
        event = await uow.ingest_events.add(
            IngestEvent(
                source_system=env.source_system,
                dedupe_key=env.dedupe_key,
                input_hash=input_hash,
                event_type=env.event_type,
                occurred_at=occurred_at,
                received_at=self.clock.now(),
                payload=env.payload,
                run_no=resolved.run.run_no,
                step_no=step.step_no,
                station_code=normalized.station_code,
                line_code=normalized.line_code,
                sn=sns[0] if len(sns) == 1 else None,
                sn_list=tuple(sns),
                test_result_id=normalized.test_result_id,
                result=overall,
                normalized={
                    "stationCode": normalized.station_code,
                    "lineCode": normalized.line_code,
                    "occurredAt": occurred_at.isoformat(),
                    "testResultId": normalized.test_result_id,
                    "stepNo": step.step_no,
                    "units": [
                        {"sn": u.sn, "result": r.value, "values": len(v)} for u, r, v in readings
                    ],
                    "unmapped": list(unmapped),
                    "keyFailures": key_failures,
                    "refused": [],
                },
                meta=env.meta,
            ),
            [u.id for u, _, _ in readings if u.id is not None],
        )
        if event is None or event.id is None:
            return None  # another sender's event with this key committed first
        tracks = await uow.tracks.add_many(
            [
                Track(
                    unit_id=unit.id or 0,
                    unit_sn=unit.sn,
                    run_no=resolved.run.run_no,
                    step_no=step.step_no,
                    attempt=1,
                    operation_code=step.operation_code,
                    source=TrackSource(env.event_type.value),
                    station_code=normalized.station_code,
                    in_at=occurred_at,
                    out_at=occurred_at,
                    result=result,
                    ingest_event_id=event.id,
                )
                for unit, result, _ in readings
            ]
        )
        await uow.data_values.add_many(
            [
                _data_value(v, track, occurred_at, event.id)
                for track, (_, _, values) in zip(tracks, readings, strict=True)
                for v in values
            ]
        )
        await uow.units.update_many(
            [
                _advanced(unit, result, values, resolved.version, step)
                for unit, result, values in readings
            ]
        )
        if resolved.run.status is RunStatus.AUTHORIZED:
            await uow.runs.set_status_if(
                resolved.run.run_no, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS
            )
        await uow.rejections.resolve_key(env.source_system, env.dedupe_key, event.id)
        return IngestOutcome(IngestStatus.ACCEPTED, event=event)

    # ------------------------------------------------------------ refusals

    async def _refuse(
        self,
        env: IngestEnvelope,
        input_hash: str,
        err: DomainError,
        sns: list[str],
        actor: Actor,
    ) -> IngestOutcome:
        """Store the refusal (or count another attempt of the same one) and audit it."""
        now = self.clock.now()
        # PostgreSQL cannot store NUL: such an input is kept with U+FFFD and not replayable
        env, had_nul = without_nul(env)
        async with self.uow_factory() as uow:
            # senders of one key queue here too: a refused input sent twice at once still
            # leaves one rejection with two attempts
            await uow.ingest_events.lock_key(env.source_system, env.dedupe_key)
            rejection = await uow.rejections.find_open(
                env.source_system, env.dedupe_key, input_hash
            )
            if rejection is not None:
                rejection = replace(
                    rejection,
                    attempts=rejection.attempts + 1,
                    last_attempt_at=now,
                    error_code=err.code,
                    error_message=err.message,
                    error_details=err.details,
                    sns=tuple(sns) or rejection.sns,
                )
                await uow.rejections.update(rejection)
            else:
                rejection = await uow.rejections.add(
                    IngestRejection(
                        source_system=env.source_system,
                        dedupe_key=env.dedupe_key,
                        input_hash=input_hash,
                        event_type=env.event_type,
                        received_at=now,
                        occurred_at=_aware(env.occurred_at),
                        error_code=err.code,
                        error_message=err.message,
                        error_details=err.details,
                        input=stored_input(env, truncated=err.code is ErrorCode.PAYLOAD_TOO_LARGE),
                        sns=tuple(sns),
                        replayable=err.code not in NOT_REPLAYABLE and not had_nul,
                        restrict_to_sn=env.restrict_to_sn,
                        last_attempt_at=now,
                    )
                )
            await uow.audit.add(
                self._audit(env, actor, IngestOutcome(IngestStatus.REJECTED, error=err))
            )
            await uow.commit()
        return IngestOutcome(IngestStatus.REJECTED, error=err, rejection=rejection)

    def _audit(self, env: IngestEnvelope, actor: Actor, outcome: IngestOutcome) -> AuditEvent:
        status = {
            IngestStatus.ACCEPTED: AuditOutcome.OK,
            IngestStatus.DUPLICATE: AuditOutcome.DUPLICATE,
            IngestStatus.REJECTED: AuditOutcome.REFUSED,
        }[outcome.status]
        err = outcome.error
        return AuditEvent(
            at=self.clock.now(),
            actor=actor.name,
            request_id=actor.request_id,
            action="ingestEvent",
            entity_type="IngestEvent",
            entity_key=f"{env.source_system}/{env.dedupe_key}"[:500],
            outcome=status,
            error_code=err.code.value if err else None,
            details={"eventId": outcome.event.id}
            if outcome.event
            else ({"message": err.message} if err else None),
        )


def stored_input(env: IngestEnvelope, truncated: bool = False) -> dict[str, Any]:
    """The full input as received (replayable), or a truncated one for an oversized payload."""
    payload: Any = env.payload
    if truncated:
        text = json.dumps(env.payload, default=str)[:TRUNCATED_PAYLOAD_CHARS]
        payload = {"truncated": True, "bytes": env.payload_bytes, "head": text}
    return {
        "sourceSystem": env.source_system,
        "dedupeKey": env.dedupe_key,
        "eventType": env.event_type.value,
        "occurredAt": env.occurred_at.isoformat() if env.occurred_at else None,
        "runNo": env.run_no,
        "payload": payload,
        "meta": env.meta,
    }


def without_nul(env: IngestEnvelope) -> tuple[IngestEnvelope, bool]:
    """The envelope with every NUL character replaced (U+FFFD), and whether there was any."""
    found = False

    def clean(value: Any, depth: int = 0) -> Any:
        nonlocal found
        if depth > 200:
            return value
        if isinstance(value, str):
            if "\x00" in value:
                found = True
                return value.replace("\x00", "\ufffd")
            return value
        if isinstance(value, dict):
            return {clean(k, depth + 1): clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, depth + 1) for v in value]
        return value

    cleaned = replace(
        env,
        source_system=clean(env.source_system),
        dedupe_key=clean(env.dedupe_key),
        run_no=clean(env.run_no),
        payload=clean(env.payload),
        meta=clean(env.meta),
    )
    return (cleaned, True) if found else (env, False)


def _require_step_of_type(
    run: Run, version: RouteVersion | None, station_type: StationType
) -> None:
    if version is None or not any(s.station_type is station_type for s in version.steps):
        raise DomainError(
            ErrorCode.INGEST_MAPPING_MISSING,
            f"run {run.run_no}'s route has no {station_type.value} step",
            {"runNo": run.run_no, "eventType": station_type.value},
        )


def envelope_of(rejection: IngestRejection) -> IngestEnvelope:
    """The envelope a stored (replayable) input stands for."""
    raw = rejection.input
    occurred = raw.get("occurredAt")
    occurred_at = datetime.fromisoformat(occurred) if isinstance(occurred, str) else None
    payload = raw.get("payload")
    return IngestEnvelope(
        source_system=raw.get("sourceSystem", rejection.source_system),
        dedupe_key=raw.get("dedupeKey", rejection.dedupe_key),
        event_type=IngestEventType(raw.get("eventType", rejection.event_type.value)),
        occurred_at=occurred_at,
        payload=payload,
        run_no=raw.get("runNo"),
        meta=raw.get("meta"),
        restrict_to_sn=rejection.restrict_to_sn,
        payload_bytes=len(json.dumps(payload, default=str)),
    )


def _aware(value: datetime | None) -> datetime | None:
    return value if value is not None and value.tzinfo is not None else None


def _plain_sns(values: list[Any]) -> list[str]:
    out: dict[str, None] = {}
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, bool):
                continue
            text = str(item) if isinstance(item, int | float | str) else None
            if text and len(text) <= 100 and text == text.strip():
                out[text] = None
    return list(out)


def _data_value(v: JudgedValue, track: Track, at: datetime, event_id: int) -> DataValue:
    return DataValue(
        spec_name=v.spec.name,
        data_type=v.spec.data_type,
        source=track.source,
        collected_at=at,
        value_number=v.value.number,
        value_text=v.value.text,
        value_boolean=v.value.boolean,
        value_json=v.value.json,
        value_unit=v.unit,
        judge=v.judge,
        alarmed=v.alarmed,
        track_id=track.id,
        ingest_event_id=event_id,
    )


def _advanced(
    unit: Unit,
    result: TrackResult,
    values: list[JudgedValue],
    version: RouteVersion,
    step: RouteStep,
) -> Unit:
    """PASS → QUEUED at the next step (DONE after the last); FAIL → OUT_FAILED. An alarm with
    action HOLD then puts the unit ON_HOLD."""
    if result is TrackResult.PASS:
        next_step = version.next_step_no(step.step_no)
        moved = replace(
            unit,
            status=UnitStatus.QUEUED if next_step is not None else UnitStatus.DONE,
            current_step_no=next_step if next_step is not None else step.step_no,
        )
    else:
        moved = replace(unit, status=UnitStatus.OUT_FAILED)
    if any(v.holds for v in values):
        moved = replace(moved, status=UnitStatus.ON_HOLD)
    return moved
