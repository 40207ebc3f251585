"""The PostgreSQL admin connection the tests use to create and drop their databases."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

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
