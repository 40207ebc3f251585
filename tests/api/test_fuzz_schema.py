"""Schemathesis (GraphQL mode) against the ASGI app, with a bounded budget: every root field
gets generated queries and mutations (arbitrary arguments, JSON payloads included) against
the demo factory; none may answer 5xx or an INTERNAL_SERVER_ERROR.

The app runs on its own SQLite file and its own event loop (in a thread): the generated cases
come synchronously, one request each."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.db import _configure_sqlite
from adapters.migrate import upgrade
from adapters.settings import Settings
from graphql_api.bootstrap import bootstrap
from graphql_api.demo import load_demo
from graphql_api.schema import SCHEMA_FILE
from tests.conftest import make_token

#: examples per root field (41 fields): the whole run stays within seconds
EXAMPLES = 25
NAMES = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z")
LEAVES = (
    st.none().map(lambda _: nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
    | st.text(max_size=30).map(nodes.String)
    | st.sampled_from(["BRD200-000001", "AOI-01", "ICT-01", "OK", "NG", "PASS"]).map(nodes.String)
)


def _object(fields: dict[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
            for k, v in fields.items()
        ]
    )


JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4).map(nodes.List)
        | st.dictionaries(NAMES, inner, max_size=4).map(_object)
    ),
    max_leaves=12,
)
schemathesis.graphql.scalar("JSON", JSON_VALUES)


class AppThread:
    """The app on an event loop of its own thread, driven from the synchronous test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def post(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], httpx.Response]]:
    """Posts a query to the app (authentication on, an admin token) over the demo factory."""
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    engine = create_async_engine(url)
    _configure_sqlite(engine)
    services = bootstrap(Settings(database_url=url), engine=engine)
    app_thread = AppThread()

    async def prepare() -> httpx.AsyncClient:
        await upgrade(engine)
        await load_demo(services.bus, services.store, services.ingest)
        token = await make_token(services)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=services.app()),
            base_url="http://mes.test",
            headers={"Authorization": f"Bearer {token}"},
        )

    client = app_thread.run(prepare())
    try:
        yield lambda query: app_thread.run(client.post("/graphql", json={"query": query}))
    finally:
        app_thread.run(client.aclose())
        app_thread.run(engine.dispose())
        app_thread.close()


schema = schemathesis.graphql.from_path(SCHEMA_FILE)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_breaks_the_service(
    case: Any, post: Callable[[str], httpx.Response]
) -> None:
    response = post(case.body)
    assert response.status_code < 500, (response.status_code, response.text, case.body)
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", (error, case.body)
