"""Parked events seen and expired (issue 20 items 3 and 4), on both databases: the
`parkedEvents` connection, `unit.parkedEvents` in the trace, `mes parked expire`, and the sweep
inside the server. Parked events are stored with `uow.parked.add`, as the pipeline parks them."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.settings import Settings
from adapters.sweep_lock import exclusive
from domain.ingest.records import ParkedEvent
from domain.usecases.parking import expire_parked
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.cli import main
from graphql_api.park_sweep import SWEEP_LOCK, sweep_once
from tests.conftest import ApiClient, count_statements
from tests.ingest_builders import IngestFactory
from tests.parking_builders import parked_ict
from tests.queries import TRACE

PARKED = """query($f: ParkedEventFilter, $first: Int, $after: String) {
  parkedEvents(filter: $f, first: $first, after: $after) {
    edges { cursor node { id sourceSystem dedupeKey eventType occurredAt receivedAt
      waitingForStepNo expiresAt units { sn currentStepNo } } }
    pageInfo { hasNextPage endCursor } } }"""

UNIT_PARKED = """query($sn: String!) { unit(sn: $sn) {
  parkedEvents { dedupeKey waitingForStepNo units { sn } } } }"""

REJECTIONS = """query($f: IngestRejectionFilter) { ingestRejections(filter: $f) {
  edges { node { id dedupeKey receivedAt replayable sns error { code message details } } } } }"""

REPLAY = """mutation($id: ID!) { replayRejection(id: $id) { status error { code }
  parkedEvent { dedupeKey waitingForStepNo expiresAt } } }"""

NOW = datetime.now(UTC).replace(microsecond=0)


async def _park(services: Services, *events: ParkedEvent) -> list[ParkedEvent]:
    async with services.bus.uow_factory() as uow:
        stored = [await uow.parked.add(p) for p in events]
        await uow.commit()
    return stored


async def _factory(services: Services, units: int = 3) -> tuple[IngestFactory, dict[str, int]]:
    f = await IngestFactory(services.bus).build(units=units)
    found = await services.store.units(f.sns)
    return f, {sn: u.id or 0 for sn, u in found.items()}


def _keys(page: dict[str, Any]) -> list[str]:
    return [e["node"]["dedupeKey"] for e in page["edges"]]


async def test_parked_events_are_listed_newest_first_filtered_and_paged(
    api: ApiClient, services: Services
) -> None:
    f, ids = await _factory(services)
    a, b = f.sns[:2]
    await _park(
        services,
        parked_ict(f, a, ids[a], NOW - timedelta(seconds=3), key=f.code("K1")),
        parked_ict(f, b, ids[b], NOW - timedelta(seconds=2), key=f.code("K2")),
        parked_ict(f, a, ids[a], NOW - timedelta(seconds=1), key=f.code("K3")),
    )
    source = {"sourceSystem": f.code("ICT-1")}
    every = (await api.gql(PARKED, {"f": source}))["parkedEvents"]
    assert _keys(every) == [f.code("K3"), f.code("K2"), f.code("K1")]
    node = every["edges"][0]["node"]
    assert node["sourceSystem"] == f.code("ICT-1") and node["eventType"] == "TEST"
    assert node["waitingForStepNo"] == 20
    assert node["units"] == [{"sn": a, "currentStepNo": 10}]
    assert datetime.fromisoformat(node["expiresAt"]) - datetime.fromisoformat(
        node["receivedAt"]
    ) == timedelta(hours=1)
    by_sn = (await api.gql(PARKED, {"f": {**source, "sn": a}}))["parkedEvents"]
    assert _keys(by_sn) == [f.code("K3"), f.code("K1")]
    assert _keys((await api.gql(PARKED, {"f": {"sn": b}}))["parkedEvents"]) == [f.code("K2")]
    assert (await api.gql(PARKED, {"f": {"sourceSystem": f.code("NONE")}}))["parkedEvents"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    first = (await api.gql(PARKED, {"f": source, "first": 2}))["parkedEvents"]
    assert _keys(first) == [f.code("K3"), f.code("K2")] and first["pageInfo"]["hasNextPage"]
    rest = (
        await api.gql(PARKED, {"f": source, "first": 2, "after": first["pageInfo"]["endCursor"]})
    )["parkedEvents"]
    assert _keys(rest) == [f.code("K1")] and not rest["pageInfo"]["hasNextPage"]
    errors = await api.errors(PARKED, {"after": "not a cursor"})
    assert "invalid cursor" in errors[0]["message"]


async def test_parked_events_need_the_read_scope(api: ApiClient, services: Services) -> None:
    from tests.conftest import make_token

    ingest_only = await make_token(services, scopes="ingest", sources="X")
    body = (await api.post("{ parkedEvents { edges { cursor } } }", token=ingest_only)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reader = await make_token(services, scopes="read")
    body = (await api.post("{ parkedEvents { edges { cursor } } }", token=reader)).json()
    assert "errors" not in body


async def test_a_unit_shows_what_waits_for_it_at_one_statement_whatever_the_size(
    api: ApiClient, services: Services
) -> None:
    f, ids = await _factory(services)
    few, many, none = f.sns
    # one event for two boards: each shows it, with both its units
    both = replace(
        parked_ict(f, many, ids[many], NOW, key=f.code("BOTH")),
        unit_ids=(ids[few], ids[many]),
        sns=(few, many),
    )
    await _park(
        services,
        both,
        *(parked_ict(f, many, ids[many], NOW, key=f.code(f"M{i}")) for i in range(8)),
    )
    shown = (await api.gql(UNIT_PARKED, {"sn": few}))["unit"]["parkedEvents"]
    assert shown == [
        {"dedupeKey": f.code("BOTH"), "waitingForStepNo": 20, "units": [{"sn": few}, {"sn": many}]}
    ]
    assert len((await api.gql(UNIT_PARKED, {"sn": many}))["unit"]["parkedEvents"]) == 9
    assert (await api.gql(UNIT_PARKED, {"sn": none}))["unit"]["parkedEvents"] == []
    # the trace without parkedEvents reads nothing of them; with them, one statement more
    asked = TRACE.replace("sn status currentStepNo", "sn status currentStepNo parkedEvents { id }")
    for sn in (few, many):
        await api.gql(TRACE, {"sn": sn})  # warm: the route version's cache
    costs = []
    for sn in (few, many, none):
        with count_statements(services.engine) as plain:
            await api.gql(TRACE, {"sn": sn})
        with count_statements(services.engine) as with_parked:
            await api.gql(asked, {"sn": sn})
        assert not any("parked_event" in s for s in plain)
        costs.append(len(with_parked) - len(plain))
    assert costs == [1, 1, 1]


def _invoke(*args: str) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, list(args)).result()


def _url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def test_mes_parked_expire_turns_expired_events_into_replayable_rejections(
    api: ApiClient, services: Services
) -> None:
    f, ids = await _factory(services)
    a, b = f.sns[:2]
    old, fresh = await _park(
        services,
        parked_ict(f, a, ids[a], NOW - timedelta(hours=2), key=f.code("OLD")),
        parked_ict(f, b, ids[b], NOW, key=f.code("FRESH")),
    )
    result = _invoke("parked", "expire", "--database-url", _url(services.engine))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("expired: ")
    assert int(result.output.split()[-1]) >= 1
    source = {"sourceSystem": f.code("ICT-1")}
    assert _keys((await api.gql(PARKED, {"f": source}))["parkedEvents"]) == [f.code("FRESH")]
    found = (await api.gql(REJECTIONS, {"f": {**source, "code": "PARKED_EXPIRED"}}))[
        "ingestRejections"
    ]["edges"]
    assert [e["node"]["dedupeKey"] for e in found] == [f.code("OLD")]
    rejection = found[0]["node"]
    assert rejection["replayable"] and rejection["sns"] == [a]
    assert datetime.fromisoformat(rejection["receivedAt"]) == old.received_at
    assert rejection["error"]["details"] == {
        "waitingForStepNo": 20,
        "parkedAt": old.received_at.isoformat(),
        "expiresAt": old.expires_at.isoformat(),
        "sns": [a],
    }
    assert "step 20" in rejection["error"]["message"]
    # a replay judges it again: its unit is still at step 10, so it parks again, with a new
    # expiry (the rejection stays open until the event is accepted)
    replayed = (await api.gql(REPLAY, {"id": rejection["id"]}))["replayRejection"]
    assert replayed["status"] == "PARKED", replayed
    assert replayed["parkedEvent"]["dedupeKey"] == f.code("OLD")
    assert replayed["parkedEvent"]["waitingForStepNo"] == 20
    assert datetime.fromisoformat(replayed["parkedEvent"]["expiresAt"]) > NOW
    again = _invoke("parked", "expire", "--database-url", _url(services.engine))
    assert again.exit_code == 0, again.output
    # newest received first: the one parked again by the replay
    assert _keys((await api.gql(PARKED, {"f": source}))["parkedEvents"]) == [
        f.code("OLD"),
        f.code("FRESH"),
    ]
    assert fresh.id is not None


async def test_the_server_sweeps_expired_events(engine: AsyncEngine, api: ApiClient) -> None:
    from graphql_api.metrics import PARK_EXPIRED

    swept = bootstrap(
        Settings(database_url=str(engine.url), park_sweep_interval_s=0.05), engine=engine
    )
    f, ids = await _factory(swept)
    sn = f.sns[0]
    await _park(swept, parked_ict(f, sn, ids[sn], NOW - timedelta(hours=2), key=f.code("OLD")))
    counted = PARK_EXPIRED._value.get()
    source = {"sourceSystem": f.code("ICT-1")}
    app = swept.app()
    async with app.router.lifespan_context(app):
        for _ in range(200):
            if not _keys((await api.gql(PARKED, {"f": source}))["parkedEvents"]):
                break
            await asyncio.sleep(0.05)
    assert _keys((await api.gql(PARKED, {"f": source}))["parkedEvents"]) == []
    found = (await api.gql(REJECTIONS, {"f": {**source, "code": "PARKED_EXPIRED"}}))[
        "ingestRejections"
    ]["edges"]
    assert [e["node"]["dedupeKey"] for e in found] == [f.code("OLD")]
    assert PARK_EXPIRED._value.get() >= counted + 1
    metrics = (await api.client.get("/metrics")).text
    assert "mes_ingest_park_expired_total" in metrics


async def test_a_sweep_interval_of_zero_starts_no_sweep(engine: AsyncEngine) -> None:
    idle = bootstrap(Settings(database_url=str(engine.url), park_sweep_interval_s=0), engine=engine)
    assert idle._background() == []


@pytest.mark.postgres_only
async def test_two_sweeps_at_once_expire_each_event_once(
    api: ApiClient, services: Services
) -> None:
    f, ids = await _factory(services, units=4)
    await _park(
        services,
        *(
            parked_ict(f, sn, ids[sn], NOW - timedelta(hours=2, seconds=i), key=f.code(f"E{i}{j}"))
            for i, sn in enumerate(f.sns)
            for j in range(5)
        ),
    )
    uows, clock = services.ingest.uow_factory, services.ingest.clock
    done = await asyncio.gather(
        expire_parked(uows, clock, batch=3), expire_parked(uows, clock, batch=3)
    )
    assert sum(done) >= 20
    source = {"sourceSystem": f.code("ICT-1")}
    found = (await api.gql(REJECTIONS, {"f": {**source, "code": "PARKED_EXPIRED"}}))[
        "ingestRejections"
    ]["edges"]
    keys = [e["node"]["dedupeKey"] for e in found]
    assert len(keys) == 20 and len(set(keys)) == 20
    assert _keys((await api.gql(PARKED, {"f": source}))["parkedEvents"]) == []


@pytest.mark.postgres_only
async def test_one_process_sweeps_at_a_time(services: Services) -> None:
    engine = services.engine
    async with exclusive(engine, SWEEP_LOCK) as first:
        async with exclusive(engine, SWEEP_LOCK) as second:
            assert first and not second
        # while another holds it, a round is skipped
        assert await sweep_once(engine, services.ingest) is None
    async with exclusive(engine, SWEEP_LOCK) as after:
        assert after


def test_the_sweep_interval_is_a_checked_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.settings import ConfigError

    monkeypatch.setenv("MES_PARK_SWEEP_INTERVAL", "0.5")
    assert Settings.from_env().park_sweep_interval_s == 0.5
    monkeypatch.delenv("MES_PARK_SWEEP_INTERVAL")
    assert Settings.from_env().park_sweep_interval_s == 60
    monkeypatch.setenv("MES_PARK_SWEEP_INTERVAL", "-1")
    with pytest.raises(ConfigError, match="MES_PARK_SWEEP_INTERVAL"):
        Settings.from_env()
