"""One process at a time for the background sweeps of `mes serve` (several workers, several
hosts on one database): a PostgreSQL advisory lock, tried and never waited for."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """True when this process holds the lock `name` for the block, False when another does
    (skip this round). PostgreSQL: a transaction-level advisory lock on a connection of its
    own, let go when the block ends (or the connection drops). SQLite: True (its one process
    sweeps; it serialises writers anyway)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        got = (
            await conn.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"),
                {"name": name},
            )
        ).scalar_one()
        try:
            yield bool(got)
        finally:
            await conn.rollback()  # ends the transaction: the lock goes with it
