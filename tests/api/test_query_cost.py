"""A query's cost is checked before it runs, and a request's execution time is bounded
(issue 14 item 2)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from sqlalchemy import text

from bench.ingest import INGEST, INGEST_MANY
from bench.page import PAGE, PAGE_SIZE
from bench.trace import TRACE
from domain.limits import Limits
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.cost import query_cost
from graphql_api.schema import build_schema
from tests.conftest import ApiClient, count_statements, make_token

README = Path(__file__).resolve().parents[2] / "README.md"
D = Limits()

#: the probe's query: 500 units, each with its run's 500 units
NESTED = """{ run(runNo: "R") { units(first: 500) { edges { node {
  run { units(first: 500) { edges { node { sn } } } } } } } } }"""


def cost(query: str, variables: dict[str, Any] | None = None, estimate: int = 50) -> int:
    return query_cost(build_schema()._schema, parse(query), None, variables, estimate)


# ---------------------------------------------------------------- the cost model


def test_pages_multiply_along_nested_lists() -> None:
    # run 1, connection 1, 500 edges, 500 nodes, 500 runs, 500 connections, 250,000 × 2
    assert cost(NESTED) == 1 + 1 + 500 * 4 + 500 * 500 * 2
    assert cost('{ run(runNo: "R") { units(first: 10) { edges { node { sn } } } } }') == 22


def test_first_comes_from_a_variable_or_the_default() -> None:
    q = 'query($n: Int) { run(runNo: "R") { units(first: $n) { edges { node { sn } } } } }'
    assert cost(q, {"n": 7}) == 1 + 1 + 7 + 7
    assert cost(q, {}) == 1 + 1 + 100 + 100  # Run.units: first = 100 by default
    assert cost(q.replace("$n: Int", "$n: Int = 3"), {}) == 1 + 1 + 3 + 3
    assert cost("{ ingestEvents { edges { node { id } } } }") == 1 + 50 + 50  # first = 50
    assert cost('{ run(runNo: "R") { units { pageInfo { hasNextPage } totalCount } } }') == 3


def test_an_unpaginated_list_counts_as_the_estimate() -> None:
    q = '{ unit(sn: "S") { tracks { dataValues { specName } station { code } } } }'
    assert cost(q, estimate=50) == 1 + 50 + 50 * 50 + 50
    assert cost(q, estimate=10) == 1 + 10 + 10 * 10 + 10


def test_list_arguments_count_their_length() -> None:
    many = "mutation($i: [IngestEventInput!]!) { ingestEvents(inputs: $i) { event { tracks { id } } } }"
    assert cost(many, {"i": [{}] * 20}) == 20 * (1 + 1 + 50)
    sns = '{ validateUnits(stationCode: "A", sns: ["a", "b", "c"]) { sn } }'
    assert cost(sns) == 3
    register = (
        'mutation($c: Int) { registerUnits(input: {runNo: "R", count: $c}) { units { sn } } }'
    )
    assert cost(register, {"c": 300}) == 1 + 300
    listed = 'mutation { registerUnits(input: {runNo: "R", sns: ["a", "b"]}) { units { sn } } }'
    assert cost(listed) == 1 + 2


def test_fragments_count_where_they_are_spread() -> None:
    named = """fragment T on Unit { tracks { dataValues { specName } } }
      { unit(sn: "S") { ...T } a: unit(sn: "T") { ... on Unit { ...T } } }"""
    assert cost(named) == 2 * (1 + 50 + 2500)
    # spread twice in one selection set, execution collects it once: so does the cost
    assert cost('fragment T on Unit { tracks { id } } { unit(sn: "S") { ...T ...T } }') == 51
    # a fragment chain that doubles at every level costs linear time, not 2^30
    chain = "".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, 30))
    chain += 'fragment F0 on Query { unit(sn: "S") { sn } }\n{ ...F29 }'
    started = time.perf_counter()
    assert cost(chain) == 1
    assert time.perf_counter() - started < 0.5


def test_introspection_and_scalars_cost_nothing() -> None:
    assert cost("{ __schema { types { name fields { name args { name } } } } }") == 0
    assert cost('{ unit(sn: "S") { sn status currentStepNo } }') == 1


def _readme_queries() -> list[str]:
    readme = README.read_text()
    blocks = re.findall(r"```graphql\n(.*?)```", readme, flags=re.DOTALL)
    # the queries inside curl examples: "query": "…" in a JSON body
    inline = [json.loads(f'"{q}"') for q in re.findall(r'"query": "((?:[^"\\]|\\.)*)"', readme)]
    return blocks + inline


BENCH = {
    "trace": (TRACE, {"sn": "S"}),
    "page": (PAGE, {"runNo": "R", "first": PAGE_SIZE}),
    "ingest": (INGEST, {"i": {}}),
    "ingest_many": (INGEST_MANY, {"items": [{}] * D.max_ingest_batch}),
}


@pytest.mark.parametrize(
    ("query", "variables"),
    [*BENCH.values(), *((q, {}) for q in _readme_queries())],
    ids=[*BENCH, *(f"readme-{i}" for i in range(len(_readme_queries())))],
)
def test_the_bench_and_readme_queries_pass_under_the_defaults(
    query: str, variables: dict[str, Any]
) -> None:
    schema = build_schema()._schema
    assert validate(schema, parse(query)) == []  # a real query of this schema
    assert cost(query, variables, D.list_cost_estimate) <= D.max_query_cost
    assert len(query.encode()) <= D.max_query_bytes


def test_the_readme_has_queries_to_check() -> None:
    assert len(_readme_queries()) >= 2


# ---------------------------------------------------------------- through the app


@pytest.fixture
async def open_app(services: Services) -> AsyncIterator[ApiClient]:
    """The app without authentication (so the only SQL a request runs is its own)."""
    transport = httpx.ASGITransport(app=services.app(auth_required=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        yield ApiClient(client)


async def test_a_costly_query_is_refused_before_anything_runs(
    open_app: ApiClient, services: Services
) -> None:
    with count_statements(services.engine) as statements:
        response = await open_app.post(NESTED)
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 502002, "limit": 50_000}
    assert "MES_MAX_QUERY_COST" in error["message"]
    assert statements == []  # nothing executed


async def test_the_cost_reads_variables_and_the_limit_is_a_setting(
    open_app: ApiClient, services: Services
) -> None:
    q = 'query($n: Int) { run(runNo: "NONE") { units(first: $n) { edges { node { sn } } } } }'
    assert (await open_app.gql(q, {"n": 500})) == {"run": None}
    limited = bootstrap(
        replace(services.settings, limits=Limits(max_query_cost=100, list_cost_estimate=5)),
        engine=services.engine,
    )
    transport = httpx.ASGITransport(app=limited.app(auth_required=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        small = ApiClient(client)
        assert (await small.gql(q, {"n": 49})) == {"run": None}
        (error,) = await small.errors(q, {"n": 50})
        assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 102, "limit": 100}
        tracks = '{ unit(sn: "NONE") { tracks { dataValues { specName } } } }'
        assert (await small.gql(tracks)) == {"unit": None}  # 1 + 5 + 25 = 31
        deeper = '{ unit(sn: "NONE") { tracks { dataValues { specName } station { code } } } }'
        assert (await small.gql(deeper)) == {"unit": None}  # 36
        many = '{ a: unit(sn: "A") { tracks { dataValues { specName } } } b: unit(sn: "B") { tracks { dataValues { specName } } } c: unit(sn: "C") { tracks { dataValues { specName } } } d: unit(sn: "D") { tracks { dataValues { specName } } } }'
        (error,) = await small.errors(many)
        assert error["extensions"]["cost"] == 4 * 31


# ---------------------------------------------------------------- the request timeout


@pytest.mark.postgres_only
async def test_a_request_past_its_timeout_is_stopped_and_frees_its_connection(
    services: Services, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the statement is cancelled, the connection is back in the pool at once.
    (SQLite cannot cancel a statement under way: see README, Choices.)"""
    limited = bootstrap(
        replace(services.settings, limits=Limits(request_timeout_s=0.3)), engine=services.engine
    )
    real_rows = limited.store._rows

    async def slow_rows(stmt: Any) -> list[Any]:
        async with limited.engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(5)"))
        return await real_rows(stmt)

    transport = httpx.ASGITransport(app=limited.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        api = ApiClient(client, token=await make_token(services))
        query = "{ ingestEvents(first: 1) { edges { cursor } } }"
        monkeypatch.setattr(limited.store, "_rows", slow_rows)
        started = time.perf_counter()
        response = await api.post(query)
        took = time.perf_counter() - started
        assert response.status_code == 503, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "REQUEST_TIMEOUT"
        assert error["extensions"]["timeoutSeconds"] == 0.3
        assert "MES_REQUEST_TIMEOUT_S" in error["message"]
        assert took < 3, took  # not the 5 s of the slow statement
        assert limited.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with limited.engine.connect() as conn:  # and the server stopped the statement
            running = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND query = 'SELECT pg_sleep(5)' AND datname = current_database()"
                )
            )
        assert running == 0
        monkeypatch.undo()
        assert (await api.gql(query))["ingestEvents"]["edges"] is not None
        assert limited.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
