"""Every request-level limit is hit by a test: body size (plain, chunked, gzip, a gzip bomb),
aliases, tokens, depth, `first`, introspection switched off, CORS origins.

(The event payload size, the ingestEvents list length and the registerUnits count have their
tests beside their features: test_ingest_refusals, test_ingest, test_production.)"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.settings import Settings
from domain.limits import Limits
from graphql_api.bootstrap import Services, bootstrap
from tests.conftest import ApiClient, make_token

SMALL = Limits(
    max_body_bytes=4096,
    max_query_depth=4,
    max_aliases=3,
    max_query_tokens=60,
    max_page_size=20,
    introspection=False,
    cors_origins=("https://mes.example.com",),
)

AppFactory = Callable[[Limits], Any]


@pytest.fixture
async def small(services: Services) -> AsyncIterator[ApiClient]:
    """The app with tiny limits, introspection off and one allowed CORS origin."""
    limited = bootstrap(replace(services.settings, limits=SMALL), engine=services.engine)
    transport = httpx.ASGITransport(app=limited.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        yield ApiClient(client, token=await make_token(services))


def _query_body(size: int) -> bytes:
    padding = " " * max(0, size - 40)
    return json.dumps({"query": "{ __typename" + padding + " }"}).encode()


async def _send(api: ApiClient, content: Any, **headers: str) -> httpx.Response:
    sent = {"content-type": "application/json", "authorization": f"Bearer {api.token}"}
    return await api.client.post("/graphql", content=content, headers=sent | headers)


async def test_a_body_within_the_limit_passes(small: ApiClient) -> None:
    response = await _send(small, _query_body(3000))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_body_over_the_limit_is_413(small: ApiClient) -> None:
    response = await _send(small, _query_body(5000))
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "4096" in error["message"] and "MES_MAX_BODY_BYTES" in error["message"]


async def test_a_chunked_body_without_a_length_is_counted_as_it_comes(small: ApiClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = _query_body(5000)
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    response = await _send(small, chunks())
    assert response.status_code == 413


async def test_gzip_bodies_are_accepted(small: ApiClient) -> None:
    response = await _send(small, gzip.compress(_query_body(3000)), **{"content-encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_gzip_bomb_is_413_once_inflated(small: ApiClient) -> None:
    bomb = gzip.compress(_query_body(3_000_000))
    assert len(bomb) < 4096  # small on the wire
    response = await _send(small, bomb, **{"content-encoding": "gzip"})
    assert response.status_code == 413
    assert "inflated" in response.json()["errors"][0]["message"]


async def test_bad_or_unknown_encodings(small: ApiClient) -> None:
    broken = await _send(small, b"not gzip at all", **{"content-encoding": "gzip"})
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    brotli = await _send(small, _query_body(100), **{"content-encoding": "br"})
    assert brotli.status_code == 415


async def test_too_many_aliases(small: ApiClient) -> None:
    ok = await small.gql("{ a: __typename b: __typename c: __typename }")
    assert ok == {"a": "Query", "b": "Query", "c": "Query"}
    errors = await small.errors("{ a: __typename b: __typename c: __typename d: __typename }")
    assert "aliases" in errors[0]["message"].lower()


async def test_too_many_tokens(small: ApiClient) -> None:
    errors = await small.errors("{ " + "__typename " * 70 + "}")
    assert "token" in errors[0]["message"].lower()


async def test_too_deep(small: ApiClient) -> None:
    errors = await small.errors(
        '{ run(runNo: "x") { workOrder { runs { workOrder { runs { runNo } } } } } }'
    )
    assert "depth" in errors[0]["message"]


async def test_validation_runs_once_per_query_text_and_keeps_refusing(
    small: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation cache hits across requests (each request builds new limiter rules), and a
    cached refusal is still a refusal."""
    import graphql_api.schema as served

    calls: list[str] = []
    real = served.validate_document

    def counting(*args: Any) -> Any:
        calls.append("validate")
        return real(*args)

    monkeypatch.setattr(served, "validate_document", counting)
    name = f"a{uuid.uuid4().hex}"  # a query text no other test sent (the schema is shared)
    fine = f"{{ __typename {name}: __typename }}"
    deep = f'{{ run(runNo: "{name}") {{ workOrder {{ runs {{ workOrder {{ runs {{ runNo }} }} }} }} }} }}'
    for _ in range(3):
        assert await small.gql(fine) == {"__typename": "Query", name: "Query"}
        assert "depth" in (await small.errors(deep))[0]["message"]
    assert len(calls) == 2


@pytest.mark.parametrize(
    "query",
    [
        "{ ingestEvents(first: 21) { edges { cursor } } }",
        "{ ingestRejections(first: 21) { edges { cursor } } }",
        "{ auditEvents(first: 21) { edges { cursor } } }",
        "{ ingestEvents(first: -1) { edges { cursor } } }",
    ],
)
async def test_first_is_bounded_on_every_connection(small: ApiClient, query: str) -> None:
    errors = await small.errors(query)
    assert "first must be between 0 and 20" in errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_introspection_can_be_switched_off(small: ApiClient, api: ApiClient) -> None:
    query = "{ __schema { queryType { name } } }"
    assert (await api.gql(query))["__schema"]["queryType"]["name"] == "Query"  # on by default
    errors = await small.errors(query)
    assert "introspection" in errors[0]["message"].lower()


async def test_cors_allows_only_the_configured_origins(small: ApiClient, api: ApiClient) -> None:
    preflight = {
        "origin": "https://mes.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    allowed = await small.client.options("/graphql", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://mes.example.com"
    other = await small.client.options(
        "/graphql", headers=preflight | {"origin": "https://evil.example.net"}
    )
    assert "access-control-allow-origin" not in other.headers
    # none by default: the default app answers no cross-origin request
    default = await api.client.options("/graphql", headers=preflight)
    assert "access-control-allow-origin" not in default.headers


def test_the_default_body_limit_takes_a_full_batch_of_typical_events() -> None:
    """A full ingestEvents batch of events up to 64 KiB each fits the default body limit;
    bigger events (up to the 1 MiB payload limit) go in smaller batches or gzipped."""
    d = Settings().limits
    assert d.max_body_bytes >= d.max_ingest_batch * 64 * 1024
    assert d.max_body_bytes >= 2 * d.max_payload_bytes
