"""Tokens, scopes bound to sources, and what is open without a token (issue 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters import tables as t
from graphql_api.auth import FIELD_SCOPES
from graphql_api.bootstrap import Services
from graphql_api.schema import build_schema
from tests.conftest import ApiClient, make_token, unique
from tests.ingest_builders import IngestFactory

QUERY = '{ line(code: "NONE") { code } }'
UPSERT = 'mutation($c: String!) { upsertLine(input: {code: $c, name: "L"}) { line { code } error { code } } }'


def test_every_root_field_has_exactly_one_scope() -> None:
    graphql = build_schema()._schema
    assert graphql.query_type is not None and graphql.mutation_type is not None
    assert graphql.subscription_type is not None
    fields = (
        {("Query", name) for name in graphql.query_type.fields}
        | {("Mutation", name) for name in graphql.mutation_type.fields}
        | {("Subscription", name) for name in graphql.subscription_type.fields}
    )
    assert fields == set(FIELD_SCOPES)


async def test_no_or_bad_token_is_401_unauthenticated(api: ApiClient) -> None:
    for token in ("", "not-a-token", "mes_" + "x" * 43):
        response = await api.post(QUERY, token=token or " ")
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    raw = await api.client.post("/graphql", json={"query": QUERY})
    assert raw.status_code == 401 and raw.headers["www-authenticate"].startswith("Bearer")


async def test_open_endpoints(api: ApiClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.client.get(path)).status_code == 200
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200


async def test_revoked_tokens_fail_and_secrets_are_not_stored(
    api: ApiClient, services: Services
) -> None:
    from domain.actors import Actor
    from domain.usecases.tokens import CreateToken, RevokeToken

    created = await services.bus.handle(CreateToken(unique("t"), ("read",)), Actor("t", "t"))
    assert (await api.post(QUERY, token=created.secret)).status_code == 200
    async with services.engine.connect() as conn:
        stored = (
            await conn.execute(select(t.api_token).where(t.api_token.c.name == created.token.name))
        ).one()
    assert created.secret not in str(tuple(stored))
    assert stored.secret_hash != created.secret and len(stored.secret_hash) == 64
    await services.bus.handle(RevokeToken(created.token.name), Actor("t", "t"))
    assert (await api.post(QUERY, token=created.secret)).status_code == 401


@pytest.mark.parametrize(
    ("scopes", "field", "allowed"),
    [
        ("read", "query", True),
        ("read", "configure", False),
        ("ingest", "query", False),
        ("configure", "configure", True),
        ("configure", "query", False),
        ("execute", "configure", False),
        ("admin", "configure", True),
        ("admin", "query", True),
    ],
)
async def test_each_scope_allows_exactly_its_operations(
    api: ApiClient, services: Services, scopes: str, field: str, allowed: bool
) -> None:
    secret = await make_token(services, scopes, "SRC-1" if "ingest" in scopes else "")
    if field == "query":
        body = (await api.post(QUERY, token=secret)).json()
    else:
        body = (await api.post(UPSERT, {"c": unique("L")}, token=secret)).json()
    if allowed:
        assert not body.get("errors"), body
    else:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "scope" in body["errors"][0]["message"]


async def test_operations_by_scope(api: ApiClient, services: Services) -> None:
    """One call per scope family: ingest, execute and admin-only operations."""
    ingest = await make_token(services, "ingest", "GW-1")
    execute = await make_token(services, "execute")
    configure = await make_token(services, "configure")
    replay = 'mutation { replayRejection(id: "1") { status } }'
    audit = "{ auditEvents(first: 1) { edges { node { actor } } } }"
    dispose = (
        'mutation { disposeUnit(input: {sn: "x", action: SCRAP, reason: "r"}) { error { code } } }'
    )
    load = 'mutation { loadCarrier(input: {carrierNo: "c", sns: ["x"]}) { error { code } } }'
    for token, query, ok in (
        (configure, replay, False),
        (configure, audit, False),
        (ingest, load, True),  # loads are not source-bound
        (ingest, dispose, False),
        (execute, dispose, True),
        (execute, load, False),
    ):
        body = (await api.post(query, token=token)).json()
        assert (not body.get("errors")) is ok, (query, body)
    assert not (await api.post(audit)).json().get("errors")  # the fixture's admin token


INGEST = "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status error { code } rejection { id } } }"


async def test_an_ingest_token_writes_only_for_its_sources(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    mine = f.code("AOI-1")
    secret = await make_token(services, "ingest", mine)
    forged = f.aoi_input(f.sns[0]) | {"sourceSystem": "SOMEONE-ELSE"}
    r = (await api.post(INGEST, {"i": forged}, token=secret)).json()["data"]["ingestEvent"]
    assert (r["status"], r["error"]["code"], r["rejection"]) == ("REJECTED", "FORBIDDEN", None)
    async with services.engine.connect() as conn:
        rejections = (
            await conn.execute(
                select(t.ingest_rejection.c.id).where(
                    t.ingest_rejection.c.source_system == "SOMEONE-ELSE"
                )
            )
        ).all()
        audited = (
            (
                await conn.execute(
                    select(t.audit_event.c.error_code).where(
                        t.audit_event.c.entity_key == f"SOMEONE-ELSE/{forged['dedupeKey']}"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert rejections == [] and audited == ["FORBIDDEN"]
    own = (await api.post(INGEST, {"i": f.aoi_input(f.sns[0])}, token=secret)).json()["data"][
        "ingestEvent"
    ]
    assert own["status"] == "ACCEPTED"
    counts = """mutation($i: ProductionCountsInput!) { recordProductionCounts(input: $i) { error { code } } }"""
    body = {
        "eventId": unique("c"),
        "lineCode": f.code("L"),
        "quantity": 1,
        "startedAt": "2026-03-02T06:00:00Z",
        "endedAt": "2026-03-02T07:00:00Z",
        "modules": [{"module": "M1", "picked": 1, "placed": 1}],
    }
    for equipment, station, code in (
        (None, None, "FORBIDDEN"),
        ("OTHER-EQ", mine, "FORBIDDEN"),
        (mine, mine, None),  # bound by its sources, it names its station too (issue 14)
    ):
        i = body | {"equipmentId": equipment, "eventId": unique("c"), "stationCode": station}
        r = (await api.post(counts, {"i": i}, token=secret)).json()
        error = r["data"]["recordProductionCounts"]["error"]
        assert (error and error["code"]) == code, r
