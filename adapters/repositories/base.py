"""The base of every SQL repository: one AsyncConnection (one transaction), every statement
after the deferred PostgreSQL writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.pg import Pg

CHUNK = 1000


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SqlRepository:
    def __init__(self, conn: AsyncConnection, pg: Pg | None = None):
        self.conn = conn
        #: the hot statements written for PostgreSQL (adapters/pg.py); None on SQLite
        self.pg = pg if pg is not None else Pg.for_connection(conn)

    async def _exec(self, statement: Any, parameters: Any = None) -> Any:
        """Every Core statement: after the deferred PostgreSQL writes (adapters/pg.py)."""
        if self.pg is not None:
            await self.pg.flush()
        return await self.conn.execute(statement, parameters)

    def _conflict_insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that takes ON CONFLICT clauses, in this connection's dialect."""
        if self.conn.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def _upsert(self, table: Table, values: dict[str, Any], keys: list[str]) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE: concurrent upserts of one key never collide."""
        ins = self._conflict_insert(table).values(**values)
        changes = {k: ins.excluded[k] for k in values if k not in keys}
        stmt = (
            ins.on_conflict_do_update(index_elements=keys, set_=changes)
            if changes
            else ins.on_conflict_do_nothing(index_elements=keys)
        )
        await self._exec(stmt)

    async def _insert_ignore(self, table: Table, values: dict[str, Any], keys: list[str]) -> Any:
        """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING id: the new id, or None when the
        key is taken (PostgreSQL waits for a concurrent inserter to finish first)."""
        ins = self._conflict_insert(table).values(**values)
        stmt = ins.on_conflict_do_nothing(index_elements=keys).returning(table.c.id)
        return (await self._exec(stmt)).scalar_one_or_none()

    async def _one(self, stmt: Select[Any], for_update: bool = False) -> Any:
        if for_update:
            stmt = stmt.with_for_update()
        return (await self._exec(stmt)).first()

    async def _existing(self, column: Any, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(sorted(set(keys))):
            found.update((await self._exec(select(column).where(column.in_(part)))).scalars())
        return found
