"""Live events over WebSocket against real `mes serve` processes: two servers sharing one
PostgreSQL database (an event sent to one reaches a subscriber of the other), one server on
SQLite (in-process delivery, authentication, limits, a slow client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from domain.security import lookup_of
from graphql_api.bootstrap import Services, bootstrap
from tests.conftest import ApiClient, make_token, unique
from tests.ingest_builders import IngestFactory
from tests.live import (
    LiveClient,
    Server,
    metric,
    post,
    start_server,
    wait_metric,
    wait_ready,
    wait_subscribers,
)

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message } event { id sn dedupeKey sourceSystem }
  rejection { id dedupeKey attempts } } }"""
STREAM = """subscription($f: IngestEventStreamFilter) { ingestEvents(filter: $f) {
  status error { code message } event { id sn dedupeKey sourceSystem }
  rejection { id dedupeKey attempts } } }"""
UNIT = """subscription($sn: String!) { unitUpdated(sn: $sn) {
  sn status currentStepNo tracks { stepNo result } } }"""


def refused(source: str, key: str | None = None, size: int = 0) -> dict[str, Any]:
    """An input refused for its unknown unit (stored as a rejection, `input` kept whole)."""
    return {
        "sourceSystem": source,
        "dedupeKey": key or unique("K"),
        "eventType": "AUTO",
        "occurredAt": "2026-03-02T08:15:03+01:00",
        "payload": {"station": "NONE", "pcb": {"id": unique("NOSN")}, "pad": "x" * size},
    }


@pytest.fixture(scope="module")
async def pg_pair(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Services, Server, Server]]:
    """Two `mes serve` processes on two ports, one PostgreSQL database (this session's)."""
    engine = create_engine(pg_url, pool_size=2)
    await upgrade(engine)
    services = bootstrap(Settings(database_url=pg_url), engine=engine)
    logs = tmp_path_factory.mktemp("serve-pg")
    a, b = start_server(pg_url, logs), start_server(pg_url, logs)
    try:
        await asyncio.gather(wait_ready(a), wait_ready(b))
        yield services, a, b
    finally:
        a.stop()
        b.stop()
        await services.close()


@pytest.fixture(scope="module")
async def sqlite_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Services, Server]]:
    """One `mes serve` on its own SQLite file, with a small queue, cap and depth."""
    path: Path = tmp_path_factory.mktemp("serve-sqlite") / "live.db"
    url = f"sqlite+aiosqlite:///{path}"
    server = start_server(
        url,
        path.parent,
        migrate=True,
        MES_SUBSCRIPTION_QUEUE="8",
        MES_MAX_SUBSCRIPTIONS_PER_CONNECTION="3",
        MES_MAX_QUERY_DEPTH="6",
    )
    try:
        await wait_ready(server)
        services = bootstrap(Settings(database_url=url))
        yield services, server
        await services.close()
    finally:
        server.stop()


async def test_an_event_sent_to_one_server_reaches_a_subscriber_of_the_other(
    pg_pair: tuple[Services, Server, Server],
) -> None:
    services, a, b = pg_pair
    f = await IngestFactory(services.bus).build(units=2)
    writer, reader = await make_token(services, "admin"), await make_token(services, "read")
    source, other = f.code("AOI-1"), unique("OTHER")
    live = await LiveClient.open(b, {"Authorization": f"Bearer {reader}"})
    await live.acked()
    before = await metric(b, "mes_subscriptions")
    await live.subscribe("mine", STREAM, {"f": {"sourceSystem": source}})
    await live.subscribe("other", STREAM, {"f": {"sourceSystem": other, "status": "REJECTED"}})
    await live.subscribe("unit", UNIT, {"sn": f.sns[0]})
    await wait_subscribers(b, int(before) + 3)

    sent = f.aoi_input(f.sns[0])
    accepted = (await post(a, writer, INGEST, {"i": sent}))["ingestEvent"]
    assert accepted["status"] == "ACCEPTED"
    assert (await live.data("mine"))["ingestEvents"] == accepted
    unit = (await live.data("unit"))["unitUpdated"]
    assert unit["sn"] == f.sns[0] and unit["tracks"] == [{"stepNo": 10, "result": "PASS"}]

    rejected = (await post(a, writer, INGEST, {"i": refused(source)}))["ingestEvent"]
    assert rejected["status"] == "REJECTED" and rejected["rejection"]["id"]
    assert (await live.data("mine"))["ingestEvents"] == rejected

    # a DUPLICATE writes nothing new, another source is filtered out: the next item of
    # "mine" is the last event sent, and "other" sees only its own
    duplicate = (await post(a, writer, INGEST, {"i": sent}))["ingestEvent"]
    assert duplicate["status"] == "DUPLICATE"
    elsewhere = (await post(a, writer, INGEST, {"i": refused(other)}))["ingestEvent"]
    last = (await post(a, writer, INGEST, {"i": refused(source)}))["ingestEvent"]
    assert (await live.data("mine"))["ingestEvents"] == last
    assert (await live.data("other"))["ingestEvents"] == elsewhere
    await live.close()


async def test_a_batch_and_a_replay_publish_each_commit(
    pg_pair: tuple[Services, Server, Server],
) -> None:
    services, a, b = pg_pair
    f = await IngestFactory(services.bus).build(units=2)
    admin = await make_token(services, "admin")
    source = f.code("AOI-1")
    live = await LiveClient.open(b, {"token": admin})
    await live.acked()
    before = await metric(b, "mes_subscriptions")
    await live.subscribe("s", STREAM, {"f": {"sourceSystem": source}})
    await wait_subscribers(b, int(before) + 1)
    batch = """mutation($i: [IngestEventInput!]!) { ingestEvents(inputs: $i) {
      status rejection { id } event { id } } }"""
    items = [f.aoi_input(f.sns[0]), refused(source), f.aoi_input(f.sns[1])]
    answered = (await post(a, admin, batch, {"i": items}))["ingestEvents"]
    assert [r["status"] for r in answered] == ["ACCEPTED", "REJECTED", "ACCEPTED"]
    for r in answered:
        got = (await live.data("s"))["ingestEvents"]
        assert (got["status"], got["event"], got["rejection"]) == (
            r["status"],
            r["event"] and {**got["event"], "id": r["event"]["id"]},
            r["rejection"] and {**got["rejection"], "id": r["rejection"]["id"]},
        )
    replay = (
        """mutation($id: ID!) { replayRejection(id: $id) { status rejection { id attempts } } }"""
    )
    again = await post(a, admin, replay, {"id": answered[1]["rejection"]["id"]})
    assert again["replayRejection"]["status"] == "REJECTED"
    got = (await live.data("s"))["ingestEvents"]
    assert got["rejection"]["id"] == answered[1]["rejection"]["id"]
    assert got["rejection"]["attempts"] == 2
    await live.close()


async def test_sqlite_delivers_in_process(sqlite_one: tuple[Services, Server]) -> None:
    services, server = sqlite_one
    f = await IngestFactory(services.bus).build(units=1)
    admin = await make_token(services, "admin")
    live = await LiveClient.open(server, {"Authorization": f"Bearer {admin}"})
    await live.acked()
    before = await metric(server, "mes_subscriptions")
    await live.subscribe("s", STREAM, {"f": {"sourceSystem": f.code("AOI-1")}})
    await live.subscribe("u", UNIT, {"sn": f.sns[0]})
    await wait_subscribers(server, int(before) + 2)
    accepted = (await post(server, admin, INGEST, {"i": f.aoi_input(f.sns[0])}))["ingestEvent"]
    assert (await live.data("s"))["ingestEvents"] == accepted
    assert (await live.data("u"))["unitUpdated"]["currentStepNo"] == 20
    rejected = (await post(server, admin, INGEST, {"i": refused(f.code("AOI-1"))}))["ingestEvent"]
    assert (await live.data("s"))["ingestEvents"] == rejected
    await live.close()


@pytest.mark.parametrize("payload", [None, {}, {"token": "mes_" + "x" * 43}, "ingest", "bearer"])
async def test_a_connection_without_a_read_token_is_closed_forbidden(
    sqlite_one: tuple[Services, Server], payload: Any
) -> None:
    services, server = sqlite_one
    if payload == "ingest":  # a valid token without the read scope
        payload = {"Authorization": f"Bearer {await make_token(services, 'ingest', 'SRC')}"}
    elif payload == "bearer":  # a revoked token
        from domain.actors import Actor
        from domain.usecases.tokens import RevokeToken

        secret = await make_token(services, "read")
        tokens = await services.store.token_by_lookup(lookup_of(secret) or "")
        assert tokens is not None
        await services.bus.handle(RevokeToken(tokens.name), Actor("test", "t"))
        payload = {"token": secret}
    live = await LiveClient.open(server, payload)
    with pytest.raises(ConnectionClosed) as closed:
        await live.ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_over_websocket_only_subscriptions_run_within_the_limits(
    sqlite_one: tuple[Services, Server],
) -> None:
    services, server = sqlite_one
    live = await LiveClient.open(server, {"token": await make_token(services, "read")})
    await live.acked()
    await live.subscribe("q", '{ line(code: "X") { code } }')
    error = await live.next("q")
    assert error["type"] == "error" and "not allowed" in json.dumps(error["payload"])
    deep = 'subscription { unitUpdated(sn: "X") { run { workOrder { runs { units { edges { node { sn } } } } } } } }'
    await live.subscribe("deep", deep)
    error = await live.next("deep")
    assert error["type"] == "error" and "exceeds maximum operation depth" in json.dumps(error)
    for op in ("a", "b", "c", "d"):
        await live.subscribe(op, UNIT, {"sn": op})
    error = await live.next("d")  # MES_MAX_SUBSCRIPTIONS_PER_CONNECTION=3
    assert error["type"] == "error" and "limit" in json.dumps(error["payload"])
    await live.close()


async def test_a_client_that_does_not_read_is_disconnected(
    sqlite_one: tuple[Services, Server],
) -> None:
    services, server = sqlite_one
    admin = await make_token(services, "admin")
    source = unique("SLOW")
    # a client that reads nothing answers no ping: past MES_SUBSCRIPTION_QUEUE=8 events the
    # server drops it (its sends would otherwise buffer without bound)
    live = await LiveClient.open(server, {"token": admin}, max_size=None)
    await live.acked()
    dropped = await metric(server, "mes_subscriptions_dropped_total")
    before = await metric(server, "mes_subscriptions")
    await live.subscribe(
        "s",
        "subscription($f: IngestEventStreamFilter) { ingestEvents(filter: $f) { rejection { input } } }",
        {"f": {"sourceSystem": source}},
    )
    await wait_subscribers(server, int(before) + 1)
    batch = "mutation($i: [IngestEventInput!]!) { ingestEvents(inputs: $i) { status } }"
    items = [refused(source, size=100_000) for _ in range(10)]
    await post(server, admin, batch, {"i": items})
    await wait_metric(server, "mes_subscriptions_dropped_total", dropped + 1)
    received = 0
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(live.ws.recv(), 15)
            received += 1
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4008,
        "too slow: more than 8 events unanswered (answer pings)",
    )
    assert received == 8 + 1 + 1  # 8 events, a ping at the 4th, the 9th event: no more
    assert "subscription.too_slow" in server.log.read_text()


async def test_a_subscription_over_http_is_a_bad_request(api: ApiClient) -> None:
    response = await api.post('subscription { unitUpdated(sn: "X") { sn } }')
    assert response.status_code == 400
    assert "over WebSocket (graphql-transport-ws)" in response.text
