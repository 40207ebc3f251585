"""Shared fixtures: both databases, the app through one API client, statement counting.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server); every test session
creates a fresh database and drops it afterwards. Under CI=true an unreachable PostgreSQL
fails the run loudly instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from graphql_api.bootstrap import Services, bootstrap
from tests.pg import PG_ADMIN_URL, pg_admin

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]


def unique(prefix: str = "T") -> str:
    """A code no other test uses: tests share one database per backend and never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- databases


@dataclass
class _PgState:
    url: str | None = None
    error: str | None = None
    created: list[str] = field(default_factory=list)


_pg = _PgState()


def _create_pg_database() -> str | None:
    if _pg.url or _pg.error:
        return _pg.url
    name = f"mes_test_{uuid.uuid4().hex[:12]}"
    try:
        pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as err:
        _pg.error = f"{type(err).__name__}: {err}"
        return None
    _pg.created.append(name)
    _pg.url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return _pg.url


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI=true PostgreSQL must be there: the run stops before any test, on one line
    (pytest.exit from a fixture would leave pytest's teardown internals after it)."""
    if IN_CI and _create_pg_database() is None:
        where = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        raise pytest.UsageError(
            f"PostgreSQL at {where} is unreachable under CI=true ({_pg.error}); start it or "
            "set TEST_DATABASE_URL (the run fails rather than skip its PostgreSQL tests)"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for name in _pg.created:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "mes-test.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = _create_pg_database()
    if url is None:
        pytest.skip(f"PostgreSQL unreachable ({_pg.error}); set CI=true to make this fatal")
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


_engines: dict[str, AsyncEngine] = {}


@pytest.fixture(scope="session")
async def engines(sqlite_url: str) -> AsyncIterator[dict[str, AsyncEngine]]:
    yield _engines
    for engine in _engines.values():
        await engine.dispose()


@pytest.fixture
async def engine(
    backend: str, engines: dict[str, AsyncEngine], request: pytest.FixtureRequest
) -> AsyncEngine:
    """A migrated engine for the backend (one per test session and backend)."""
    if request.node.get_closest_marker("postgres_only") and backend != "postgresql":
        pytest.skip("PostgreSQL only (concurrency is proven there)")
    return await migrated_engine(backend, engines, request)


async def migrated_engine(
    backend: str, engines: dict[str, AsyncEngine], request: pytest.FixtureRequest
) -> AsyncEngine:
    """The session's migrated engine of a backend, created on first use."""
    if backend not in engines:
        url = (
            request.getfixturevalue("sqlite_url")
            if backend == "sqlite"
            else request.getfixturevalue("pg_url")
        )
        created = create_engine(url, pool_size=5)
        await upgrade(created)
        engines[backend] = created
    return engines[backend]


@pytest.fixture
def services(engine: AsyncEngine) -> Services:
    return bootstrap(Settings(database_url=str(engine.url)), engine=engine)


# ---------------------------------------------------------------- the API client


class ApiClient:
    """Every API test goes through here: adding authentication changes one place."""

    def __init__(self, client: httpx.AsyncClient, token: str | None = None):
        self.client = client
        self.token = token

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The `data` of a request that must not fail at the GraphQL level."""
        response = await self.post(query, variables, **kw)
        body = response.json()
        assert response.status_code == 200, body
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
        """The GraphQL errors of a request that must fail (limits, malformed input)."""
        body = (await self.post(query, variables)).json()
        assert body.get("errors"), body
        return list(body["errors"])


async def make_token(services: Services, scopes: str = "admin", sources: str = "") -> str:
    """A new API token's secret (through the same use case as `mes token create`)."""
    from domain.actors import Actor
    from domain.usecases.tokens import CreateToken

    created = await services.bus.handle(
        CreateToken(
            unique("tok"),
            tuple(s for s in scopes.split(",") if s),
            tuple(s for s in sources.split(",") if s),
        ),
        Actor("test", "test-token"),
    )
    return str(created.secret)


@pytest.fixture
async def api(services: Services) -> AsyncIterator[ApiClient]:
    """The app with authentication on, and a client holding an admin token."""
    transport = httpx.ASGITransport(app=services.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        yield ApiClient(client, token=await make_token(services))


# ---------------------------------------------------------------- statement counting


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect every SQL statement the engine executes inside the block."""
    seen: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "ROLLBACK", "COMMIT")):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
