"""What a client's query text may cost in memory, and what an anonymous request may make the
server do (issue 14 items 3 and 4)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.types import Message

from domain.limits import Limits
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.query_cache import CACHEABLE_QUERY_BYTES, QueryCache, parsed_size
from graphql_api.schema import build_schema
from tests.conftest import ApiClient, make_token, unique

# ---------------------------------------------------------------- item 3: caches and length


def caches() -> tuple[QueryCache[Any], QueryCache[Any]]:
    """The served schema's parser and validation caches."""
    found = build_schema().caches
    assert found is not None
    return found


def _padded(size: int) -> str:
    """A distinct valid query of about `size` bytes (a comment pads it)."""
    head = f"# {uuid.uuid4().hex}\n"
    return head + "#" + "x" * max(0, size - len(head) - 20) + "\n{ __typename }"


async def test_a_long_query_is_answered_but_not_cached(api: ApiClient) -> None:
    parsed, validated = caches()
    short, long = _padded(1000), _padded(CACHEABLE_QUERY_BYTES + 100)
    for query in (short, long):
        assert await api.gql(query) == {"__typename": "Query"}
    assert short in parsed and short in validated
    assert long not in parsed and long not in validated


def test_a_cache_never_holds_more_than_its_bytes() -> None:
    cache: QueryCache[str] = QueryCache(1_000_000, lambda q, _: parsed_size(q))
    for i in range(300):
        cache.put(f"{{ __typename }} # {i} " + "x" * (i % 50 * 40), "doc")
        assert cache.bytes <= 1_000_000
    assert 0 < len(cache) < 300
    assert "{ __typename } # 299 " + "x" * (49 * 40) in cache  # the newest stay


async def test_the_app_caches_stay_within_their_bytes(api: ApiClient) -> None:
    parsed, validated = caches()
    sent = [_padded(CACHEABLE_QUERY_BYTES - 100) for _ in range(25)]  # ~2 MB each as parsed
    for query in sent:
        assert await api.gql(query) == {"__typename": "Query"}
    assert parsed.bytes <= parsed.entries.maxsize and validated.bytes <= validated.entries.maxsize
    assert sent[-1] in parsed and sent[0] not in parsed  # the oldest made room


async def test_a_long_query_document_is_refused_but_long_variables_pass(
    services: Services, api: ApiClient
) -> None:
    limit = Limits().max_query_bytes
    too_long = _padded(limit + 10)
    response = await api.post(too_long)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert error["extensions"]["limit"] == limit
    assert "MES_MAX_QUERY_BYTES" in error["message"]
    assert too_long not in caches()[0]
    # a payload of 4 × the query limit, in variables: judged as an event, not refused
    payload = {"station": unique("ST"), "blob": "x" * (4 * limit)}
    event = {
        "sourceSystem": unique("SRC"),
        "dedupeKey": unique("K"),
        "eventType": "AUTO",
        "occurredAt": "2026-03-02T08:25:03+01:00",
        "payload": payload,
    }
    sent = await api.gql(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status } }", {"i": event}
    )
    assert sent["ingestEvent"]["status"] in ("ACCEPTED", "REJECTED")


# ---------------------------------------------------------------- item 4: anonymous work


async def test_a_browser_get_serves_the_page_and_runs_nothing(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[Any] = []
    schema = build_schema()
    real = schema.execute

    async def spy(*args: Any, **kwargs: Any) -> Any:
        ran.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(schema, "execute", spy)
    for query in ("{ __schema { types { name } } }", "{ unti { sn } }"):
        for token in (None, api.token):  # with a token too: a browser GET only gets the page
            headers = {"accept": "text/html,application/xhtml+xml,*/*"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            page = await api.client.get("/graphql", params={"query": query}, headers=headers)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "__schema" not in page.text and "Did you mean" not in page.text
    assert ran == []
    # a GET asking for JSON with a token still runs a query
    by_get = await api.client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"accept": "application/json", "authorization": f"Bearer {api.token}"},
    )
    assert by_get.json() == {"data": {"__typename": "Query"}}


async def test_an_anonymous_post_is_refused_before_its_body_is_read(services: Services) -> None:
    """31 MiB announced and offered in 1 MiB chunks: the 401 comes before any is taken."""
    app = services.app()
    size, chunk = 31 * 1024 * 1024, b"x" * (1024 * 1024)
    taken = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal taken
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": taken < size}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"mes.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(size).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("mes.test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 401
    assert taken == 0


@pytest.fixture
async def closed(services: Services) -> AsyncIterator[ApiClient]:
    """The app with introspection off (MES_INTROSPECTION=0)."""
    limited = bootstrap(
        replace(services.settings, limits=Limits(introspection=False)), engine=services.engine
    )
    transport = httpx.ASGITransport(app=limited.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        yield ApiClient(client, token=await make_token(services))


INGEST = "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status } }"
MISSPELT: list[tuple[str, dict[str, Any]]] = [
    ('{ unti(sn: "S") { sn } }', {}),  # a root field
    ('{ unit(sn: "S") { snn } }', {}),  # a nested field
    ('{ unit(sm: "S") { sn } }', {}),  # an argument
    ("{ ingestEvents(filter: { eventType: AUTOO }) { pageInfo { hasNextPage } } }", {}),
    (INGEST, {"i": {"sourceSystm": "A", "dedupeKey": "k", "eventType": "AUTO"}}),  # variables
    (INGEST, {"i": {"sourceSystem": "A", "dedupeKey": "k", "eventType": "AUTOO"}}),
]


@pytest.mark.parametrize(("query", "variables"), MISSPELT)
async def test_introspection_off_hides_suggestions(
    api: ApiClient, closed: ApiClient, query: str, variables: dict[str, Any]
) -> None:
    shown = " ".join(e["message"] for e in await api.errors(query, variables))
    assert "Did you mean" in shown  # on by default: GraphiQL users get the hint
    hidden = await closed.errors(query, variables)
    assert hidden and not any("Did you mean" in e["message"] for e in hidden), hidden
