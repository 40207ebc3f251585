"""The migrations build exactly the tables the adapters use, on a fresh database of each backend,
and walk down to nothing and up again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import create_engine
from adapters.migrate import downgrade, is_up_to_date, upgrade
from adapters.tables import metadata
from tests.pg import pg_admin


@pytest.fixture
async def fresh_engine(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    """An engine on a database nobody migrated yet (a temp file, or an extra PostgreSQL
    database dropped afterwards)."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        await engine.dispose()
        return
    session_url: str = request.getfixturevalue("pg_url")  # skips when PostgreSQL is unreachable
    name = f"mes_mig_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(session_url).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        await engine.dispose()
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def schema_differences(engine: AsyncEngine) -> list[Any]:
    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def test_fresh_database_is_not_up_to_date(fresh_engine: AsyncEngine) -> None:
    assert await is_up_to_date(fresh_engine) is False
    assert await table_names(fresh_engine) == set()


async def test_upgrade_to_head_matches_the_tables_exactly(fresh_engine: AsyncEngine) -> None:
    await upgrade(fresh_engine)
    assert await is_up_to_date(fresh_engine) is True
    assert await table_names(fresh_engine) == set(metadata.tables) | {"alembic_version"}
    assert await schema_differences(fresh_engine) == []
    await upgrade(fresh_engine)  # again: nothing to do
    assert await is_up_to_date(fresh_engine) is True


async def test_downgrade_to_base_and_up_again(fresh_engine: AsyncEngine) -> None:
    await upgrade(fresh_engine)
    await downgrade(fresh_engine, "base")
    assert await table_names(fresh_engine) == {"alembic_version"}
    assert await is_up_to_date(fresh_engine) is False
    async with fresh_engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert versions == []
    await upgrade(fresh_engine)
    assert await is_up_to_date(fresh_engine) is True
    assert await schema_differences(fresh_engine) == []


async def test_0009_moves_sn_counters_to_prefixes_and_fills_in_count_products(
    fresh_engine: AsyncEngine,
) -> None:
    """run.sn_seq (per run) becomes the counter of the run's default prefix `{runNo}-`, and
    back (issue 16 item 10); production counts of a run get its product (item 11)."""
    await upgrade(fresh_engine, "0007")
    async with fresh_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO routing (code, name, source_system, is_active) "
                "VALUES ('R', 'R', 'T', true)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO route_version (id, routing_code, version_no, status, compiled_at, "
                "route, steps, errors) "
                "VALUES (1, 'R', 1, 'READY', CURRENT_TIMESTAMP, '{}', '[]', '[]')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO work_order (wo_no, product_code, planned_qty, status) "
                "VALUES ('WO', 'P', 5, 'IN_PROGRESS')"
            )
        )
        for run_no, seq in (("RUN-A", 7), ("RUN-B", 0)):
            await conn.execute(
                text(
                    "INSERT INTO run (run_no, wo_no, status, plan_qty, route_version_id, "
                    "created_at, sn_seq) VALUES (:r, 'WO', 'PREP', 5, 1, CURRENT_TIMESTAMP, :seq)"
                ),
                {"r": run_no, "seq": seq},
            )
        # a unit on RUN-A: on SQLite, 0009 rebuilds `run` (and 0008's downgrade
        # `route_version`), which rows point at
        await conn.execute(
            text(
                "INSERT INTO unit (sn, wo_no, run_no, status, created_at) "
                "VALUES ('RUN-A-0001', 'WO', 'RUN-A', 'QUEUED', CURRENT_TIMESTAMP)"
            )
        )
        counts: list[tuple[str, str | None, str | None]] = [
            ("E1", "RUN-A", None),
            ("E2", None, None),
            ("E3", "X", "Q"),
        ]
        for event, count_run, product in counts:
            await conn.execute(
                text(
                    "INSERT INTO production_count (event_id, input_hash, line_code, run_no, "
                    "product_code, quantity, started_at, ended_at, modules, picked, placed, "
                    "received_at) VALUES (:e, 'h', 'L', :r, :p, 1, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, '[]', 0, 0, CURRENT_TIMESTAMP)"
                ),
                {"e": event, "r": count_run, "p": product},
            )
    await upgrade(fresh_engine)
    async with fresh_engine.connect() as conn:
        counters = (await conn.execute(text("SELECT prefix, last_value FROM sn_sequence"))).all()
        products = (
            await conn.execute(
                text("SELECT event_id, product_code FROM production_count ORDER BY event_id")
            )
        ).all()
    assert [tuple(c) for c in counters] == [("RUN-A-", 7)]
    # a record of a run gets the run's product; one without a run, or of an unknown run, keeps
    # what it had
    assert [tuple(p) for p in products] == [("E1", "P"), ("E2", None), ("E3", "Q")]
    await downgrade(fresh_engine, "0007")
    async with fresh_engine.connect() as conn:
        seqs = (await conn.execute(text("SELECT run_no, sn_seq FROM run ORDER BY run_no"))).all()
    assert [tuple(s) for s in seqs] == [("RUN-A", 7), ("RUN-B", 0)]
