"""§4 step 9: everything an accepted event writes, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.changes import IngestCommitted, UnitsChanged
from domain.enums import IngestStatus, RunStatus, TrackResult, TrackSource
from domain.execution import (
    CarrierLoad,
    CarrierTrack,
    DataValue,
    IngestEnvelope,
    IngestEvent,
    IngestRejection,
    Track,
)
from domain.holding import open_hold
from domain.holds import ALARM_REASON
from domain.ingest.data import JudgedValue, StepData
from domain.ingest.envelope import stored_input
from domain.ingest.resolve import Resolved, Verdict
from domain.ingest.retests import keys_of
from domain.lifecycle import advance, attempt_of, event_result
from domain.mapping.normalize import NormalizedPayload
from domain.ports import UnitOfWork
from domain.routes import RouteStep

DERIVED_KEY = "{key}#{sn}"


class Writer:
    def __init__(
        self,
        uow: UnitOfWork,
        now: datetime,
        unmapped: dict[str, None],
        token_name: str | None = None,
    ):
        self.uow = uow
        self.now = now
        self.unmapped = unmapped
        #: the sender's token, kept on the PARTIAL rejections (a replay checks its binding)
        self.token_name = token_name

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
        # the machine's start time (`startedAtPath`) when it sends one, else no duration
        started_at = normalized.started_at or occurred_at
        ok = [v for v in verdicts if v.error is None]
        refused = [v for v in verdicts if v.error is not None]
        carrier_values = carrier_data.values if carrier_data else ()
        overall = event_result(v.result for v in ok)
        if carrier_data is not None and normalized.event_result is not None:
            overall = event_result((overall, normalized.event_result))
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
                    "startedAt": started_at.isoformat(),
                    "recipe": normalized.recipe,
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
        uow.publish(
            IngestCommitted(
                IngestStatus.ACCEPTED, event.source_system, event.line_code, event_id=event.id
            )
        )
        await uow.ingest_events.add_tester_results(
            keys_of(env, normalized.test_result_id, event.id, ok)
        )
        source = TrackSource(env.event_type.value)
        carrier_track: CarrierTrack | None = None
        if carrier_data is not None:
            carrier_track = await self._carrier_writes(
                resolved, ok, step, normalized, (started_at, occurred_at), overall, event.id
            )
            await uow.data_values.add_many(
                [
                    _value(jv, source, occurred_at, event.id, carrier_track_id=carrier_track.id)
                    for jv in carrier_values
                ]
            )
        else:
            # recorded at a step that is not BATCH: the units are off their carriers
            await uow.carriers.close_loads_of_units([v.unit.id or 0 for v in ok], occurred_at)
        await uow.tracks.add_with_values(
            [
                (
                    Track(
                        unit_id=v.unit.id or 0,
                        unit_sn=v.unit.sn,
                        run_no=resolved.run.run_no,
                        step_no=step.step_no,
                        attempt=attempt_of(v.unit),
                        operation_code=step.operation_code,
                        source=source,
                        station_code=normalized.station_code,
                        in_at=started_at,
                        out_at=occurred_at,
                        result=v.result,
                        ingest_event_id=event.id,
                        carrier_track_id=carrier_track.id if carrier_track else None,
                    ),
                    [_value(jv, source, occurred_at, event.id) for jv in v.values],
                )
                for v in ok
            ]
        )
        carrier_holds = any(jv.holds for jv in carrier_values)
        alarmed = [carrier_holds or any(jv.holds for jv in v.values) for v in ok]
        moved = [advance(v.unit, v.result, resolved.version, step) for v in ok]
        await uow.units.update_many([m for m, hold in zip(moved, alarmed, strict=True) if not hold])
        uow.publish(UnitsChanged.of(v.unit for v in ok))
        to_hold = [m for m, hold in zip(moved, alarmed, strict=True) if hold]
        if to_hold:
            # an alarm with action HOLD holds the unit after the advance, in a Hold of its own
            await open_hold(uow, to_hold, ALARM_REASON, env.source_system, self.now)
        if resolved.run.status is RunStatus.AUTHORIZED:
            # the run is held since step 3 (resolve): only another execution can have
            # started it meanwhile, so a row count of 0 means it is IN_PROGRESS already
            await uow.runs.set_status_if(
                resolved.run.run_no, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS
            )
        await uow.rejections.resolve_key(env.source_system, env.dedupe_key, event.id)
        for v in refused:
            await self._partial_rejection(env, input_hash, v, event.line_code)
        return event

    async def _carrier_writes(
        self,
        resolved: Resolved,
        ok: list[Verdict],
        step: RouteStep,
        normalized: NormalizedPayload,
        span: tuple[datetime, datetime],
        overall: TrackResult,
        event_id: int,
    ) -> CarrierTrack:
        """The carrier (created if new), its loads, and its CarrierTrack. A unit list makes
        those units the carrier's loads (closing their other open loads); a carrier-only event
        uses the open loads. The loads stay open for the next BATCH step (reflow then wash):
        they close on unloadCarrier, on a load elsewhere, or at a step that is not BATCH."""
        uow = self.uow
        started_at, occurred_at = span
        assert normalized.carrier_code is not None
        carrier = await uow.carriers.get_or_create(normalized.carrier_code, self.now)
        assert carrier.id is not None
        unit_ids = [v.unit.id or 0 for v in ok]
        if resolved.carrier is None or normalized.sns_given:
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
        return await uow.carriers.add_track(
            CarrierTrack(
                carrier_id=carrier.id,
                run_no=resolved.run.run_no,
                step_no=step.step_no,
                source=TrackSource.BATCH,
                station_code=normalized.station_code,
                in_at=started_at,
                out_at=occurred_at,
                result=overall,
                ingest_event_id=event_id,
            )
        )

    async def _partial_rejection(
        self, env: IngestEnvelope, input_hash: str, v: Verdict, line_code: str | None
    ) -> None:
        """A unit PARTIAL refused: its own rejection, replayable under `dedupeKey#sn`
        (announced as a REJECTED ingest of the event's line)."""
        assert v.error is not None
        key = DERIVED_KEY.format(key=env.dedupe_key, sn=v.unit.sn)
        existing = await self.uow.rejections.find_open(env.source_system, key, input_hash)
        if existing is not None:
            return
        rejection = await self.uow.rejections.add(
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
                token_name=self.token_name,
            )
        )
        self.uow.publish(
            IngestCommitted(
                IngestStatus.REJECTED, env.source_system, line_code, rejection_id=rejection.id
            )
        )


def _value(
    jv: JudgedValue,
    source: TrackSource,
    at: datetime,
    event_id: int,
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
        carrier_track_id=carrier_track_id,
        ingest_event_id=event_id,
    )
