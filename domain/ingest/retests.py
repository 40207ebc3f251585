"""Retests by the tester's own id (DOMAIN.md §4, issue 10): for TEST events
(sourceSystem, testResultId, sn) is an idempotency key too, checked right after step 3 (before
unit state, so a resend after the board moved on is still recognised).

What is compared is the unit's reading: the payload read through the step mapping of the event
that first recorded that unit (the board may stand elsewhere now), its result (PASS/FAIL by
the mapping's vocabulary) and its measurements (name, value, unit, judge, in the order sent),
as a digest stored with the key. The same reading again is DUPLICATE of that first event;
another one is IDEMPOTENCY_CONFLICT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from domain.enums import IngestEventType, StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.envelope import document_hash
from domain.ingest.records import IngestEnvelope, IngestEvent, TesterResultKey
from domain.ingest.resolve import MappingCache, Resolved, Verdict
from domain.mapping.normalized import UnitReading
from domain.ports import UnitOfWork
from domain.routes import RouteVersion


def reading_digest(reading: UnitReading) -> str:
    """What a unit's result is compared by: its result and measurements as normalized."""
    compared: dict[str, Any] = {
        "result": reading.result.value,
        "measurements": [[m.name, m.value, m.unit, m.judge] for m in reading.measurements],
    }
    if reading.skipped is not None:
        compared["skipped"] = reading.skipped  # a skip value (X_OUT): not the same as ERROR
    return document_hash(compared)


def tester_result_ids(
    mappings: MappingCache, version: RouteVersion, root: dict[str, Any]
) -> list[str]:
    """The tester ids the TEST steps' mappings of the run's version read in the payload (one,
    as a rule: a tester's mappings share the path)."""
    found: dict[str, None] = {}
    for step in version.steps:
        if step.station_type is not StationType.TEST:
            continue
        mapping = mappings.get(version, step)
        test_id = mapping.pick(root).test_result_id_of(root) if mapping else None
        if test_id is not None:
            found[test_id] = None
    return list(found)


async def recognise_retest(
    uow: UnitOfWork,
    mappings: MappingCache,
    env: IngestEnvelope,
    root: dict[str, Any],
    resolved: Resolved,
) -> tuple[IngestEvent | None, Resolved]:
    """The first event when every unit's result under this tester id is recorded already with
    the same reading (the caller answers DUPLICATE); otherwise the units still to judge (those
    recorded the same are left out). Another reading for a recorded unit:
    IDEMPOTENCY_CONFLICT. The caller holds the units' locks (step 3), so concurrent senders
    of one result queue there and the later one finds the earlier's key."""
    if env.event_type is not IngestEventType.TEST:
        return None, resolved
    ids = tester_result_ids(mappings, resolved.version, root)
    if not ids:
        return None, resolved
    keys = await uow.ingest_events.tester_results(
        env.source_system, ids, [u.id for u in resolved.units if u.id is not None]
    )
    if not keys:
        return None, resolved
    events: dict[int, IngestEvent | None] = {}
    readings: dict[int, dict[str, UnitReading]] = {}
    sn_of = {u.id: u.sn for u in resolved.units}
    recorded: set[int] = set()
    for key in sorted(keys, key=lambda k: k.event_id):
        if key.event_id not in events:
            events[key.event_id] = await uow.ingest_events.get_by_id(key.event_id)
            readings[key.event_id] = _readings_by(
                events[key.event_id], mappings, resolved.version, root
            )
        sn = sn_of[key.unit_id]
        again = readings[key.event_id].get(sn)
        if again is None or reading_digest(again) != key.digest:
            raise DomainError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                f"test result {key.test_result_id!r} of {env.source_system} was recorded for "
                f"unit {sn} with another result",
                {
                    "existingEventId": str(key.event_id),
                    "sn": sn,
                    "testResultId": key.test_result_id,
                },
            )
        recorded.add(key.unit_id)
    rest = [u for u in resolved.units if u.id not in recorded]
    if not rest:
        return events[min(events)], resolved
    return None, replace(resolved, units=rest)


def _readings_by(
    event: IngestEvent | None, mappings: MappingCache, version: RouteVersion, root: dict[str, Any]
) -> dict[str, UnitReading]:
    """The payload's unit readings through the step mapping of the event that first recorded
    them (nothing when that no longer reads it)."""
    step = version.step(event.step_no) if event and event.step_no is not None else None
    mapping = mappings.get(version, step) if step else None
    if mapping is None:
        return {}
    try:
        normalized = mapping.pick(root).normalize(root, StationType.TEST)
    except DomainError:
        return {}
    return {r.sn: r for r in normalized.units}


def keys_of(
    env: IngestEnvelope, test_result_id: str | None, ok: Sequence[Verdict]
) -> list[TesterResultKey]:
    """The keys an accepted TEST event records, one per unit it recorded (their event id, 0
    here, is set when the event is stored)."""
    if env.event_type is not IngestEventType.TEST or test_result_id is None:
        return []
    return [
        TesterResultKey(env.source_system, test_result_id, v.unit.id, 0, reading_digest(v.reading))
        for v in ok
        if v.unit.id is not None and v.reading is not None
    ]
