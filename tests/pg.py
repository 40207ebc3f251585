"""The PostgreSQL admin connection the tests use to create and drop their databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.db import create_engine
from adapters.migrate import upgrade

#: the server's admin database (TEST_DATABASE_URL; default: the local server)
PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def pg_admin(sql: str, timeout: float = 15) -> None:
    """Run one statement on the admin database, from a thread with its own event loop
    (fixtures may be set up while pytest-asyncio's loop is running)."""

    async def run() -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(run(), timeout)).result()


@contextlib.asynccontextmanager
async def fresh_database(
    backend: str, folder: Path, pg_url: str | None, prefix: str = "mes_db"
) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A migrated database of its own, its URL and engine: a SQLite file in `folder`, or a
    PostgreSQL database made beside `pg_url`'s; the engine disposed and the database dropped
    after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
    else:
        assert pg_url is not None, "a PostgreSQL database is made beside the session's"
        pg_admin(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(database=name).render_as_string(False)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield url, engine
    finally:
        await engine.dispose()
        if backend != "sqlite":
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
