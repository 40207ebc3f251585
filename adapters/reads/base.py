"""What every read shares: the engine (autocommit on PostgreSQL), batch reads by key, keyset
paging and the grouping of a loader's rows.

Strawberry resolves sibling fields concurrently, so no connection is shared between loader
batches (STYLE.md). Each method issues a bounded number of statements whatever the keys.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from sqlalchemy import Select, Table, and_, or_
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.pg import Pg
from adapters.repositories import CHUNK, VersionCache

V = TypeVar("V")


class ReadBase:
    """The engine and the two ways to read: one statement, or rows by key in chunks."""

    def __init__(self, engine: AsyncEngine, versions: VersionCache | None = None):
        # reads run in autocommit on PostgreSQL: one round trip per statement instead of three
        # (BEGIN, the query, ROLLBACK); each read was its own transaction anyway. (SQLite keeps
        # its explicit BEGIN: reads there cost no round trip.)
        self.engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # frozen route versions, decoded once per process (the decode of a big snapshot
        # costs more than reading it); shared with the writers' unit of work
        self.versions = versions if versions is not None else VersionCache()

    async def _rows(self, stmt: Select[Any], pg_sql: str | None = None, *args: Any) -> list[Any]:
        """The statement's rows; on PostgreSQL, those of its written-out form `pg_sql` with
        `args` when given (straight from the driver: a page of 500 rows read through Core
        cost ~5 µs a row of Python)."""
        async with self.engine.connect() as conn:
            pg = Pg.for_connection(conn, autocommit=True) if pg_sql is not None else None
            if pg is not None and pg_sql is not None:
                return await pg.fetch(pg_sql, *args)
            return list(await conn.execute(stmt))

    async def _newest_first(
        self,
        stmt: Select[Any],
        at: Any,
        id_: Any,
        after: tuple[datetime, int] | None,
        first: int,
        convert: Callable[[Any], V],
    ) -> tuple[list[V], bool]:
        """A page of the statement's rows, newest first by (at, id) after the cursor
        (`newest_first`), converted; whether more follow."""
        found = await self._rows(newest_first(stmt, at, id_, after, first))
        return [convert(r) for r in found[:first]], len(found) > first

    async def _in(
        self,
        stmt: Select[Any],
        column: Any,
        keys: Sequence[Any],
        pg_sql: str | None = None,
        by_position: bool = False,
    ) -> list[Any]:
        """Rows whose column is among the keys; one statement per CHUNK keys. On PostgreSQL a
        written-out `pg_sql` (the keys as one array, $1) reads the big relations of a trace
        straight from the driver (adapters/pg.py): thousands of values per unit; rows read
        `by_position` come as the driver's records."""
        keys = list(dict.fromkeys(keys))
        out: list[Any] = []
        async with self.engine.connect() as conn:
            pg = Pg.for_connection(conn, autocommit=True)
            if pg is not None and pg_sql is not None:
                return await (pg.records if by_position else pg.fetch)(pg_sql, keys)
            for i in range(0, len(keys), CHUNK):
                out += list(await conn.execute(stmt.where(column.in_(keys[i : i + CHUNK]))))
        return out


def newest_first(
    stmt: Select[Any], at: Any, id_: Any, after: tuple[datetime, int] | None, first: int
) -> Select[Any]:
    """Keyset paging, newest first by (received_at, id): cursors stay stable as rows arrive."""
    if after is not None:
        after_at, after_id = after
        stmt = stmt.where(or_(at < after_at, and_(at == after_at, id_ < after_id)))
    return stmt.order_by(at.desc(), id_.desc()).limit(first + 1)


def grouped(
    found: Iterable[Any], key: str | int, convert: Callable[[Any], V]
) -> dict[Any, list[V]]:
    """Rows converted and grouped by one of their columns (by name, or by position for rows
    read by position), in the rows' order (a loader's batch answer)."""
    key_of = itemgetter(key) if isinstance(key, int) else attrgetter(key)
    grouped: dict[Any, list[V]] = defaultdict(list)
    for r in found:
        grouped[key_of(r)].append(convert(r))
    return grouped


_ROW_TYPES: dict[str, Any] = {}


def split_rows(found: Iterable[Sequence[Any]], *tables: Table) -> Iterator[list[Any]]:
    """Rows of the tables' columns side by side (an outer join, read by position), split
    into one row per table — a named tuple of its columns, or None where the join found
    nothing (its first column, the key, is NULL)."""
    shapes = []
    start = 0
    for table in tables:
        shape: Any = _ROW_TYPES.get(table.name)
        if shape is None:
            shape = _ROW_TYPES[table.name] = namedtuple(
                f"{table.name}_row", [c.name for c in table.c]
            )
        shapes.append((shape._make, start, start + len(table.c)))
        start += len(table.c)
    for r in found:
        yield [make(r[a:b]) if r[a] is not None else None for make, a, b in shapes]
