"""§4 step 9: everything an accepted event writes, in the caller's transaction, from one
`Accepted` value: what it writes (`EventWrites`: the event row, the tester keys, a BATCH
event's carrier writes, the tracks with their values, the units' advance, the boards a skip
value marked X_OUT with their dispositions, the run's start),
stored by one operation (`uow.ingest_writes.record`, which also resolves the key's
rejections); then the hold of its alarmed units and the PARTIAL rejections it leaves."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain import run_states as rs
from domain.carriers import CarrierTrack
from domain.changes import IngestCommitted, UnitsChanged
from domain.enums import DispositionAction, IngestStatus, TrackResult, TrackSource, UnitStatus
from domain.holding import open_hold
from domain.holds import ALARM_REASON
from domain.ingest.accept import Judgement
from domain.ingest.data import StepData
from domain.ingest.envelope import DERIVED_KEY_SEPARATOR, stored_input
from domain.ingest.records import IngestEnvelope, IngestEvent, IngestRejection
from domain.ingest.resolve import Verdict
from domain.ingest.retests import keys_of
from domain.lifecycle import advance, attempt_of, event_result
from domain.ports import CarrierWrites, EventWrites, RunStart, UnitOfWork
from domain.runs_and_units import Disposition, Unit
from domain.tracks import DataValue, Track


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event judged acceptable, with what its writes need besides the unit of work."""

    env: IngestEnvelope
    input_hash: str
    judgement: Judgement
    #: when the service received it (the event's receivedAt, a rejection's times)
    received_at: datetime
    #: the sender's token, kept on the PARTIAL rejections (a replay checks its binding)
    token_name: str | None
    #: the machine's end time, and its start time (`startedAtPath`; else no duration)
    occurred_at: datetime
    started_at: datetime
    #: the event's result, over its recorded units (and a BATCH event's own)
    result: TrackResult
    #: a parked event re-driven: when it was accepted (`received_at` stays its arrival)
    accepted_at: datetime | None = None

    @classmethod
    def of(
        cls,
        env: IngestEnvelope,
        input_hash: str,
        judgement: Judgement,
        received_at: datetime,
        token_name: str | None,
        accepted_at: datetime | None = None,
    ) -> Accepted:
        normalized = judgement.normalized
        occurred_at = normalized.occurred_at or env.occurred_at
        assert occurred_at is not None
        result = event_result(v.result for v in judgement.ok)
        if judgement.carrier_data is not None and normalized.event_result is not None:
            result = event_result((result, normalized.event_result))
        return cls(
            env,
            input_hash,
            judgement,
            received_at,
            token_name,
            occurred_at,
            normalized.started_at or occurred_at,
            result,
            accepted_at,
        )

    @property
    def ok(self) -> tuple[Verdict, ...]:
        """The units recorded (PARTIAL leaves the refused ones out)."""
        return self.judgement.ok

    @property
    def named(self) -> tuple[Verdict, ...]:
        """The units the event is about, in its order: those recorded and those it marked
        X_OUT (linked to the event, listed in its snList and normalized units)."""
        j = self.judgement
        if not j.x_outs:
            return j.ok
        order = {u.sn: i for i, u in enumerate(j.resolved.units)}
        return tuple(sorted(j.ok + j.x_outs, key=lambda v: order.get(v.unit.sn, 0)))

    @property
    def source(self) -> TrackSource:
        return TrackSource(self.env.event_type.value)


async def write_accepted(uow: UnitOfWork, a: Accepted) -> IngestEvent | None:
    """Everything in the caller's transaction; None when another sender's event took the
    key meanwhile (the caller looks again). What the event writes is computed here
    (`_writes`) and stored by one operation; the hold of its alarmed units and its PARTIAL
    rejections follow (they read what is stored first)."""
    advancing, to_hold = _moved(a)
    event = await uow.ingest_writes.record(_writes(a, advancing))
    if event is None or event.id is None:
        return None
    uow.publish(
        IngestCommitted(
            IngestStatus.ACCEPTED, event.source_system, event.line_code, event_id=event.id
        )
    )
    uow.publish(UnitsChanged.of(v.unit for v in a.named))
    if to_hold:
        await open_hold(uow, to_hold, ALARM_REASON, a.env.source_system, a.received_at)
    for v in a.judgement.refused:
        await _partial_rejection(uow, a, v, event.line_code)
    return event


def _writes(a: Accepted, advancing: list[Unit]) -> EventWrites:
    """The event row, its tester keys, its carrier writes (BATCH), its tracks with their
    values, the units it advances and the run it starts; the ids of what is inserted on the
    way are set when stored (event id 0 or None here)."""
    j = a.judgement
    run = j.resolved.run
    started = rs.moved(run, rs.RunAction.EXECUTE)
    return EventWrites(
        event=_event_row(a),
        unit_ids=tuple(v.unit.id for v in a.named if v.unit.id is not None),
        # a resend under the tester's id finds the skipped boards' readings too (DUPLICATE)
        tester_keys=tuple(keys_of(a.env, j.normalized.test_result_id, a.named)),
        carrier=None if j.carrier_data is None else _carrier_writes(a, j.carrier_data),
        tracks=_tracks(a),
        units=tuple(advancing) + tuple(replace(v.unit, status=UnitStatus.X_OUT) for v in j.x_outs),
        # an AUTHORIZED run's first event starts it
        run_start=None if started is run else RunStart(run.run_no, run.status, started.status),
        dispositions=tuple(_x_out(a, v) for v in j.x_outs),
    )


def _x_out(a: Accepted, v: Verdict) -> Disposition:
    """A board the machine skipped (a skip value): X_OUT at its step, by the reading's
    operator, at the event's time, the reason naming the event (no migration: the
    disposition has no event column)."""
    assert v.reading is not None and v.reading.skipped is not None
    unit, env = v.unit, a.env
    return Disposition(
        unit_id=unit.id or 0,
        action=DispositionAction.X_OUT,
        reason=(
            f"marked X_OUT by event {env.source_system}/{env.dedupe_key} at step "
            f"{a.judgement.step.step_no} (result {v.reading.skipped!r})"
        ),
        at=a.occurred_at,
        from_status=unit.status,
        to_status=UnitStatus.X_OUT,
        from_step_no=unit.current_step_no,
        to_step_no=unit.current_step_no,
        operator_id=v.reading.operator,
    )


def _event_row(a: Accepted) -> IngestEvent:
    """The event as recorded: its place, its units and result, and in `normalized` what the
    judging saw (values per unit, unmapped names, KEY failures, PARTIAL refusals)."""
    env, j = a.env, a.judgement
    normalized = j.normalized
    sns = [v.unit.sn for v in a.named]
    return IngestEvent(
        source_system=env.source_system,
        dedupe_key=env.dedupe_key,
        input_hash=a.input_hash,
        event_type=env.event_type,
        occurred_at=a.occurred_at,
        received_at=a.received_at,
        payload=env.payload,
        run_no=j.resolved.run.run_no,
        step_no=j.step.step_no,
        station_code=normalized.station_code,
        line_code=normalized.line_code,
        sn=sns[0] if len(sns) == 1 else None,
        sn_list=tuple(sns),
        carrier_code=normalized.carrier_code,
        test_result_id=normalized.test_result_id,
        # an event whose every board was skipped gave no verdict (as an INFO event gives none)
        result=a.result if a.ok or j.carrier_data is not None else None,
        normalized={
            "stationCode": normalized.station_code,
            "lineCode": normalized.line_code,
            "occurredAt": a.occurred_at.isoformat(),
            "startedAt": a.started_at.isoformat(),
            "recipe": normalized.recipe,
            "testResultId": normalized.test_result_id,
            "carrierCode": normalized.carrier_code,
            "stepNo": j.step.step_no,
            "units": [_unit_entry(v, j.x_outs) for v in a.named],
            "carrierValues": len(j.carrier_data.values) if j.carrier_data else 0,
            "unmapped": list(j.unmapped),
            "unnamedMeasurements": normalized.unnamed_measurements,
            # X_OUT boards the event named (by position or by their panel): left out
            "xOutsLeftOut": list(j.resolved.x_outs),
            "mappingAlternative": normalized.mapping_alternative,
            "keyFailures": _key_failures(a),
            "refused": [
                {"sn": v.unit.sn, "code": v.error.code.value, "details": v.error.details}
                for v in j.refused
                if v.error
            ],
        },
        meta=env.meta,
        accepted_at=a.accepted_at,
    )


def _unit_entry(v: Verdict, x_outs: tuple[Verdict, ...]) -> dict[str, Any]:
    """A unit in the event's `normalized`: its result (X_OUT for a board the event marked), how
    many values were kept, its operator, and the skip value when the machine sent one."""
    reading = v.reading
    x_out = any(v is x for x in x_outs)
    entry: dict[str, Any] = {
        "sn": v.unit.sn,
        "result": UnitStatus.X_OUT.value if x_out else v.result.value,
        "values": 0 if x_out else len(v.values),
        "operatorId": reading.operator if reading else None,
    }
    if reading is not None and reading.skipped is not None:
        entry["skipped"] = reading.skipped
    return entry


def _key_failures(a: Accepted) -> list[dict[str, Any]]:
    """The KEY specs that failed, per unit and for the carrier."""
    failures: list[dict[str, Any]] = [
        {"sn": v.unit.sn, "specs": [jv.spec.name for jv in v.values if jv.key_failure]}
        for v in a.ok
        if any(jv.key_failure for jv in v.values)
    ]
    carrier_data = a.judgement.carrier_data
    if carrier_data is not None and carrier_data.key_failures:
        failures.append(
            {
                "carrierNo": a.judgement.normalized.carrier_code,
                "specs": list(carrier_data.key_failures),
            }
        )
    return failures


def _carrier_writes(a: Accepted, carrier_data: StepData) -> CarrierWrites:
    """BATCH: the carrier, its CarrierTrack and the carrier-level values. A unit list makes
    those units the carrier's loads (closing their other open loads); a carrier-only event
    uses the open loads."""
    j = a.judgement
    normalized = j.normalized
    assert normalized.carrier_code is not None
    return CarrierWrites(
        carrier_no=normalized.carrier_code,
        created_at=a.received_at,
        relink=j.resolved.carrier is None or normalized.sns_given,
        track=CarrierTrack(
            carrier_id=0,
            run_no=j.resolved.run.run_no,
            step_no=j.step.step_no,
            source=TrackSource.BATCH,
            station_code=normalized.station_code,
            in_at=a.started_at,
            out_at=a.occurred_at,
            result=a.result,
        ),
        values=tuple(jv.data_value(a.source, a.occurred_at) for jv in carrier_data.values),
    )


def _tracks(a: Accepted) -> tuple[tuple[Track, tuple[DataValue, ...]], ...]:
    """One track per recorded unit, with its values."""
    j = a.judgement
    return tuple(
        (
            Track(
                unit_id=v.unit.id or 0,
                unit_sn=v.unit.sn,
                run_no=j.resolved.run.run_no,
                step_no=j.step.step_no,
                attempt=attempt_of(v.unit),
                operation_code=j.step.operation_code,
                source=a.source,
                station_code=j.normalized.station_code,
                in_at=a.started_at,
                out_at=a.occurred_at,
                result=v.result,
                operator_id=v.reading.operator if v.reading else None,
            ),
            tuple(jv.data_value(a.source, a.occurred_at) for jv in v.values),
        )
        for v in a.ok
    )


def advanced_units(a: Accepted) -> list[Unit]:
    """The recorded units as the event moved them, but those an alarm holds (issue 20: the
    units whose parked events may now run)."""
    return _moved(a)[0]


def _moved(a: Accepted) -> tuple[list[Unit], list[Unit]]:
    """Each recorded unit moved on by its result: those that advance, and those an alarm
    with action HOLD names (one of its values, or one of the carrier's), held instead, in a
    Hold of their own."""
    j = a.judgement
    carrier_holds = j.carrier_data is not None and any(jv.holds for jv in j.carrier_data.values)
    advancing: list[Unit] = []
    to_hold: list[Unit] = []
    for v in a.ok:
        moved = advance(v.unit, v.result, j.resolved.version, j.step)
        held = carrier_holds or any(jv.holds for jv in v.values)
        (to_hold if held else advancing).append(moved)
    return advancing, to_hold


async def _partial_rejection(
    uow: UnitOfWork, a: Accepted, v: Verdict, line_code: str | None
) -> None:
    """A unit PARTIAL refused: its own rejection, replayable under `dedupeKey#sn`
    (announced as a REJECTED ingest of the event's line)."""
    assert v.error is not None
    env = a.env
    key = f"{env.dedupe_key}{DERIVED_KEY_SEPARATOR}{v.unit.sn}"
    existing = await uow.rejections.find_open(env.source_system, key, a.input_hash)
    if existing is not None:
        return
    rejection = await uow.rejections.add(
        IngestRejection(
            source_system=env.source_system,
            dedupe_key=key,
            input_hash=a.input_hash,
            event_type=env.event_type,
            received_at=a.received_at,
            occurred_at=env.occurred_at,
            error_code=v.error.code,
            error_message=v.error.message,
            error_details=v.error.details,
            input=stored_input(env),
            sns=(v.unit.sn,),
            restrict_to_sn=v.unit.sn,
            last_attempt_at=a.received_at,
            token_name=a.token_name,
        )
    )
    uow.publish(
        IngestCommitted(
            IngestStatus.REJECTED, env.source_system, line_code, rejection_id=rejection.id
        )
    )
