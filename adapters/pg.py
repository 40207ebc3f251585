"""The ingest path's statements on PostgreSQL, run straight on the asyncpg connection under
SQLAlchemy's, in SQLAlchemy's transaction.

Why: SQLAlchemy Core costs ~180 µs of Python per statement above the driver's ~100 µs
(cache key, execution context, greenlet bridge, result set-up; measured on this machine's
2 vCPUs), and one accepted event runs a dozen statements. The statements below are written
for PostgreSQL once; SQLite keeps the Core statements of the repositories (the suite runs
both). They go through SQLAlchemy (`exec_driver_sql`: same SQL, same rows) whenever
something listens to its statements (the SQL counter, the tests' fault injection, an APM
instrumentation), so what is observed is what runs. SQLAlchemy's asyncpg adapter begins
the database transaction lazily, at its first statement: `Pg._begin` begins it the same way
(the adapter's own method), or, where it cannot, lets that first statement go through
SQLAlchemy.
"""

from __future__ import annotations

import functools
import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db import is_unavailable, json_dumps
from adapters.types import without_nul

# its types compiled without a connection (the constructor is typed here: SQLAlchemy's is not)
_new_dialect: Callable[[], Dialect] = postgresql.dialect
_DIALECT = _new_dialect()


#: the row type of each statement's result: a named tuple of its columns, so the row
#: converters read asyncpg's rows by attribute as they read SQLAlchemy's, at C speed (a
#: Python __getattr__ on asyncpg.Record cost 0.4 µs a column: 18 ms for a trace's 2,040
#: values)
_SHAPES: dict[str, type[tuple[Any, ...]]] = {}


def _shaped(sql: str, records: list[asyncpg.Record]) -> list[Any]:
    if not records:
        return []
    shape = _SHAPES.get(sql)
    if shape is None:
        if len(_SHAPES) > 512:
            _SHAPES.clear()
        shape = _SHAPES[sql] = namedtuple("PgRow", list(records[0].keys()))
    make = shape._make  # type: ignore[attr-defined]
    return [make(r) for r in records]


def _clean(value: Any) -> Any:
    if type(value) is list:
        return [without_nul(v) for v in value]
    return without_nul(value)


def _scrubbed(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL refuses NUL in text: a lookup by such a key finds nothing instead of failing
    (as SafeString does for Core statements). Text arrays too."""
    if any(type(a) is list or (type(a) is str and "\x00" in a) for a in args):
        return tuple(_clean(a) for a in args)
    return args


class Pg:
    """The PostgreSQL statements of one connection; `None` from `for_connection` on SQLite."""

    __slots__ = ("_deferred", "_driver", "autocommit", "conn")

    def __init__(self, conn: AsyncConnection, autocommit: bool):
        self.conn = conn
        self.autocommit = autocommit
        self._driver: asyncpg.Connection | None = None
        #: writes whose answer nobody waits for, sent as one statement before the next
        self._deferred: list[Piece] = []

    @classmethod
    def for_connection(cls, conn: AsyncConnection, autocommit: bool = False) -> Pg | None:
        return cls(conn, autocommit) if conn.dialect.name == "postgresql" else None

    async def _direct(self) -> asyncpg.Connection | None:
        """The asyncpg connection when a statement may go straight to it."""
        sync = self.conn.sync_connection
        if sync is None or sync.dispatch.before_cursor_execute:
            return None  # observed: through SQLAlchemy
        driver = self._driver
        if driver is None:
            driver = self._driver = (await self.conn.get_raw_connection()).driver_connection
        if driver is None:
            return None
        if not self.autocommit and not driver.is_in_transaction() and not await self._begin(driver):
            return None  # SQLAlchemy begins its transaction with this statement
        return driver

    async def _begin(self, driver: asyncpg.Connection) -> bool:
        """Begin SQLAlchemy's transaction as its asyncpg adapter does at its first statement
        (its `_start_transaction`: the same BEGIN, tracked where its commit and rollback look),
        so that first statement goes straight to the driver too (through SQLAlchemy it cost
        ~0.2 ms of Python per transaction). False, and the statement goes through
        SQLAlchemy, where the adapter has no such method (another SQLAlchemy: a test names
        the version) or SQLAlchemy's own transaction was not begun."""
        if not self.conn.in_transaction():
            return False
        adapted = (await self.conn.get_raw_connection()).dbapi_connection
        start = getattr(adapted, "_start_transaction", None)
        if start is None or getattr(adapted, "_transaction", False) is not None:
            return False
        try:
            await start()
        except Exception as err:
            await self._lost(driver, err)
            raise
        return bool(driver.is_in_transaction())

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        await self.flush()
        return await self._rows(sql, _scrubbed(args))

    async def records(self, sql: str, *args: Any) -> list[Any]:
        """The rows as the driver gives them, read by position only (no named tuple made per
        row: a trace's thousands of values)."""
        await self.flush()
        return await self._rows(sql, _scrubbed(args), shaped=False)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        found = await self.fetch(sql, *args)
        return found[0] if found else None

    async def execute(self, sql: str, *args: Any) -> int:
        """The rows the statement touched."""
        await self.flush()
        return await self._count(sql, _scrubbed(args))

    async def insert(self, statement: RowsInsert, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The rows inserted, as its RETURNING gives them. What is written is not scrubbed: the
        use cases refuse NUL before anything is stored."""
        await self.flush()
        return await self._rows(statement.sql, statement.args(rows))

    async def defer(self, *pieces: Piece) -> None:
        """Writes whose answer nobody waits for: sent with the other deferred writes as one
        statement (one round trip) before the next statement of this connection or its
        commit. Every statement of the unit of work goes through `flush` first (the Core ones
        by SqlRepository._exec), so the order of effects is the order of calls. A piece may
        name itself and a later piece of the same call read what it returned (RETURNING).
        A write to a table a pending write touches goes after those: the parts of one
        statement run in no set order on one snapshot, so each table is written once (ids
        keep the order of calls, an UPDATE sees the rows written before it)."""
        pending = {_target(sql) for _, sql, _ in self._deferred}
        if any(_target(sql) in pending for _, sql, _ in pieces):
            await self.flush()
        self._deferred.extend(pieces)

    async def flush(self) -> None:
        if not self._deferred:
            return
        pending, self._deferred = self._deferred, []
        sql = combined_statement(tuple((name, sql) for name, sql, _ in pending))
        await self._count(sql, [a for _, _, args in pending for a in args])

    def discard(self) -> None:
        """The transaction is rolled back: what was deferred never happens."""
        self._deferred.clear()

    async def _rows(self, sql: str, args: Sequence[Any], shaped: bool = True) -> list[Any]:
        driver = await self._direct()
        if driver is None:
            return list((await self.conn.exec_driver_sql(sql, tuple(args))).all())
        try:
            found = await driver.fetch(sql, *args)
            return _shaped(sql, found) if shaped else list(found)
        except Exception as err:
            await self._lost(driver, err)
            raise

    async def _count(self, sql: str, args: Sequence[Any]) -> int:
        driver = await self._direct()
        if driver is None:
            return int((await self.conn.exec_driver_sql(sql, tuple(args))).rowcount)
        try:
            status = await driver.execute(sql, *args)
        except Exception as err:
            await self._lost(driver, err)
            raise
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def _lost(self, driver: asyncpg.Connection, err: Exception) -> None:
        """A connection that broke under a statement SQLAlchemy did not run: SQLAlchemy would
        have invalidated it, so do that here, or the pool hands the dead connection out again
        and again (each time a SERVICE_UNAVAILABLE)."""
        if driver.is_closed() or is_unavailable(err):
            self._driver = None
            await self.conn.invalidate(err)


#: a deferred write: (a name a later piece may read it by, its SQL, its parameters)
Piece = tuple[str | None, str, list[Any]]

_PARAM = re.compile(r"\$(\d+)")
_WRITTEN = re.compile(r"\s*(?:UPDATE|INSERT\s+INTO)\s+(\w+)", re.IGNORECASE)


def _target(sql: str) -> str | None:
    found = _WRITTEN.match(sql)
    return found[1] if found else None


def _renumbered(sql: str, offset: int) -> str:
    return _PARAM.sub(lambda m: f"${int(m[1]) + offset}", sql)


@functools.lru_cache(maxsize=64)
def combined_statement(pieces: tuple[tuple[str | None, str], ...]) -> str:
    """Data-modifying statements as one: all but the last in WITH (named pieces under a name
    of their own, the later pieces' references to them renamed), their parameters numbered
    on. PostgreSQL runs every part once, on one snapshot, so parts touch distinct rows."""
    if len(pieces) == 1:
        return pieces[0][1]
    names: dict[str, str] = {}
    parts: list[tuple[str, str]] = []
    offset = 0
    for i, (name, sql) in enumerate(pieces):
        text = _renumbered(sql, offset)
        offset += max((int(n) for n in _PARAM.findall(sql)), default=0)
        for old, new in names.items():
            text = re.sub(rf"\b{old}\b", new, text)
        own = f"{name}_{i}" if name else f"w{i}"
        if name:
            names[name] = own
        parts.append((own, text))
    head = ", ".join(f"{own} AS ({text})" for own, text in parts[:-1])
    return f"WITH {head} {parts[-1][1]}"


# ------------------------------------------------------------------ statements from the tables


def columns(table: Table, prefix: str = "") -> str:
    """Every column of the table, as `select(table)` reads them."""
    return ", ".join(f"{prefix}{c.name}" for c in table.c)


def keyed(table: Table, column: str, picked: str | None = None) -> str:
    """`select(table).where(column.in_(keys))` written out for PostgreSQL, the keys as one
    array ($1): the small reads of a trace skip SQLAlchemy Core's ~180 µs of Python each."""
    sql_type = table.c[column].type.compile(dialect=_DIALECT)
    return (
        f"SELECT {picked or columns(table)} FROM {table.name} "
        f"WHERE {column} = ANY($1::{sql_type}[])"
    )


def _rows_source(table: Table, names: Sequence[str], extra: str = "") -> tuple[str, str]:
    """The rows of a JSON array parameter ($1) as a relation `u` with the named columns (typed
    as in the table) and `ord`, their position; and the select list of those columns, JSON
    ones with None stored as JSON null (as Core's JSON type stores it). One text parameter
    instead of an array per column: orjson writes it in microseconds, where asyncpg checks
    every array element in Python (2,400 isinstance calls for a TEST event)."""
    typed = [f"{n} {table.c[n].type.compile(dialect=_DIALECT)}" for n in names]
    defs = ", ".join([extra, *typed] if extra else typed)
    cols = ", ".join([extra.split()[0], *names] if extra else names)
    source = (
        f"ROWS FROM (json_to_recordset($1::json) AS ({defs})) WITH ORDINALITY AS u({cols}, ord)"
    )
    picked = ", ".join(
        f"COALESCE(u.{n}, 'null'::jsonb)" if isinstance(table.c[n].type, JSON) else f"u.{n}"
        for n in names
    )
    return source, picked


class RowsInsert:
    """INSERT of any number of rows in one statement, every column but the id, from one JSON
    parameter; the rows inserted in the order given (so ids from a sequence ascend in that
    order, as SQLAlchemy's own insertmanyvalues relies on). `tail` follows the statement
    (ON CONFLICT …, RETURNING …)."""

    def __init__(self, table: Table, tail: str = ""):
        self.names = tuple(c.name for c in table.c if c.name != "id")
        source, picked = _rows_source(table, self.names)
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(self.names)}) SELECT {picked} FROM {source} "
            f"ORDER BY u.ord {tail}"
        ).strip()

    def args(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The parameter of the rows (each row a dict of every column but the id)."""
        return [json_dumps(list(rows))]


class ChildRowsInsert:
    """INSERT of rows that belong to parent rows inserted by an earlier piece of the same
    statement (named `parent`, RETURNING id and `key`): each row carries its parent's key
    (unique among the parents) and gets its parent's id in `fk`."""

    def __init__(self, table: Table, fk: str, parent: str, key: str, key_type: str):
        self.names = tuple(c.name for c in table.c if c.name not in ("id", fk))
        source, picked = _rows_source(table, self.names, extra=f"parent_key {key_type}")
        self.sql = (
            f"INSERT INTO {table.name} ({fk}, {', '.join(self.names)}) "
            f"SELECT {parent}.id, {picked} FROM {source} "
            f"JOIN {parent} ON {parent}.{key} = u.parent_key ORDER BY u.ord"
        )

    def args(self, keys: Sequence[Any], rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The parameter of the rows, each with its parent's key."""
        for k, r in zip(keys, rows, strict=True):
            r["parent_key"] = k
        return [json_dumps(list(rows))]
