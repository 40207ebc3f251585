"""The published reflow UnitsProcessed (no units, no known start: issue 21's table) through
`POST /cfx` against the demo's CFX line set up natively, on both databases: PARKED waiting
for its transaction's WorkStarted, re-driven by it onto the start's units, or PARKED_EXPIRED
after MES_PARK_TTL."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.usecases.parking import expire_parked
from graphql_api.demo.cfx import REFLOW
from tests.cfx_world import World, cfx_world, envelope
from tests.fakes import FakeClock
from tests.tokens import token

REFLOWED = "CFX.Production.Processing.UnitsProcessed"
STARTED = "CFX.Production.WorkStarted"
#: the demo's reflow run (WO-3007-01): a 2-board panel at the oven's step
PANEL = "CARRIER7788"
PARKED = """query($f: ParkedEventFilter) { parkedEvents(filter: $f) {
  edges { node { dedupeKey eventType waitingForStepNo waitingForTransaction units { sn } } } } }"""
UNIT = """query($sn: String!) { unit(sn: $sn) { status
  tracks { stepNo result inAt outAt station { code } } } }"""
REJECTIONS = """query($f: IngestRejectionFilter) { ingestRejections(filter: $f) {
  edges { node { dedupeKey replayable sns error { code message details } } } } }"""


@pytest.fixture(scope="module")
async def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    async with cfx_world(request, backend, tmp_path_factory.mktemp("reflow")) as world:
        yield world


def start(tx: str, panel: str = PANEL) -> dict[str, Any]:
    """The oven's WorkStarted of that transaction, naming the panel's two boards."""
    env = copy.deepcopy(envelope(STARTED))
    env |= {"Source": REFLOW, "UniqueID": str(uuid.uuid4())}
    env["TimeStamp"] = "2026-04-14T08:27:00-04:00"
    env["MessageBody"]["TransactionID"] = tx
    for u in env["MessageBody"]["Units"]:
        u["UnitIdentifier"] = panel
    return env


def reflowed(tx: str) -> dict[str, Any]:
    """The published message under a UniqueID and a transaction of its own."""
    env = copy.deepcopy(envelope(REFLOWED))
    env["UniqueID"] = str(uuid.uuid4())
    env["MessageBody"]["TransactionId"] = tx
    return env


async def parked(world: World) -> dict[str, dict[str, Any]]:
    page = await world.api.gql(PARKED, {"f": {"sourceSystem": REFLOW}})
    return {e["node"]["dedupeKey"]: e["node"] for e in page["parkedEvents"]["edges"]}


async def test_the_published_reflow_message_waits_for_its_start(world: World) -> None:
    env = envelope(REFLOWED)
    tx = env["MessageBody"]["TransactionId"]
    for _ in range(2):  # a resend is PARKED again
        answer = await world.send(env)
        assert (answer["status"], answer["error"], answer["eventId"]) == ("PARKED", None, None)
    assert (await parked(world))[env["UniqueID"]] == {
        "dedupeKey": env["UniqueID"],
        "eventType": "AUTO",
        "waitingForStepNo": None,
        "waitingForTransaction": tx,
        "units": [],
    }
    # the start of another transaction re-drives nothing
    other = await world.send(start(str(uuid.uuid4()), panel="NOT-THIS-ONE"))
    assert other["status"] == "ACCEPTED"
    assert env["UniqueID"] in await parked(world)

    # its WorkStarted: the message is written on the start's units, in the start's transaction
    started = await world.send(start(tx))
    assert (started["status"], started["error"]) == ("ACCEPTED", None)
    assert env["UniqueID"] not in await parked(world)
    for n in (1, 2):
        unit = (await world.api.gql(UNIT, {"sn": f"{PANEL}-{n}"}))["unit"]
        [track] = unit["tracks"]
        assert (track["stepNo"], track["result"], unit["status"]) == (10, "PASS", "DONE")
        assert track["station"] == {"code": "CFX-REFLOW-06"}
        assert datetime.fromisoformat(track["inAt"]) == datetime(2026, 4, 14, 12, 27, tzinfo=UTC)
        assert datetime.fromisoformat(track["outAt"]) == datetime.fromisoformat(env["TimeStamp"])
    assert (await world.send(env))["status"] == "DUPLICATE"


async def test_a_start_naming_unknown_units_refuses_what_waited_for_it(world: World) -> None:
    """Re-driven and refused as any event (a replayable rejection received when it came)."""
    tx = str(uuid.uuid4())
    env = reflowed(tx)
    assert (await world.send(env))["status"] == "PARKED"
    assert (await world.send(start(tx, panel="NO-SUCH-PANEL")))["status"] == "ACCEPTED"
    assert env["UniqueID"] not in await parked(world)
    found = await world.api.gql(REJECTIONS, {"f": {"sourceSystem": REFLOW}})
    [rejection] = [
        e["node"]
        for e in found["ingestRejections"]["edges"]
        if e["node"]["dedupeKey"] == env["UniqueID"]
    ]
    assert (rejection["error"]["code"], rejection["replayable"]) == ("UNIT_NOT_FOUND", True)


async def test_one_whose_start_never_comes_expires(world: World) -> None:
    """Past MES_PARK_TTL (the sweep's clock two days on): a PARKED_EXPIRED rejection naming
    the transaction it waited for."""
    tx = str(uuid.uuid4())
    env = reflowed(tx)
    assert (await world.send(env))["status"] == "PARKED"
    clock = FakeClock(datetime.now(UTC) + timedelta(days=2))
    assert await expire_parked(world.services.ingest.uow_factory, clock) >= 1
    assert env["UniqueID"] not in await parked(world)
    found = await world.api.gql(
        REJECTIONS, {"f": {"sourceSystem": REFLOW, "code": "PARKED_EXPIRED"}}
    )
    [rejection] = [
        e["node"]
        for e in found["ingestRejections"]["edges"]
        if e["node"]["dedupeKey"] == env["UniqueID"]
    ]
    assert (rejection["replayable"], rejection["sns"]) == (True, [])
    assert rejection["error"]["details"]["waitingForTransaction"] == tx
    assert (
        f"waiting for the WorkStarted of TransactionID '{tx}' from {REFLOW}"
        in (rejection["error"]["message"])
    )


async def test_a_token_bound_to_another_station_parks_nothing(world: World) -> None:
    """The station binding holds before it is parked: FORBIDDEN, nothing kept."""
    env = reflowed(str(uuid.uuid4()))
    bound = await token(world.services, "ingest", REFLOW, "CFX-COATER-05")
    response = await world.api.client.post(
        "/cfx", content=json.dumps(env).encode(), headers={"Authorization": f"Bearer {bound}"}
    )
    [answer] = response.json()["results"]
    assert (answer["status"], answer["error"]["code"]) == ("REJECTED", "FORBIDDEN")
    assert env["UniqueID"] not in await parked(world)
