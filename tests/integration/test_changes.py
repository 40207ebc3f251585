"""Changes announced on a unit of work reach subscribers at commit and never after a rollback:
one contract, run against the fake and the SQL unit of work on both databases (PostgreSQL:
NOTIFY in the transaction, LISTEN on one connection)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.changes import MAX_PAYLOAD_BYTES, LocalFeed, PgFeed, decode, encode
from adapters.uow import SqlUnitOfWork
from domain.changes import Change, IngestCommitted, SubscriberTooSlow, UnitsChanged
from domain.enums import IngestStatus
from domain.master import Line
from domain.ports import UnitOfWork
from graphql_api.bootstrap import Services
from tests.conftest import count_statements, unique
from tests.fakes import FakeUnitOfWorkFactory
from tests.ingest_builders import IngestFactory


async def _contract(new_uow: Callable[[], UnitOfWork], feed: LocalFeed) -> None:
    stream = await feed.subscribe(100)
    try:
        rolled, failed, kept = unique("RB"), unique("FAIL"), unique("OK")
        async with new_uow() as uow:
            await uow.lines.upsert(Line(unique("L"), "rolled back"))
            uow.publish(UnitsChanged((rolled,)))
            await uow.rollback()
        with pytest.raises(RuntimeError):
            async with new_uow() as uow:
                uow.publish(UnitsChanged((failed,)))
                raise RuntimeError("the use case failed before commit")
        async with new_uow() as uow:
            await uow.lines.upsert(Line(unique("L"), "kept"))
            uow.publish(UnitsChanged((kept,)))
            uow.publish(IngestCommitted(IngestStatus.REJECTED, "SRC", rejection_id=7))
            await uow.commit()
        seen: list[Change] = []
        # other tests' commits may be announced too (PostgreSQL: this session's database)
        while IngestCommitted(IngestStatus.REJECTED, "SRC", rejection_id=7) not in seen:
            seen.append(await asyncio.wait_for(anext(stream), 10))
        ours = [
            c for c in seen if isinstance(c, UnitsChanged) and c.sns[0] in (rolled, failed, kept)
        ]
        assert ours == [UnitsChanged((kept,))]
    finally:
        stream.close()


async def test_the_fake_announces_at_commit_only() -> None:
    factory = FakeUnitOfWorkFactory()
    await _contract(factory, factory.store.feed)
    assert factory.store.published[0] == UnitsChanged(factory.store.published[0].sns)  # type: ignore[union-attr]


async def test_the_sql_unit_of_work_announces_at_commit_only(
    engine: AsyncEngine, services: Services
) -> None:
    try:
        await _contract(lambda: SqlUnitOfWork(engine, feed=services.feed), services.feed)
    finally:
        await services.feed.aclose()


@pytest.mark.postgres_only
async def test_the_notify_rides_with_the_last_writes_of_an_accept(
    engine: AsyncEngine, services: Services
) -> None:
    """No statement of its own: the NOTIFY is the tail of the statement that writes the audit
    row (and whatever else was deferred) at commit."""
    f = await IngestFactory(services.bus).build(units=1)
    env = f.envelope(f.aoi_input(f.sns[0]))
    with count_statements(engine) as seen:
        from tests.ingest_builders import ACTOR

        outcome = await services.ingest.ingest(env, ACTOR)
    assert outcome.status is IngestStatus.ACCEPTED
    notifies = [s for s in seen if "pg_notify" in s]
    assert len(notifies) == 1 and "INSERT INTO audit_event" in notifies[0], seen


def test_payloads_stay_under_the_notify_limit_and_read_back() -> None:
    sns = tuple(f"SN-{i:06d}-{'x' * 40}" for i in range(1000))
    changes: list[Change] = [
        UnitsChanged(sns),
        IngestCommitted(IngestStatus.ACCEPTED, "AOI", "L1", event_id=2**62),
        UnitsChanged(()),
    ]
    payloads = encode(changes)
    assert len(payloads) > 2 and all(len(p.encode()) < MAX_PAYLOAD_BYTES for p in payloads)
    decoded = [decode(p) for p in payloads]
    assert decoded[-1] == changes[1]
    assert sum((d.sns for d in decoded[:-1] if isinstance(d, UnitsChanged)), ()) == sns
    assert decode('{"t":"?"}') is None and decode("not json") is None


async def test_a_subscriber_that_falls_behind_is_dropped_holding_nothing() -> None:
    feed = LocalFeed()
    calls: list[str] = []
    slow = await feed.subscribe(3, on_overflow=lambda: calls.append("overflow"))
    fast = await feed.subscribe(100)
    feed.publish(UnitsChanged((str(i),)) for i in range(50))
    assert calls == ["overflow"] and feed.subscribers == 1
    assert slow.queue.qsize() == 1  # only the mark that ends it
    with pytest.raises(SubscriberTooSlow):
        await anext(slow)
    assert fast.queue.qsize() == 50


@pytest.mark.postgres_only
async def test_the_listening_connection_is_reopened_when_it_drops(
    engine: AsyncEngine, services: Services
) -> None:
    feed = services.feed
    assert isinstance(feed, PgFeed)
    stream = await feed.subscribe(100)
    try:
        async with engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
        assert killed >= 1  # ours (and any a test left open)
        await asyncio.wait_for(feed.opened(2), 15)
        sn = unique("AFTER")
        async with SqlUnitOfWork(engine, feed=feed) as uow:
            uow.publish(UnitsChanged((sn,)))
            await uow.commit()
        while (change := await asyncio.wait_for(anext(stream), 10)) != UnitsChanged((sn,)):
            assert isinstance(change, Change)
    finally:
        stream.close()
        await feed.aclose()
