"""Exactly-once under concurrency, with real concurrent connections (DOMAIN.md §4, §9).

On PostgreSQL senders really overlap (advisory lock per key, row locks per unit); SQLite
serializes writers (BEGIN IMMEDIATE) and must give the same answers."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from adapters import tables as t
from domain.enums import IngestStatus
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.ingest_builders import ACTOR, IngestFactory

SENDERS = 10


async def count_rows(services: Services, table: t.Table, where: object) -> int:
    async with services.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(where))).scalar_one()  # type: ignore[arg-type]
        )


async def test_many_senders_of_one_key_give_one_accepted(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    sn = f.sns[0]
    env = f.envelope(f.aoi_input(sn, key=unique("SAME")))
    outcomes = await asyncio.gather(*(services.ingest.ingest(env, ACTOR) for _ in range(SENDERS)))
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {IngestStatus.ACCEPTED: 1, IngestStatus.DUPLICATE: SENDERS - 1}, [
        (o.status, o.error) for o in outcomes
    ]
    event_ids = {o.event.id for o in outcomes if o.event}
    assert len(event_ids) == 1
    assert (
        await count_rows(services, t.ingest_event, t.ingest_event.c.dedupe_key == env.dedupe_key)
        == 1
    )
    unit_id = (await services.store.units([sn]))[sn].id
    assert await count_rows(services, t.track, t.track.c.unit_id == unit_id) == 1
    # void_pct and img by their specs, lamp_hours without one (unmappedNames: STORE)
    assert (
        await count_rows(services, t.data_value, t.data_value.c.ingest_event_id.in_(event_ids)) == 3
    )


async def test_different_events_for_one_unit_at_one_step_give_one_accepted(
    services: Services,
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    sn = f.sns[0]
    envs = [f.envelope(f.aoi_input(sn, key=unique("E"))) for _ in range(SENDERS)]
    outcomes = await asyncio.gather(*(services.ingest.ingest(e, ACTOR) for e in envs))
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {IngestStatus.ACCEPTED: 1, IngestStatus.REJECTED: SENDERS - 1}
    # the others saw the unit at the next step, a TEST step: STEP_MISMATCH
    codes = Counter(o.error.code.value for o in outcomes if o.error)
    assert codes == {"STEP_MISMATCH": SENDERS - 1}
    unit = (await services.store.units([sn]))[sn]
    assert (unit.status.value, unit.current_step_no) == ("QUEUED", 20)
    assert await count_rows(services, t.track, t.track.c.unit_id == unit.id) == 1
    rejected_keys = [e.dedupe_key for e, o in zip(envs, outcomes, strict=True) if o.error]
    assert (
        await count_rows(
            services, t.ingest_rejection, t.ingest_rejection.c.dedupe_key.in_(rejected_keys)
        )
        == SENDERS - 1
    )


async def test_concurrent_events_for_different_units_all_pass(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=SENDERS)
    envs = [f.envelope(f.aoi_input(sn)) for sn in f.sns]
    outcomes = await asyncio.gather(*(services.ingest.ingest(e, ACTOR) for e in envs))
    assert [o.status for o in outcomes] == [IngestStatus.ACCEPTED] * SENDERS
    runs = await services.store.runs([f.run_no])
    assert runs[f.run_no].status.value == "IN_PROGRESS"


async def test_one_refused_input_sent_at_once_leaves_one_rejection(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    env = f.envelope(f.aoi_input(f.code("NOBODY"), key=unique("R")))
    outcomes = await asyncio.gather(*(services.ingest.ingest(env, ACTOR) for _ in range(SENDERS)))
    assert {o.error.code.value for o in outcomes if o.error} == {"UNIT_NOT_FOUND"}
    assert {o.rejection.id for o in outcomes if o.rejection} == {outcomes[0].rejection.id}  # type: ignore[union-attr]
    assert max(o.rejection.attempts for o in outcomes if o.rejection) == SENDERS
    assert (
        await count_rows(
            services, t.ingest_rejection, t.ingest_rejection.c.dedupe_key == env.dedupe_key
        )
        == 1
    )


async def test_senders_of_one_test_result_under_different_keys_give_one_accepted(
    services: Services,
) -> None:
    """A tester resending one result (its own testResultId) under new dedupeKeys, all at once:
    one ACCEPTED, every other a DUPLICATE of it (the units' locks queue them; issue 10)."""
    f = await IngestFactory(services.bus).build(units=2)
    for sn in f.sns:
        assert (await services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR)).error is None
    boards: list[tuple[str, str, float, float | None]] = [
        (sn, "Failed", 1000.0, 3.3) for sn in f.sns
    ]
    tx = unique("TX")
    envs = [
        f.envelope({**f.ict_input(boards), "payload": f.ict_payload(boards, tx=tx)})
        for _ in range(SENDERS)
    ]
    outcomes = await asyncio.gather(*(services.ingest.ingest(e, ACTOR) for e in envs))
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {IngestStatus.ACCEPTED: 1, IngestStatus.DUPLICATE: SENDERS - 1}, [
        (o.status, o.error) for o in outcomes
    ]
    assert len({o.event.id for o in outcomes if o.event}) == 1
    units = await services.store.units(f.sns)
    assert (
        await count_rows(services, t.track, t.track.c.unit_id.in_([u.id for u in units.values()]))
        == 4
    )
    assert (
        await count_rows(services, t.test_result_key, t.test_result_key.c.test_result_id == tx) == 2
    )
