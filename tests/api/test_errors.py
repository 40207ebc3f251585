"""Errors never leak internals: unexpected exceptions are masked (message + request id) and
logged in full; a database that cannot serve gives SERVICE_UNAVAILABLE, retryable, HTTP 503,
and a retry with the same dedupeKey has exactly one effect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import event, func, select
from structlog.testing import capture_logs

from adapters import tables as t
from adapters.db import is_unavailable
from adapters.settings import Settings
from domain.security import new_token
from graphql_api.bootstrap import Services, bootstrap
from tests.conftest import ApiClient
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) {
  ingestEvent(input: $i) { status error { code } event { id } }
}"""
SECRET = "password=hunter2 at /srv/mes/secret.py line 42"


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=1)


@contextmanager
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured:
        yield captured


async def test_an_unexpected_error_is_masked_and_logged_in_full(
    api: ApiClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(codes: Any) -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(services.store, "lines", broken)
    with logs() as captured:
        response = await api.post('{ line(code: "L1") { code } }', headers={"X-Request-ID": "r-7"})
    body = response.json()
    assert response.status_code == 200
    assert "hunter2" not in response.text and "Traceback" not in response.text
    (error,) = body["errors"]
    request_id = response.headers["x-request-id"]  # the server's own; the client's beside it
    assert response.headers["x-client-request-id"] == "r-7"
    assert error["message"] == f"Internal error (request id {request_id})."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert error["path"] == ["line"]
    (logged,) = [e for e in captured if e["event"] == "graphql.unexpected_error"]
    assert logged["request_id"] == request_id and logged["log_level"] == "error"
    assert logged["client_request_id"] == "r-7"
    exc_type, exc, _tb = logged["exc_info"]
    assert exc_type is RuntimeError and str(exc) == SECRET


async def test_request_errors_are_shown_as_they_are(api: ApiClient) -> None:
    bad_cursor = await api.errors('{ ingestEvents(after: "%%%") { edges { cursor } } }')
    assert "invalid cursor" in bad_cursor[0]["message"]
    assert bad_cursor[0]["extensions"]["code"] == "BAD_USER_INPUT"
    syntax = await api.errors("{ line(code: ")
    assert "Syntax Error" in syntax[0]["message"]
    unknown = await api.errors("{ nothing }")
    assert "nothing" in unknown[0]["message"]


@pytest.fixture
async def unreachable() -> AsyncIterator[httpx.AsyncClient]:
    """The app over a PostgreSQL port where nothing listens, auth off (a token lookup would
    already fail: see the next test)."""
    services = bootstrap(Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    transport = httpx.ASGITransport(app=services.app(auth_required=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            yield client
    finally:
        await services.close()


async def test_a_database_that_cannot_serve_is_503_service_unavailable_retryable(
    unreachable: httpx.AsyncClient,
) -> None:
    for query in (
        '{ line(code: "L1") { code } }',
        'mutation { upsertLine(input: {code: "L1", name: "Line"}) { error { code } } }',
    ):
        with logs() as captured:
            response = await unreachable.post(
                "/graphql", json={"query": query}, headers={"X-Request-ID": "r-503"}
            )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        (error,) = response.json()["errors"]
        assert error["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "retryable": True,
            "requestId": response.headers["x-request-id"],
        }
        assert "retry" in error["message"] and "nobody" not in error["message"]
        assert [e["request_id"] for e in captured if e["event"] == "graphql.database_unavailable"]


async def test_a_token_lookup_that_cannot_reach_the_database_is_503_too() -> None:
    services = bootstrap(Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    transport = httpx.ASGITransport(app=services.app())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={
                    "Authorization": f"Bearer {new_token('gw', ['read'], [], datetime.now(UTC))[1]}",
                    "X-Request-ID": "r-auth",
                },
            )
    finally:
        await services.close()
    assert response.status_code == 503
    assert response.headers["x-client-request-id"] == "r-auth"
    assert len(response.headers["x-request-id"]) == 32
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_connection_lost_mid_write_leaves_nothing_and_the_retry_has_one_effect(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """The connection drops while the event's track is written: nothing of it stays, the
    client is told to retry, and the retries with the same dedupeKey give one event."""
    item = f.aoi_input(f.sns[0])
    armed = [True]

    def drop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # (on PostgreSQL the track goes with the writes deferred after it: one statement)
        if armed[0] and "INSERT INTO TRACK" in statement.upper():
            armed[0] = False
            raise ConnectionResetError("connection reset by peer")

    event.listen(services.engine.sync_engine, "before_cursor_execute", drop)
    try:
        first = await api.post(INGEST, {"i": item})
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", drop)
    assert first.status_code == 503, first.text
    assert first.json()["errors"][0]["extensions"]["retryable"] is True
    assert not armed[0]

    async def stored() -> tuple[int, int]:
        async with services.engine.connect() as conn:
            events = await conn.scalar(
                select(func.count())
                .select_from(t.ingest_event)
                .where(t.ingest_event.c.dedupe_key == item["dedupeKey"])
            )
            tracks = await conn.scalar(
                select(func.count())
                .select_from(t.track)
                .join(t.unit, t.unit.c.id == t.track.c.unit_id)
                .where(t.unit.c.sn == f.sns[0])
            )
        return int(events or 0), int(tracks or 0)

    assert await stored() == (0, 0)
    second = (await api.gql(INGEST, {"i": item}))["ingestEvent"]
    third = (await api.gql(INGEST, {"i": item}))["ingestEvent"]
    assert second["status"] == "ACCEPTED" and third["status"] == "DUPLICATE"
    assert third["event"]["id"] == second["event"]["id"]
    assert await stored() == (1, 1)


def test_what_counts_as_unavailable() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert is_unavailable(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert is_unavailable(ConnectionRefusedError())
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = TimeoutError()
    assert is_unavailable(wrapped)
    assert not is_unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_unavailable(RuntimeError("a bug"))
    assert not is_unavailable(KeyError("a bug"))


def test_a_connection_killed_mid_statement_is_unavailable() -> None:
    """What asyncpg raises when pg_terminate_backend hits a connection in use (the fault run)."""
    import asyncpg.exceptions
    from sqlalchemy.exc import DBAPIError, InternalError

    broken = asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation")
    assert is_unavailable(InternalError("INSERT", {}, broken))
    closed = asyncpg.exceptions.InterfaceError(
        "cannot call Transaction.rollback(): connection is closed"
    )
    assert is_unavailable(closed)
    mid = Exception("connection was closed in the middle of operation")
    assert is_unavailable(DBAPIError("SELECT", {}, mid))
    assert not is_unavailable(InternalError("INSERT", {}, Exception("division by zero")))


@pytest.mark.parametrize("what", ["dropped database", "missing tables"])
async def test_a_missing_database_or_table_is_503_service_unavailable_retryable(
    what: str, backend: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """A database dropped under the service (InvalidCatalogNameError) or one whose tables are
    missing (not migrated yet, restored half-way) cannot serve now: 503 retryable, not 500."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"  # a new file: no tables
        if what == "dropped database":
            pytest.skip("SQLite creates a missing file: only missing tables apply")
    else:
        from sqlalchemy.engine import make_url

        from tests.pg import pg_admin

        session_url: str = request.getfixturevalue("pg_url")
        name = f"mes_gone_{uuid.uuid4().hex[:10]}"
        if what == "missing tables":
            pg_admin(f'CREATE DATABASE "{name}"')
            request.addfinalizer(lambda: pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        url = make_url(session_url).set(database=name).render_as_string(False)
    services = bootstrap(Settings(database_url=url))
    transport = httpx.ASGITransport(app=services.app(auth_required=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            for query in (
                '{ line(code: "L1") { code } }',
                'mutation { upsertLine(input: {code: "L1", name: "Line"}) { error { code } } }',
            ):
                response = await client.post("/graphql", json={"query": query})
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "1"
                (error,) = response.json()["errors"]
                assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                assert error["extensions"]["retryable"] is True
    finally:
        await services.close()
