"""WorkStarted → WorkCompleted and result-message pairing by `(Source, TransactionID)` (issue
21), through `POST /cfx` against the demo's CFX line set up natively, on both databases: the
published placer pair, then panels of our own (a fresh panel per case) on the placer's route
(CFX-PLACE) and on the SPI's (CFX-PANEL)."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from domain.cfx.work import NIL_TRANSACTION as NIL
from domain.usecases.parking import redrive_started
from graphql_api.demo.cfx import AOI, COATER, PLACER, SPI
from tests.cfx_world import World, cfx_world, envelope, on_panel

STARTED, COMPLETED = "CFX.Production.WorkStarted", "CFX.Production.WorkCompleted"
SPI_EXAMPLE = "CFX.Production.TestAndInspection.UnitsInspected.spi"
UNIT = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo result inAt outAt } ingestEvents { id eventType } } }"""


@pytest.fixture(scope="module")
async def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    async with cfx_world(request, backend, tmp_path_factory.mktemp("cfxpair")) as world:
        yield world


def start(source: str, panel: str, tx: str, at: str = "2026-04-14T08:20:02.3769532-04:00") -> Any:
    return on_panel(STARTED, panel, tx) | {"Source": source, "TimeStamp": at}


def completed(
    source: str, tx: str, result: str = "Completed", panel: str | None = None
) -> dict[str, Any]:
    env = copy.deepcopy(envelope(COMPLETED))
    env |= {"Source": source, "UniqueID": str(uuid.uuid4())}
    env["MessageBody"] |= {"TransactionID": tx, "Result": result}
    if panel is not None:
        env["MessageBody"]["Units"] = [
            {"UnitIdentifier": panel, "PositionNumber": n, "Status": "Pass"} for n in (1, 2)
        ]
    return env


def inspected(panel: str, tx: str) -> dict[str, Any]:
    """The SPI's UnitsInspected for our panel's two boards, both passing."""
    env = copy.deepcopy(envelope(SPI_EXAMPLE))
    env["UniqueID"] = str(uuid.uuid4())
    env["MessageBody"]["TransactionID"] = tx
    env["MessageBody"]["InspectedUnits"] = [
        {"UnitIdentifier": panel, "UnitPositionNumber": n, "OverallResult": "Passed"}
        for n in (1, 2)
    ]
    return env


async def board(world: World, sn: str) -> dict[str, Any]:
    return dict((await world.api.gql(UNIT, {"sn": sn}))["unit"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def accepted(world: World, env: dict[str, Any], event_type: str) -> int:
    result = await world.send(env)
    assert (result["status"], result["error"]) == ("ACCEPTED", None), result
    event = await world.event(result)
    assert event["eventType"] == event_type
    return int(result["eventId"])


# ---------------------------------------------------------------- the published pair


async def test_the_published_placer_pair_passes_both_boards(world: World) -> None:
    started = envelope(STARTED)
    await accepted(world, started, "INFO")
    for n in (1, 2):  # the start changes no unit
        unit = await board(world, f"CARRIER5566-{n}")
        assert (unit["status"], unit["tracks"]) == ("QUEUED", [])
    await accepted(world, envelope(COMPLETED), "AUTO")  # lists no units: the start's
    for n in (1, 2):
        unit = await board(world, f"CARRIER5566-{n}")
        [track] = unit["tracks"]
        assert (track["stepNo"], track["result"], unit["status"]) == (10, "PASS", "DONE")
        assert at(track["inAt"]) == at("2026-04-14T12:20:02.376953+00:00")
        assert at(track["inAt"]) < at(track["outAt"])
    for name in (STARTED, COMPLETED):  # a resend
        assert (await world.send(envelope(name)))["status"] == "DUPLICATE"


# ---------------------------------------------------------------- order and results


async def test_a_completion_before_its_start_is_accepted_and_the_start_fills_in_at(
    world: World,
) -> None:
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    await accepted(world, completed(PLACER, tx, panel=panel), "AUTO")
    [track] = (await board(world, f"{panel}-1"))["tracks"]
    assert (track["result"], track["inAt"]) == ("PASS", track["outAt"])
    await accepted(world, start(PLACER, panel, tx), "INFO")
    for n in (1, 2):
        [track] = (await board(world, f"{panel}-{n}"))["tracks"]
        assert at(track["inAt"]) == at("2026-04-14T12:20:02.376953+00:00") < at(track["outAt"])


@pytest.mark.parametrize(
    ("result", "status", "track"),
    [("Failed", "OUT_FAILED", "FAIL"), ("Aborted", "QUEUED", "ERROR"), ("Skipped", "X_OUT", None)],
)
async def test_the_work_result_decides(
    world: World, result: str, status: str, track: str | None
) -> None:
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    await accepted(world, start(PLACER, panel, tx), "INFO")
    answer = await world.send(completed(PLACER, tx, result))
    assert answer["status"] == "ACCEPTED", answer
    for n in (1, 2):
        unit = await board(world, f"{panel}-{n}")
        assert unit["status"] == status
        assert [t["result"] for t in unit["tracks"]] == ([track] if track else [])


async def test_a_completion_naming_no_units_without_its_start_waits_for_it(
    world: World,
) -> None:
    """PARKED (a resend too; another input under its key conflicts), then re-driven by the
    WorkStarted of its key in the start's transaction: written on the start's units."""
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    early = completed(PLACER, tx)
    for _ in range(2):
        answer = await world.send(early)
        assert (answer["status"], answer["error"], answer["eventId"]) == ("PARKED", None, None)
    other = await world.send({**early, "TimeStamp": "2026-04-14T08:25:00-04:00"})
    assert (other["status"], other["error"]["code"]) == ("REJECTED", "IDEMPOTENCY_CONFLICT")
    for n in (1, 2):
        assert (await board(world, f"{panel}-{n}"))["tracks"] == []
    await accepted(world, start(PLACER, panel, tx), "INFO")
    for n in (1, 2):
        [track] = (await board(world, f"{panel}-{n}"))["tracks"]
        assert track["result"] == "PASS" and at(track["inAt"]) < at(track["outAt"])
    assert (await world.send(early))["status"] == "DUPLICATE"


# ---------------------------------------------------------------- result messages


async def test_a_result_after_its_start_takes_its_in_at_and_the_completion_changes_nothing(
    world: World,
) -> None:
    panel, tx = await world.panel_on("CFX-PANEL", "BRD-300"), str(uuid.uuid4())
    await accepted(world, start(SPI, panel, tx, "2026-04-14T08:00:00-04:00"), "INFO")
    await accepted(world, inspected(panel, tx), "AUTO")
    before = [await board(world, f"{panel}-{n}") for n in (1, 2)]
    for unit in before:
        [track] = unit["tracks"]
        assert (track["stepNo"], track["result"], unit["currentStepNo"]) == (10, "PASS", 20)
        assert at(track["inAt"]) == at("2026-04-14T12:00:00+00:00") < at(track["outAt"])
    info = await accepted(world, completed(SPI, tx), "INFO")  # recorded on the boards only
    for n, unit in zip((1, 2), before, strict=True):
        after = await board(world, f"{panel}-{n}")
        assert (after["tracks"], after["currentStepNo"]) == (unit["tracks"], 20)
        assert {"id": str(info), "eventType": "INFO"} in after["ingestEvents"]


async def test_a_start_after_its_result_fills_in_at(world: World) -> None:
    panel, tx = await world.panel_on("CFX-PANEL", "BRD-300"), str(uuid.uuid4())
    await accepted(world, inspected(panel, tx), "AUTO")
    [track] = (await board(world, f"{panel}-2"))["tracks"]
    assert track["inAt"] == track["outAt"]
    await accepted(world, start(SPI, panel, tx, "2026-04-14T08:00:00-04:00"), "INFO")
    for n in (1, 2):
        [track] = (await board(world, f"{panel}-{n}"))["tracks"]
        assert at(track["inAt"]) == at("2026-04-14T12:00:00+00:00") < at(track["outAt"])


async def test_an_early_completion_is_parked_and_re_driven_with_its_start(world: World) -> None:
    """The AOI's start and completion (no units: the start's) while the boards are at SPI: the
    completion waits, and the SPI's result re-drives it with the start's inAt (issue 20)."""
    panel, tx = await world.panel_on("CFX-PANEL", "BRD-300"), str(uuid.uuid4())
    await accepted(world, start(AOI, panel, tx, "2026-04-14T08:10:00-04:00"), "INFO")
    assert (await world.send(completed(AOI, tx)))["status"] == "PARKED"
    await accepted(world, inspected(panel, str(uuid.uuid4())), "AUTO")
    for n in (1, 2):
        unit = await board(world, f"{panel}-{n}")
        assert [(t["stepNo"], t["result"]) for t in unit["tracks"]] == [(10, "PASS"), (20, "PASS")]
        assert at(unit["tracks"][1]["inAt"]) == at("2026-04-14T12:10:00+00:00")
        assert unit["currentStepNo"] == 30


async def test_a_completion_waiting_for_its_start_then_waits_for_its_step(world: World) -> None:
    """The AOI's completion (no units) before its start, the boards at SPI: parked for the
    start, which re-drives it and parks it again for the AOI's step (its units now known);
    the SPI's result re-drives it there, with the start's inAt."""
    panel, tx = await world.panel_on("CFX-PANEL", "BRD-300"), str(uuid.uuid4())
    early = completed(AOI, tx)
    assert (await world.send(early))["status"] == "PARKED"
    await accepted(world, start(AOI, panel, tx, "2026-04-14T08:10:00-04:00"), "INFO")
    async with world.services.ingest.uow_factory() as uow:
        again = await uow.parked.get_by_key(AOI, early["UniqueID"])
    assert again is not None
    assert (again.waiting_for_step_no, again.waiting_for_transaction) == (20, None)
    assert again.sns == (f"{panel}-1", f"{panel}-2")
    await accepted(world, inspected(panel, str(uuid.uuid4())), "AUTO")
    for n in (1, 2):
        unit = await board(world, f"{panel}-{n}")
        assert [(t["stepNo"], t["result"]) for t in unit["tracks"]] == [(10, "PASS"), (20, "PASS")]
        assert at(unit["tracks"][1]["inAt"]) == at("2026-04-14T12:10:00+00:00")


# ---------------------------------------------------------------- nothing to pair


async def test_the_nil_transaction_pairs_nothing(world: World) -> None:
    panel = await world.panel_on("CFX-PLACE", "BRD-340")
    await accepted(world, start(PLACER, panel, NIL, "2026-04-14T08:00:00-04:00"), "INFO")
    async with world.services.ingest.uow_factory() as uow:
        assert await uow.cfx_work.get(PLACER, NIL) is None
    answer = await world.send(completed(PLACER, NIL))  # no units, and no start to take them from
    assert (answer["status"], answer["error"]["code"]) == ("REJECTED", "INGEST_PAYLOAD_INVALID")
    assert answer["error"]["message"] == (
        f"WorkCompleted names no units and no transaction to take its start's from "
        f"(TransactionID '{NIL}')"
    )
    await accepted(world, completed(PLACER, NIL, panel=panel), "AUTO")
    [track] = (await board(world, f"{panel}-1"))["tracks"]
    assert (track["result"], track["inAt"]) == ("PASS", track["outAt"])


async def test_a_units_processed_naming_no_units_waits_for_its_start(world: World) -> None:
    """Written on its start's units with its OverallResult, inAt from the start."""
    panel, tx = await world.panel_on("CFX-COAT", "BRD-320"), str(uuid.uuid4())
    env = copy.deepcopy(envelope("CFX.Production.Processing.UnitsProcessed.coating"))
    env["UniqueID"] = str(uuid.uuid4())
    env["MessageBody"] |= {"TransactionId": tx, "UnitProcessData": []}
    assert (await world.send(env))["status"] == "PARKED"
    await accepted(world, start(COATER, panel, tx, "2026-04-14T08:00:00-04:00"), "INFO")
    for n in (1, 2):
        unit = await board(world, f"{panel}-{n}")
        [track] = unit["tracks"]
        assert (track["stepNo"], track["result"], unit["status"]) == (10, "PASS", "DONE")
        assert at(track["inAt"]) == at("2026-04-14T12:00:00+00:00") < at(track["outAt"])


# ---------------------------------------------------------------- at once


@pytest.mark.parametrize("names_units", [False, True], ids=["no-units", "units"])
async def test_a_start_and_its_completion_sent_at_once_always_meet(
    world: World, names_units: bool
) -> None:
    """Sent at the same time on two connections (PostgreSQL runs them side by side): a
    completion that names no units is never left parked for a start that came meanwhile, and
    one that names them always gets the start's inAt, whichever commits first."""
    pairs = []
    for _ in range(30):
        panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
        done = completed(PLACER, tx, panel=panel if names_units else None)
        pairs.append((panel, start(PLACER, panel, tx, "2026-04-14T08:00:00-04:00"), done))
    await world.bearer(PLACER)  # the token made before, not by both senders at once
    answers = await asyncio.gather(*(world.send(env) for _, s, d in pairs for env in (d, s) if env))
    assert {a["status"] for a in answers} <= {"ACCEPTED", "PARKED"}, answers
    async with world.services.ingest.uow_factory() as uow:
        for panel, _, done in pairs:
            assert await uow.parked.get_by_key(PLACER, done["UniqueID"]) is None, panel
    for panel, _, _ in pairs:
        for n in (1, 2):
            [track] = (await board(world, f"{panel}-{n}"))["tracks"]
            assert track["result"] == "PASS"
            assert at(track["inAt"]) == at("2026-04-14T12:00:00+00:00") < at(track["outAt"])


async def test_a_validate_units_request_asked_again_is_answered_again(world: World) -> None:
    """A question, not an event: the same request (same UniqueID) after the boards moved on
    is answered from the units as they stand then, never DUPLICATE."""
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    request = copy.deepcopy(envelope("CFX.InformationSystem.UnitValidation.ValidateUnitsRequest"))
    request["UniqueID"] = str(uuid.uuid4())
    for u in request["MessageBody"]["Units"]:
        u["UnitIdentifier"] = panel

    async def asked() -> list[tuple[int, str, str]]:
        answer = await world.post(json.dumps([request]).encode(), PLACER)
        [result] = answer.json()["results"]
        assert (result["status"], result["eventId"]) == ("ACCEPTED", None)
        found = result["response"]["MessageBody"]["ValidationResults"]
        return [(r["PositionNumber"], r["Result"], r["Message"]) for r in found]

    assert await asked() == [(1, "Passed", "OK"), (2, "Passed", "OK")]
    await accepted(world, completed(PLACER, tx, panel=panel), "AUTO")  # both boards DONE
    assert await asked() == [(n, "Failed", f"UNIT_ALREADY_DONE (unit {panel}-{n})") for n in (1, 2)]


async def test_a_start_whose_re_drive_never_ran_is_re_driven_by_the_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process stopped between a start's commit and its re-drive (here its settle does
    nothing): the completion that waits for it stays parked until the server's sweep."""
    panel, tx = await world.panel_on("CFX-PLACE", "BRD-340"), str(uuid.uuid4())
    early = completed(PLACER, tx)
    assert (await world.send(early))["status"] == "PARKED"

    async def stopped(key: Any, actor: Any) -> int:
        return 0

    with monkeypatch.context() as patched:
        patched.setattr(world.services.ingest, "settle", stopped)
        await accepted(world, start(PLACER, panel, tx, "2026-04-14T08:00:00-04:00"), "INFO")
    async with world.services.ingest.uow_factory() as uow:
        assert await uow.parked.get_by_key(PLACER, early["UniqueID"]) is not None
    assert await redrive_started(world.services.ingest) >= 1
    async with world.services.ingest.uow_factory() as uow:
        assert await uow.parked.get_by_key(PLACER, early["UniqueID"]) is None
    for n in (1, 2):
        [track] = (await board(world, f"{panel}-{n}"))["tracks"]
        assert track["result"] == "PASS"
        assert at(track["inAt"]) == at("2026-04-14T12:00:00+00:00") < at(track["outAt"])
    assert await redrive_started(world.services.ingest) == 0  # nothing waits any more
