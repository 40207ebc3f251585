"""`POST /cfx` (issue 21 item 3): the CFX messages whose meaning is a command — UnitsLoaded /
UnitsUnloaded (carrier loads), ComponentsPlaced (a production-count record), UnitsDisqualified
(X-outs) — each also an INFO event under its UniqueID (a resend is DUPLICATE), on both
databases, against the demo's CFX line set up natively (tests/cfx_world.py) plus the loader of
the published UnitsLoaded example and its two modules on PALLET123; and an INFO message (the
placer's UnitsDeparted) after the route finished the boards, listed on them all the same."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.actors import Actor
from domain.device_records import ModuleCount
from domain.enums import DispositionAction
from domain.usecases.lifecycle import DisposeUnit
from graphql_api.demo.cfx import LINE, X_OUT_PANEL
from tests.cfx_world import (
    LOADER,
    World,
    cfx_world,
    envelope,
    on_panel,
)
from tests.tokens import token

LOADED = "CFX.Production.LoadingAndUnloading.UnitsLoaded"
UNLOADED = "CFX.Production.LoadingAndUnloading.UnitsUnloaded"
PLACED = "CFX.ResourcePerformance.SMTPlacement.ComponentsPlaced"
DISQUALIFIED = "CFX.Production.UnitsDisqualified"
STARTED, COMPLETED = "CFX.Production.WorkStarted", "CFX.Production.WorkCompleted"
DEPARTED = "CFX.Production.UnitsDeparted"
SPI_EXAMPLE = "CFX.Production.TestAndInspection.UnitsInspected.spi"
SPI, PLACER = "Vendor1.SPI.Machine01", "Vendor6.Placer.Machine07"
CARRIER = """query($c: String!) { carrier(carrierNo: $c) {
  loads { loadedAt unloadedAt unit { sn } } } }"""
REJECTIONS = """query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) {
  edges { node { dedupeKey replayable error { code } } } } }"""


def again(env: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy under a UniqueID of its own (ours, not the SDK's), the envelope's fields changed."""
    out = copy.deepcopy(env)
    out.update(UniqueID=str(uuid.uuid4()), **changes)
    return out


@pytest.fixture(scope="module")
async def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    async with cfx_world(request, backend, tmp_path_factory.mktemp("cfxmsg"), loader=True) as world:
        yield world


async def test_units_loaded_then_unloaded_open_and_close_the_carriers_loads(world: World) -> None:
    loaded = await world.send(envelope(LOADED))
    assert loaded["status"] == "ACCEPTED", loaded["error"]
    carrier = (await world.api.gql(CARRIER, {"c": "PALLET123"}))["carrier"]
    assert sorted((ld["unit"]["sn"], ld["unloadedAt"]) for ld in carrier["loads"]) == [
        ("MODULE1", None),
        ("MODULE2", None),
    ]
    assert {ld["loadedAt"] for ld in carrier["loads"]} == {"2026-04-14T16:00:10.221034Z"}
    # the message is on the modules' trace, as an INFO event
    assert {"id": str(loaded["eventId"]), "eventType": "INFO"} in (await world.unit("MODULE1"))[
        "ingestEvents"
    ]
    # a resend changes nothing
    assert (await world.send(envelope(LOADED)))["status"] == "DUPLICATE"
    carrier = (await world.api.gql(CARRIER, {"c": "PALLET123"}))["carrier"]
    assert len(carrier["loads"]) == 2

    unloaded = await world.send(envelope(UNLOADED))
    assert unloaded["status"] == "ACCEPTED", unloaded["error"]
    carrier = (await world.api.gql(CARRIER, {"c": "PALLET123"}))["carrier"]
    assert sorted((ld["unit"]["sn"], ld["unloadedAt"]) for ld in carrier["loads"]) == [
        ("MODULE1", "2026-04-14T16:14:37.503882Z"),
        ("MODULE2", "2026-04-14T16:14:37.503882Z"),
    ]
    assert (await world.send(envelope(UNLOADED)))["status"] == "DUPLICATE"


async def test_a_load_of_unknown_units_is_refused_and_stored(world: World) -> None:
    env = envelope(LOADED)
    env = again(env)
    env["MessageBody"]["Units"] = [{"UnitIdentifier": "NO-SUCH-MODULE", "PositionNumber": 1}]
    result = await world.send(env)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "UNIT_NOT_FOUND")
    rejections = (await world.api.gql(REJECTIONS, {"s": LOADER}))["ingestRejections"]["edges"]
    stored = [e["node"] for e in rejections if e["node"]["dedupeKey"] == env["UniqueID"]]
    # stored as any refusal, not replayable (a replay reads by the mappings)
    assert stored == [
        {"dedupeKey": env["UniqueID"], "replayable": False, "error": {"code": "UNIT_NOT_FOUND"}}
    ]


async def test_components_placed_is_a_production_count_record(world: World) -> None:
    env = envelope(PLACED)
    result = await world.send(env)
    assert result["status"] == "ACCEPTED", result["error"]
    record = await world.counts(env["UniqueID"])
    assert record is not None
    assert (record.line_code, record.station_code, record.equipment_id) == (
        LINE,
        "CFX-PLACER-07",
        PLACER,
    )
    assert record.modules == (ModuleCount("CFX-PLACER-07", 920, 875),)
    assert (record.picked, record.placed, record.quantity) == (920, 875, 0)
    assert record.started_at.isoformat() == "2018-04-05T13:28:06.161835+00:00"
    assert record.ended_at.isoformat() == "2018-04-05T13:38:06.161835+00:00"
    # the placer has no track yet: no run
    assert record.run_no is None
    assert (await world.send(envelope(PLACED)))["status"] == "DUPLICATE"
    assert (await world.counts(env["UniqueID"])) == record


async def test_components_placed_counts_for_the_run_of_the_stations_latest_track(
    world: World,
) -> None:
    inspected = await world.send(envelope(SPI_EXAMPLE))
    assert inspected["status"] in ("ACCEPTED", "DUPLICATE"), inspected["error"]
    # ours: the same counts as sent by the SPI machine, whose latest track is of WO-3001-01
    env = again(envelope(PLACED), Source=SPI)
    result = await world.send(env)
    assert result["status"] == "ACCEPTED", result["error"]
    record = await world.counts(env["UniqueID"])
    assert record is not None
    assert (record.run_no, record.product_code, record.station_code) == (
        "WO-3001-01",
        "BRD-300",
        "CFX-SPI-01",
    )


async def test_a_token_bound_to_another_station_is_forbidden(world: World) -> None:
    bound = await token(world.services, "ingest", PLACER, "CFX-SPI-01")
    env = again(envelope(PLACED))
    result = await world.send(env, bound)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "FORBIDDEN")
    assert await world.counts(env["UniqueID"]) is None
    loaded = again(envelope(LOADED), Source=LOADER)
    bound = await token(world.services, "ingest", LOADER, "CFX-SPI-01")
    result = await world.send(loaded, bound)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "FORBIDDEN")


async def test_units_disqualified_makes_the_boards_x_out(world: World) -> None:
    env = envelope(DISQUALIFIED, "cfx-own")
    result = await world.send(env)
    assert result["status"] == "ACCEPTED", result["error"]
    reason = (
        "disqualified by Vendor1.AOI.Machine02 (DefectiveRepairNotPossible): "
        "The units were accidentally dropped, and irrepairably damaged"
    )
    for sn in (await world.boards("CARRIER5566")).values():
        unit = await world.unit(sn)
        assert unit["status"] == "X_OUT"
        assert unit["dispositions"] == [
            {"action": "X_OUT", "reason": reason, "fromStatus": "QUEUED", "toStatus": "X_OUT"}
        ]
        assert {"id": str(result["eventId"]), "eventType": "INFO"} in unit["ingestEvents"]
    assert (await world.send(env))["status"] == "DUPLICATE"
    for sn in (await world.boards("CARRIER5566")).values():
        assert len((await world.unit(sn))["dispositions"]) == 1


async def test_boards_x_out_or_finished_are_left_as_they_are(world: World) -> None:
    """Position 3 of the demo's X-out panel is X_OUT since registration, position 4 scrapped
    here: both unchanged (listed in the event), position 1 disqualified."""
    boards = await world.boards(X_OUT_PANEL)
    await world.services.bus.handle(
        DisposeUnit(boards[4], DispositionAction.SCRAP, "dropped"), Actor("test", "scrap")
    )
    env = again(envelope(DISQUALIFIED, "cfx-own"))
    env["MessageBody"]["Reason"] = "DefectiveMaterials"
    env["MessageBody"]["Comments"] = None
    env["MessageBody"]["Units"] = [
        {"UnitIdentifier": X_OUT_PANEL, "PositionNumber": p} for p in (1, 3, 4)
    ]
    result = await world.send(env)
    assert result["status"] == "ACCEPTED", result["error"]
    first = await world.unit(boards[1])
    assert first["status"] == "X_OUT"
    assert first["dispositions"][-1]["reason"] == (
        "disqualified by Vendor1.AOI.Machine02 (DefectiveMaterials)"
    )
    assert [d["action"] for d in (await world.unit(boards[3]))["dispositions"]] == ["X_OUT"]
    scrapped = await world.unit(boards[4])
    assert scrapped["status"] == "SCRAPPED"
    assert [d["action"] for d in scrapped["dispositions"]] == ["SCRAP"]
    async with world.services.ingest.uow_factory() as uow:
        event = await uow.ingest_events.get_by_id(int(result["eventId"]))
    assert event is not None and event.normalized is not None
    assert event.normalized["xOuts"] == [boards[1]]
    assert event.normalized["unchanged"] == [
        {"sn": boards[3], "status": "X_OUT"},
        {"sn": boards[4], "status": "SCRAPPED"},
    ]


async def test_a_disqualification_of_unknown_units_is_refused(world: World) -> None:
    env = again(envelope(DISQUALIFIED, "cfx-own"))
    env["MessageBody"]["Units"] = [{"UnitIdentifier": "NO-SUCH-BOARD", "PositionNumber": 0}]
    result = await world.send(env)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "UNIT_NOT_FOUND")
    env["MessageBody"]["Units"] = []
    env["UniqueID"] = str(uuid.uuid4())
    result = await world.send(env)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "VALIDATION_FAILED")


async def test_units_unloaded_naming_no_units_unloads_them_all(world: World) -> None:
    loaded = again(envelope(LOADED))
    loaded["MessageBody"]["UniqueIdentifier"] = "PALLET9"
    assert (await world.send(loaded))["status"] == "ACCEPTED"
    unloaded = again(envelope(UNLOADED))
    unloaded["MessageBody"].update(UniqueIdentifier="PALLET9", UnitCount=0, Units=[])
    result = await world.send(unloaded)
    assert result["status"] == "ACCEPTED", result["error"]
    loads = (await world.api.gql(CARRIER, {"c": "PALLET9"}))["carrier"]["loads"]
    assert len(loads) == 2 and all(ld["unloadedAt"] for ld in loads)
    # the units it unloaded are its units: on their trace
    for sn in ("MODULE1", "MODULE2"):
        events = (await world.unit(sn))["ingestEvents"]
        assert {"id": str(result["eventId"]), "eventType": "INFO"} in events
    # the carrier is the message's: one that names none is refused
    unloaded = again(unloaded)
    unloaded["MessageBody"]["UniqueIdentifier"] = " "
    result = await world.send(unloaded)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "VALIDATION_FAILED")


async def test_other_counts_under_a_sent_unique_id_are_a_conflict(world: World) -> None:
    env = again(envelope(PLACED))
    assert (await world.send(env))["status"] == "ACCEPTED"
    env["MessageBody"]["TotalComponentsPlaced"] = 874
    result = await world.send(env)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "IDEMPOTENCY_CONFLICT")
    kept = await world.counts(env["UniqueID"])
    assert kept is not None and kept.placed == 875
    env["UniqueID"] = str(uuid.uuid4())
    env["MessageBody"]["EndTime"] = "yesterday"
    result = await world.send(env)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "VALIDATION_FAILED")
    assert await world.counts(env["UniqueID"]) is None


async def test_a_held_board_disqualified_is_x_out_and_let_go_of(world: World) -> None:
    board = (await world.boards(X_OUT_PANEL))[2]
    await world.services.bus.handle(
        DisposeUnit(board, DispositionAction.HOLD, "suspect"), Actor("test", "hold")
    )
    holds = """query($sn: String!) { unit(sn: $sn) { holds { closedAt } } }"""
    assert (await world.api.gql(holds, {"sn": board}))["unit"]["holds"] == [{"closedAt": None}]
    env = again(envelope(DISQUALIFIED, "cfx-own"))
    env["MessageBody"]["Units"] = [{"UnitIdentifier": board}]
    result = await world.send(env)
    assert result["status"] == "ACCEPTED", result["error"]
    unit = await world.unit(board)
    assert unit["status"] == "X_OUT"
    assert [(d["fromStatus"], d["toStatus"]) for d in unit["dispositions"]][-1] == (
        "ON_HOLD",
        "X_OUT",
    )
    [hold] = (await world.api.gql(holds, {"sn": board}))["unit"]["holds"]
    assert hold["closedAt"] is not None


# ---------------------------------------------------------------- INFO after the route


async def test_units_departed_after_the_last_step_is_on_the_done_boards(world: World) -> None:
    """As a placer sends them (the published WorkStarted, WorkCompleted and UnitsDeparted, on a
    panel of ours): the completion finishes the boards' route (CFX-PLACE has one step), the
    departure comes after and is still on the DONE boards' trace, changing nothing."""
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    for name in (STARTED, COMPLETED):
        result = await world.send(on_panel(name, panel, tx))
        assert result["status"] == "ACCEPTED", result["error"]
    boards = [f"{panel}-1", f"{panel}-2"]
    before = [await world.unit(sn) for sn in boards]
    assert [(u["status"], len(u["tracks"])) for u in before] == [("DONE", 1), ("DONE", 1)]

    departed = await world.send(on_panel(DEPARTED, panel))
    event = await world.event(departed)
    assert (event["eventType"], sorted(event["snList"]), event["tracks"]) == ("INFO", boards, [])
    assert sorted(event["normalized"]["terminalSns"]) == boards
    for sn, unit in zip(boards, before, strict=True):
        after = await world.unit(sn)
        assert (after["status"], after["tracks"]) == ("DONE", unit["tracks"])
        assert {"id": event["id"], "eventType": "INFO"} in after["ingestEvents"]
