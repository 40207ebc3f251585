"""One CFX envelope sent many times at once (a machine retrying on several connections, a
broker redelivering while the first copy is still in the pipeline), through `POST /cfx` on
both databases (PostgreSQL judges the senders side by side): one ACCEPTED, every other
DUPLICATE of that event, and what the message means written once — a result's tracks, a
start, a carrier's loads, a production count."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from graphql_api.demo.cfx import PLACER, SPI
from tests.cfx_world import (
    World,
    cfx_world,
    envelope,
    on_panel,
)

SENDERS = 8
CARRIER = """query($c: String!) { carrier(carrierNo: $c) { loads { unloadedAt unit { sn } } } }"""


@pytest.fixture(scope="module")
async def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    async with cfx_world(
        request, backend, tmp_path_factory.mktemp("cfxonce"), loader=True
    ) as world:
        yield world


async def at_once(world: World, env: dict[str, Any]) -> int:
    """The envelope sent by SENDERS at once: one ACCEPTED, the rest DUPLICATE of its event;
    that event's id."""
    await world.bearer(env["Source"])  # the machine's token, made before the senders start
    answers = await asyncio.gather(*(world.send(env) for _ in range(SENDERS)))
    assert sorted(a["status"] for a in answers) == ["ACCEPTED"] + ["DUPLICATE"] * (SENDERS - 1)
    assert [a["error"] for a in answers] == [None] * SENDERS
    [event_id] = {a["eventId"] for a in answers}
    return int(event_id)


async def test_a_result_message_writes_its_tracks_once(world: World) -> None:
    panel = await world.panel_on("CFX-PANEL", "BRD-300")
    env = on_panel("CFX.Production.TestAndInspection.UnitsInspected.spi", panel)
    env["MessageBody"]["InspectedUnits"] = [
        {"UnitIdentifier": panel, "UnitPositionNumber": n, "OverallResult": "Passed"}
        for n in (1, 2)
    ]
    assert env["Source"] == SPI
    await at_once(world, env)
    for n in (1, 2):
        unit = await world.unit(f"{panel}-{n}")
        assert [(t["stepNo"], t["result"]) for t in unit["tracks"]] == [(10, "PASS")]


async def test_a_start_is_recorded_once(world: World) -> None:
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    event_id = await at_once(world, on_panel("CFX.Production.WorkStarted", panel, tx))
    async with world.services.ingest.uow_factory() as uow:
        work = await uow.cfx_work.get(PLACER, tx)
    assert work is not None and work.start_event_id == event_id


async def test_a_load_opens_each_boards_load_once(world: World) -> None:
    panel, carrier = await world.panel_on("CFX-PLACE", "BRD-340"), f"PAL-{uuid.uuid4().hex[:8]}"
    env = on_panel("CFX.Production.LoadingAndUnloading.UnitsLoaded", panel)
    env["MessageBody"]["UniqueIdentifier"] = carrier
    await at_once(world, env)
    loads = (await world.api.gql(CARRIER, {"c": carrier}))["carrier"]["loads"]
    assert sorted((ld["unit"]["sn"], ld["unloadedAt"]) for ld in loads) == [
        (f"{panel}-1", None),
        (f"{panel}-2", None),
    ]


async def test_a_placement_count_is_recorded_once(world: World) -> None:
    env = envelope("CFX.ResourcePerformance.SMTPlacement.ComponentsPlaced")
    env["UniqueID"] = str(uuid.uuid4())
    await at_once(world, env)
    record = await world.counts(env["UniqueID"])
    assert record is not None and (record.picked, record.placed) == (920, 875)


async def test_two_results_for_one_board_at_one_step_accept_one(world: World) -> None:
    """Two inspections of one panel at the SPI under UniqueIDs of their own, at once: one is
    ACCEPTED, the other is judged where the boards now stand, the AOI's step, whose station
    the SPI is not (STATION_MISMATCH: both steps are AUTO)."""
    panel = await world.panel_on("CFX-PANEL", "BRD-300")
    sent = []
    for _ in range(2):  # both passing (a FAIL first would leave a re-inspection allowed)
        env = on_panel("CFX.Production.TestAndInspection.UnitsInspected.spi", panel)
        env["MessageBody"]["InspectedUnits"] = [
            {"UnitIdentifier": panel, "UnitPositionNumber": n, "OverallResult": "Passed"}
            for n in (1, 2)
        ]
        sent.append(env)
    await world.bearer(SPI)
    answers = await asyncio.gather(*(world.send(env) for env in sent))
    outcomes = sorted((a["status"], (a["error"] or {}).get("code")) for a in answers)
    assert outcomes == [("ACCEPTED", None), ("REJECTED", "STATION_MISMATCH")], answers
    for n in (1, 2):
        assert len((await world.unit(f"{panel}-{n}"))["tracks"]) == 1
