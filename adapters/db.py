"""Engines for PostgreSQL (asyncpg) and the embedded SQLite default (aiosqlite)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: SQLite serializes writers; a writer waits this long for the lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        # orjson stops at 64-bit integers; JSON (and JSONB) do not: the standard library then
        return json.dumps(value, ensure_ascii=False, default=str)


def create_engine(url: str, pool_size: int = 10, pre_ping: bool = False) -> AsyncEngine:
    """An engine for the URL. SQLite: WAL, foreign keys, and writes that BEGIN IMMEDIATE."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        # no pre-ping by default: on asyncpg it costs three round trips per checkout (BEGIN, ";",
        # ROLLBACK). A connection found dead when used is a retryable SERVICE_UNAVAILABLE, and
        # SQLAlchemy then recycles the whole pool (MES_DB_PRE_PING=1 to ping instead).
        # up to twice `pool_size` connections, each kept once opened: a trace reads on several
        # connections at once, and overflow connections closed on their return were opened
        # again under load (connect, SSL probe, type introspection, statements prepared anew:
        # 8% of a deep trace's server CPU at concurrency 8)
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=pre_ping,
        **kwargs,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # we issue BEGIN ourselves (below), so pysqlite must not
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # writers take the write lock up front: no deadlock-prone lock upgrades mid-transaction
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


async def write_connection(engine: AsyncEngine) -> AsyncConnection:
    """A connection whose transactions are writers (BEGIN IMMEDIATE on SQLite)."""
    conn = await engine.connect()
    if engine.dialect.name == "sqlite":
        conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
    return conn


#: PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock, admin shutdown,
#: crash shutdown, cannot connect now, too many connections
_RETRYABLE_SQLSTATES = {"40001", "40P01", "57P01", "57P02", "57P03", "53300"}
#: and a database that is not there (yet, or any more): dropped under the service
#: (invalid_catalog_name) or without its tables (undefined_table: not migrated, restored
#: half-way). The operator's to fix, and a retry succeeds once they have.
_MISSING_SQLSTATES = {"3D000", "42P01"}


# asyncpg errors that mean the connection under us broke (terminated backend mid-statement):
# "cannot switch to state ..." (InternalClientError), "connection is closed" (InterfaceError).
_ASYNCPG_BROKEN_STATE = frozenset({"InternalClientError", "InterfaceError"})
_LOST_CONNECTION_MESSAGES = (
    "connection was closed in the middle of operation",
    "connection is closed",
    "cannot switch to state",
    "terminating connection due to administrator command",
)


def is_unavailable(err: BaseException) -> bool:
    """Whether an error means "the database cannot serve this right now" (a lost connection, a
    pool timeout, a shutdown, a lock that did not come): the client may retry the same request.
    Walks the cause chain, since drivers wrap their errors."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(
            current,
            sa_exc.OperationalError
            | sa_exc.InterfaceError
            | sa_exc.TimeoutError
            | sa_exc.DisconnectionError
            | ConnectionError
            | TimeoutError,
        ):
            return True
        if isinstance(current, OSError) and not isinstance(current, FileNotFoundError):
            return True
        if getattr(current, "sqlstate", None) in _RETRYABLE_SQLSTATES | _MISSING_SQLSTATES:
            return True
        if type(current).__module__.startswith("asyncpg") and (
            "Connection" in type(current).__name__
            or type(current).__name__ in _ASYNCPG_BROKEN_STATE
        ):
            return True
        if any(m in str(current) for m in _LOST_CONNECTION_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


#: how long `mes` waits for the database at start-up before it says it cannot reach it
CONNECT_TIMEOUT_S = 10.0


async def check_database(url: str) -> None:
    """Connect once, at start-up: a database that is missing, refuses, or does not know the
    user raises ConfigError (one line: what is wrong and how to fix it), not a traceback."""
    from adapters.settings import ConfigError

    parsed = make_url(url)
    engine = create_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S), engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as err:
        raise ConfigError(_unreachable(parsed, err)) from err
    finally:
        await engine.dispose()


def _unreachable(url: URL, err: BaseException) -> str:
    fix = "fix --database-url / MES_DATABASE_URL"
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database} ({_root(err)}); {fix}"
    where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    sqlstate = _sqlstate(err)
    if sqlstate == "3D000":
        return (
            f"the database {url.database!r} does not exist on {where}; create it "
            f"(createdb -h {url.host or 'localhost'} -p {url.port or 5432} "
            f"-U {url.username or 'postgres'} {url.database}) or {fix}"
        )
    if sqlstate is not None and sqlstate.startswith("28"):
        return f"{where} refused the login of {url.username!r} ({_root(err)}); {fix}"
    if isinstance(err, TimeoutError):
        return f"{where} did not answer within {CONNECT_TIMEOUT_S:g} s; start it or {fix}"
    if isinstance(_innermost(err), ConnectionRefusedError):
        return f"{where} refused the connection (is it running?); start it or {fix}"
    return f"cannot connect to {where} ({_root(err)}); start it or {fix}"


def _innermost(err: BaseException) -> BaseException:
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return err


def _sqlstate(err: BaseException) -> str | None:
    current: BaseException | None = err
    while current is not None:
        if isinstance(getattr(current, "sqlstate", None), str):
            return str(current.sqlstate)  # type: ignore[attr-defined]
        current = current.__cause__ or current.__context__
    return None


def _root(err: BaseException) -> str:
    """The driver's own words, on one line."""
    inner = _innermost(err)
    return " ".join((str(inner) or type(inner).__name__).split())
