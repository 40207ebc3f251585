"""The hot statements written for PostgreSQL (adapters/pg.py): they run straight on the driver
only inside SQLAlchemy's begun transaction and only when nothing listens to SQLAlchemy's
statements; otherwise through SQLAlchemy, with the same SQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.pg import Pg
from adapters.read_store import SqlReadStore
from adapters.uow import SqlUnitOfWork
from tests.conftest import count_statements, unique

pytestmark = pytest.mark.postgres_only


async def test_a_statement_goes_to_the_driver_only_inside_the_begun_transaction(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as u:
        pg = u.stations.pg
        assert pg is not None
        # SQLAlchemy begins lazily: the first statement must be its own, or it runs outside
        assert await pg._direct() is None
        with count_statements(engine) as seen:
            await u.ingest_events.lock_key("SRC", unique("k"))
        assert seen == ["SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"]
        driver = await pg._direct()
        assert driver is not None and driver.is_in_transaction()
        assert await u.stations.get(unique("none")) is None


async def test_observed_statements_go_through_sqlalchemy_with_the_same_sql(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("SRC", unique("k"))
        with count_statements(engine) as seen:
            assert await u.stations.get(unique("none")) is None
            assert await u.units.get_many([unique("none")], for_update=True) == []
        assert seen == [
            "SELECT code, name, station_type, line_code, group_code FROM station WHERE code = $1",
            "SELECT id, sn, wo_no, run_no, status, current_step_no, created_at, step_fails, "
            "held_from FROM unit WHERE sn = ANY($1::varchar[]) ORDER BY sn FOR UPDATE",
        ]


async def test_a_read_in_autocommit_needs_no_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        pg = Pg(conn, autocommit=True)
        assert await pg._direct() is not None


async def test_a_key_with_nul_finds_nothing_instead_of_failing(engine: AsyncEngine) -> None:
    """PostgreSQL refuses NUL in text; the Core statements' SafeString scrubs it, so must these."""
    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("S\x00RC", "k\x00ey")
        assert await u.stations.get("ST\x00") is None
        assert await u.units.get_many(["SN\x00"]) == []
        assert await u.ingest_events.get_by_key("S\x00RC", "k\x00ey") is None
    assert await SqlReadStore(engine).token_by_lookup("look\x00up") is None


async def test_a_listener_added_mid_transaction_sees_every_later_statement(
    engine: AsyncEngine,
) -> None:
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("SRC", unique("k"))
        await u.stations.get(unique("none"))  # straight to the driver: not seen
        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        try:
            await u.stations.get(unique("none"))
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
    assert seen == ["SELECT"]
