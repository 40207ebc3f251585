from __future__ import annotations

import httpx

from adapters.read_store import SqlReadStore
from adapters.settings import Settings
from graphql_api.bootstrap import Services, bootstrap
from tests.conftest import ApiClient


async def test_healthz_and_readyz(api: ApiClient) -> None:
    health = await api.client.get("/healthz")
    ready = await api.client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()["database"]) == (200, "ok")


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    # a PostgreSQL port where nothing listens
    services: Services = bootstrap(
        Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none")
    )
    transport = httpx.ASGITransport(app=services.app())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
    finally:
        await services.close()
    assert health.status_code == 200
    assert (ready.status_code, ready.json()["database"]) == (503, "unreachable")
    assert isinstance(services.store, SqlReadStore)


async def test_graphiql_page_is_served_to_a_browser(api: ApiClient) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_the_request_id_is_the_servers_and_the_clients_is_echoed_beside_it(
    api: ApiClient,
) -> None:
    response = await api.post("{ __typename }", headers={"X-Request-ID": "gw-42"})
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["x-client-request-id"] == "gw-42"
    other = await api.post("{ __typename }", headers={"X-Request-ID": "gw-42"})
    assert other.headers["x-request-id"] != response.headers["x-request-id"]
    generated = await api.post("{ __typename }", headers={"X-Request-ID": "not sane\x01"})
    assert len(generated.headers["x-request-id"]) == 32
    assert "x-client-request-id" not in generated.headers


async def test_query_depth_is_limited(api: ApiClient) -> None:
    nested = "runNo"
    for _ in range(8):
        nested = f"workOrder {{ runs {{ {nested} }} }}"
    deep = f'{{ run(runNo: "x") {{ {nested} }} }}'
    errors = await api.errors(deep)
    assert "depth" in errors[0]["message"]


async def test_metrics_count_ingest_outcomes_and_graphql_latency(api: ApiClient) -> None:
    source = "METRICS-SRC"
    await api.post(
        """mutation Ingest($i: IngestEventInput!) { ingestEvent(input: $i) { status } }""",
        {
            "i": {
                "sourceSystem": source,
                "dedupeKey": "m-1",
                "eventType": "AUTO",
                "occurredAt": "2026-03-02T08:00:00Z",
                "payload": {"sn": "NOBODY-AT-ALL"},
            }
        },
    )
    text = (await api.client.get("/metrics")).text
    assert (
        f'mes_ingest_events_total{{code="INGEST_PAYLOAD_INVALID",source_system="{source}",status="REJECTED"}}'
        in text
        or f'mes_ingest_events_total{{code="UNIT_NOT_FOUND",source_system="{source}",status="REJECTED"}}'
        in text
    )
    assert 'mes_graphql_request_seconds_count{operation="Ingest",type="mutation"}' in text
    assert "mes_ingest_seconds_bucket" in text


def test_client_label_values_are_capped() -> None:
    from graphql_api.metrics import OTHER, LabelCap

    cap = LabelCap(limit=2)
    assert [cap("a"), cap("b"), cap("c"), cap("a")] == ["a", "b", OTHER, "a"]
