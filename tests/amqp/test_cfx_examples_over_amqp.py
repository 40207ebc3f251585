"""Every published IPC-CFX example (tests/fixtures/cfx) through RabbitMQ (AMQP 1.0, the real
broker) into the real pipeline, on both databases (issue 21, "Done when"): per backend one
consumer run receives them all as machines publish them — the whole envelope per message, some
gzip-compressed, two in one array — in an order that puts each board at the step its message is
for (SPI, board 2 re-inspected (ours), AOI, board 2 again, ICT; WorkStarted before
WorkCompleted; the ValidateUnitsRequest while CARRIER5566 stands at the placer), then a resend of
each. The tests read the database for the outcome of the issue's table, as `POST /cfx` gives it
(tests/api/test_cfx_http.py, test_cfx_pairing.py, test_cfx_messages.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from proton import Message

from domain.usecases.parking import expire_parked
from graphql_api.bootstrap import Services
from tests.amqp.broker import (
    declare_durable,
    delete_queue,
    drain,
    gzipped,
    publish,
    queue_depth,
    wait_until_reachable,
)
from tests.amqp.cfx_consuming import WAIT_S, consuming, duplicates
from tests.cfx_messages import RESULTS
from tests.cfx_world import (
    TI,
    board_2_again,
    envelope,
    loader_and_modules,
    native_cfx_services,
)
from tests.conftest import ApiClient, make_token
from tests.fakes import FakeClock

pytestmark = pytest.mark.amqp

SPI, SPI_LEAN, AOI, PANEL = (
    f"{TI}.UnitsInspected.spi",
    f"{TI}.UnitsInspected.spi-lean",
    f"{TI}.UnitsInspected",
    f"{TI}.UnitsInspected.panel",
)
ICT, BURN_IN = f"{TI}.UnitsTested", f"{TI}.UnitsTested.burn-in"
COATING, REFLOW = (
    "CFX.Production.Processing.UnitsProcessed.coating",
    "CFX.Production.Processing.UnitsProcessed",
)
ARRIVED, DEPARTED, INSTALLED = (
    "CFX.Production.UnitsArrived",
    "CFX.Production.UnitsDeparted",
    "CFX.Production.Assembly.MaterialsInstalled",
)
STARTED, COMPLETED = "CFX.Production.WorkStarted", "CFX.Production.WorkCompleted"
LOADED, UNLOADED = (
    "CFX.Production.LoadingAndUnloading.UnitsLoaded",
    "CFX.Production.LoadingAndUnloading.UnitsUnloaded",
)
PLACED = "CFX.ResourcePerformance.SMTPlacement.ComponentsPlaced"
VALIDATE = "CFX.InformationSystem.UnitValidation.ValidateUnitsRequest"
#: every published example, in the order sent: each board reaches the step its message is for
PUBLISHED = [
    SPI,
    SPI_LEAN,
    AOI,
    PANEL,
    ICT,
    BURN_IN,
    COATING,
    REFLOW,
    ARRIVED,
    INSTALLED,
    VALIDATE,
    STARTED,
    COMPLETED,
    DEPARTED,
    LOADED,
    UNLOADED,
    PLACED,
]
#: never DUPLICATE: the reflow's is parked (PARKED again when resent), the request answered
NOT_STORED = {REFLOW, VALIDATE}
EVENT = """query($s: String!, $k: String!) { ingestEvent(sourceSystem: $s, dedupeKey: $k) {
  id eventType snList stepNo normalized
  tracks { stepNo result operatorId inAt outAt unit { sn }
    dataValues { specName valueNumber valueText valueUnit judge originalValue originalUnit
      lowLimit } } } }"""
UNIT = """query($sn: String!) { unit(sn: $sn) { status ingestEvents { id eventType } } }"""
CARRIER = """query($c: String!) { carrier(carrierNo: $c) {
  loads { loadedAt unloadedAt unit { sn } } } }"""
REJECTIONS = """query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) {
  edges { node { dedupeKey replayable error { code details } } } } }"""
PARKED = """query($s: String!) { parkedEvents(filter: {sourceSystem: $s}) {
  edges { node { dedupeKey waitingForStepNo waitingForTransaction } } } }"""


@dataclass
class Run:
    """What one consumer run left: the database (through the API) and the broker's answers."""

    api: ApiClient
    services: Services
    #: the ValidateUnitsRequest's answers (the response envelopes) on its reply-to address, by
    #: correlation id
    answers: dict[str, dict[str, Any]]
    #: DUPLICATE answers counted during the run
    duplicates: float
    #: what the queue held after the run
    left: list[Message]
    depth: int | None

    async def event(self, name: str) -> dict[str, Any]:
        env = envelope(name)
        return await self.event_of(env)

    async def event_of(self, env: dict[str, Any]) -> dict[str, Any]:
        found = await self.api.gql(EVENT, {"s": env["Source"], "k": env["UniqueID"]})
        assert found["ingestEvent"] is not None, env["UniqueID"]
        return dict(found["ingestEvent"])

    async def unit(self, sn: str) -> dict[str, Any]:
        return dict((await self.api.gql(UNIT, {"sn": sn}))["unit"])


def sends() -> list[tuple[Any, dict[str, Any]]]:
    """(body, AMQP properties) per message, in order: first sends, then a resend of each."""
    first: list[tuple[Any, dict[str, Any]]] = []
    for n, name in enumerate(PUBLISHED):
        env = envelope(name)
        if name == VALIDATE:
            first.append((env, {"correlation_id": "ask-1"}))
        elif name == UNLOADED:
            continue  # in one array with UnitsLoaded
        elif name == LOADED:
            first.append(([env, envelope(UNLOADED)], {}))
        else:
            first.append((gzipped(env) if n % 2 else env, {}))
        if name in (SPI, AOI):
            first.append((gzipped(board_2_again(name)), {}))
    again: list[tuple[Any, dict[str, Any]]] = []
    for n, name in enumerate(PUBLISHED):
        env = envelope(name)
        props = {"correlation_id": "ask-again"} if name == VALIDATE else {}
        again.append((env if n % 2 else gzipped(env), props))
    return first + again


async def until(done: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not await done():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def run(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    amqp_url: str,
) -> AsyncIterator[Run]:
    """Per backend: every example and its resend through one consumer run."""
    pg_url = request.getfixturevalue("pg_url") if backend != "sqlite" else None
    loop = asyncio.get_running_loop()
    name = f"mes-test-{uuid.uuid4().hex[:12]}"
    reply = f"mes-test-reply-{uuid.uuid4().hex[:12]}"
    why = await loop.run_in_executor(None, wait_until_reachable, 30.0, amqp_url)
    assert why is None, f"the broker is unreachable: {why}"
    async with native_cfx_services(backend, tmp_path_factory.mktemp("cfxamqp"), pg_url) as svc:
        await loader_and_modules(svc)
        try:
            # durable, declared up front, consumed as the existing queue (README: CFX over AMQP)
            address = declare_durable(name, amqp_url)
            declare_durable(reply, amqp_url)  # the requester's queue, there before it asks
            for body, props in sends():
                if "correlation_id" in props:
                    props["reply_to"] = f"/queue/{reply}"
                publish(address, body, url=amqp_url, **props)
            before = duplicates()
            resends = len(PUBLISHED) - len(NOT_STORED)
            answers: dict[str, dict[str, Any]] = {}
            sources = {envelope(n)["Source"] for n in PUBLISHED}

            async def finished() -> bool:
                for got in await loop.run_in_executor(None, drain, f"/queue/{reply}", amqp_url):
                    body: Any = got.body
                    answers[str(got.correlation_id)] = json.loads(bytes(body))
                return len(answers) == 2 and duplicates() - before >= resends

            async with consuming(svc, amqp_url, address, sources):
                await until(finished, "every message and its resend")
            counted = duplicates() - before
            left = await loop.run_in_executor(None, drain, address, amqp_url)
            depth = await loop.run_in_executor(None, queue_depth, name)
        finally:
            delete_queue(name)
            delete_queue(reply)
        transport = httpx.ASGITransport(app=svc.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            api = ApiClient(client, token=await make_token(svc))
            yield Run(api, svc, answers, counted, left, depth)


# ---------------------------------------------------------------- the table


def tracks_by_board(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["unit"]["sn"]: t for t in event["tracks"]}


def values(track: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["specName"]: v for v in track["dataValues"]}


async def test_units_tested_ict_both_boards_pass(run: Run) -> None:
    event = await run.event(ICT)
    assert event["eventType"] == "TEST"
    tracks = tracks_by_board(event)
    assert {sn: (t["stepNo"], t["result"]) for sn, t in tracks.items()} == {
        "PANEL34543535-1": (30, "PASS"),
        "PANEL34543535-2": (30, "PASS"),
    }
    for track in tracks.values():
        r21 = values(track)["R21"]  # 28300 Ohm against the spec's 28.0–28.4 kOhm
        assert (r21["valueNumber"], r21["valueUnit"], r21["judge"]) == (28.3, "kOhm", "PASS")
        assert (r21["originalValue"], r21["originalUnit"]) == (28300.0, "Ohm")
        assert track["operatorId"] == "BADGE489499"
    board_1 = values(tracks["PANEL34543535-1"])
    assert (board_1["R22"]["valueNumber"], board_1["R22"]["judge"]) == (28.52, "FAIL")
    symptom = board_1["RESISTANCE_CHECK_R22.RESFAIL2"]
    assert symptom["valueText"] == "Resistance Value Out of Tolerance"


async def test_units_tested_burn_in_passes_with_hot_and_cold_apart(run: Run) -> None:
    (track,) = (await run.event(BURN_IN))["tracks"]
    assert (track["unit"]["sn"], track["result"], track["operatorId"]) == (
        "UNIT123456789",
        "PASS",
        "BADGE489499",
    )
    read = {name: v["valueNumber"] for name, v in values(track).items()}
    assert read["HOT_TEST.Temperature.Mean"] == 45.2
    assert read["COLD_TEST.Temperature.Mean"] == -6.5
    assert len(read) == 16


PANEL_BOARDS = ["PANEL34543535-1", "PANEL34543535-2"]


@pytest.mark.parametrize(
    ("name", "step_no", "boards"),
    [(SPI, 10, PANEL_BOARDS), (SPI_LEAN, 10, ["FFSHkkskamJDHS"]), (AOI, 20, PANEL_BOARDS)],
)
async def test_units_inspected_board_results_as_sent(
    run: Run, name: str, step_no: int, boards: list[str]
) -> None:
    sent = [RESULTS[u["OverallResult"]] for u in envelope(name)["MessageBody"]["InspectedUnits"]]
    event = await run.event(name)
    assert event["stepNo"] == step_no
    tracks = tracks_by_board(event)
    assert {sn: t["result"] for sn, t in tracks.items()} == dict(zip(boards, sent, strict=True))
    assert all(t["dataValues"] for t in tracks.values())
    if len(boards) == 2:  # ours: board 2 re-inspected, passing, so that it goes on
        again = await run.event_of(board_2_again(name))
        assert [(t["unit"]["sn"], t["result"]) for t in again["tracks"]] == [
            ("PANEL34543535-2", "PASS")
        ]


async def test_units_inspected_kept_values_and_defects(run: Run) -> None:
    spi = tracks_by_board(await run.event(SPI))
    assert values(spi["PANEL34543535-2"])["R1.2.Volume"]["valueNumber"] == 5.11
    lean = tracks_by_board(await run.event(SPI_LEAN))
    assert values(lean["FFSHkkskamJDHS"])["2.1.Height"]["valueNumber"] == 0.092
    board_2 = values(tracks_by_board(await run.event(AOI))["PANEL34543535-2"])
    assert board_2["COSMETIC_INSPECTION"]["valueText"] == "Failed"
    assert board_2["INSPECT_R22.TMBSTN211"]["valueText"] == "Tombston on R22"


async def test_units_inspected_panel_form(run: Run) -> None:
    env = envelope(PANEL)
    panel = env["MessageBody"]["InspectedPanel"]
    event = await run.event(PANEL)
    assert (event["stepNo"], event["normalized"]["mappingAlternative"]) == (10, 2)
    assert {sn: t["result"] for sn, t in tracks_by_board(event).items()} == {
        f"{panel['UnitIdentifier']}-{n}": RESULTS[panel["OverallResult"]] for n in (1, 2)
    }


async def test_units_processed_coating_both_positions_pass(run: Run) -> None:
    tracks = tracks_by_board(await run.event(COATING))
    assert {sn: t["result"] for sn, t in tracks.items()} == {
        "CARRIER55678-1": "PASS",
        "CARRIER55678-2": "PASS",
    }
    volume = values(tracks["CARRIER55678-1"])["FluidVolume"]
    assert (volume["valueNumber"], volume["judge"], volume["lowLimit"]) == (1.1, "PASS", 0.8)


async def test_units_processed_reflow_is_parked_then_expires(run: Run) -> None:
    """No units and no known start: PARKED (its resend too) waiting for its transaction's
    WorkStarted; past MES_PARK_TTL (the sweep's clock two days on) PARKED_EXPIRED."""
    env = envelope(REFLOW)
    found = await run.api.gql(PARKED, {"s": env["Source"]})
    assert [e["node"] for e in found["parkedEvents"]["edges"]] == [
        {
            "dedupeKey": env["UniqueID"],
            "waitingForStepNo": None,
            "waitingForTransaction": env["MessageBody"]["TransactionId"],
        }
    ]
    gone = await run.api.gql(EVENT, {"s": env["Source"], "k": env["UniqueID"]})
    assert gone["ingestEvent"] is None
    clock = FakeClock(datetime.now(UTC) + timedelta(days=2))
    assert await expire_parked(run.services.ingest.uow_factory, clock) >= 1
    edges = (await run.api.gql(REJECTIONS, {"s": env["Source"]}))["ingestRejections"]["edges"]
    [rejection] = [e["node"] for e in edges]
    assert (rejection["dedupeKey"], rejection["replayable"]) == (env["UniqueID"], True)
    assert rejection["error"]["code"] == "PARKED_EXPIRED"
    assert (
        rejection["error"]["details"]["waitingForTransaction"]
        == (env["MessageBody"]["TransactionId"])
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_work_started_then_completed_passes_both_boards(run: Run) -> None:
    assert (await run.event(STARTED))["eventType"] == "INFO"
    completed = await run.event(COMPLETED)
    assert completed["eventType"] == "AUTO"
    tracks = tracks_by_board(completed)
    assert sorted(tracks) == ["CARRIER5566-1", "CARRIER5566-2"]
    for sn, track in tracks.items():
        assert (track["stepNo"], track["result"]) == (10, "PASS")
        assert at(track["inAt"]) == at("2026-04-14T12:20:02.376953+00:00")
        assert at(track["inAt"]) < at(track["outAt"])
        assert (await run.unit(sn))["status"] == "DONE"


@pytest.mark.parametrize(
    ("name", "items", "position"),
    [
        (ARRIVED, "Units", "PositionNumber"),
        (INSTALLED, "InstalledMaterials", "UnitPositionNumber"),
        (STARTED, "Units", "PositionNumber"),
    ],
)
async def test_a_message_without_result_is_info_on_its_units(
    run: Run, name: str, items: str, position: str
) -> None:
    env = envelope(name)
    event = await run.event(name)
    sns = sorted(f"{u['UnitIdentifier']}-{u[position]}" for u in env["MessageBody"][items])
    assert (event["eventType"], sorted(event["snList"]), event["tracks"]) == ("INFO", sns, [])
    for sn in sns:
        assert {"id": event["id"], "eventType": "INFO"} in (await run.unit(sn))["ingestEvents"]


async def test_units_departed_after_completion_is_on_its_finished_boards(run: Run) -> None:
    """Sent as a placer sends it, after its WorkCompleted (its TimeStamp is 2 s later): the
    placer's step is the last of CARRIER5566's route, so its boards are DONE by then. INFO
    changes no unit, so it is listed on the finished boards too, and names them finished."""
    event = await run.event(DEPARTED)
    boards = ["CARRIER5566-1", "CARRIER5566-2"]
    assert (event["eventType"], sorted(event["snList"]), event["tracks"]) == ("INFO", boards, [])
    assert event["normalized"]["terminalSns"] == boards
    for sn in boards:
        unit = await run.unit(sn)
        assert unit["status"] == "DONE"
        assert {"id": event["id"], "eventType": "INFO"} in unit["ingestEvents"]


async def test_units_loaded_then_unloaded_open_and_close_the_loads(run: Run) -> None:
    for name in (LOADED, UNLOADED):
        assert (await run.event(name))["eventType"] == "INFO"
    loads = (await run.api.gql(CARRIER, {"c": "PALLET123"}))["carrier"]["loads"]
    assert sorted((ld["unit"]["sn"], ld["loadedAt"], ld["unloadedAt"]) for ld in loads) == [
        ("MODULE1", "2026-04-14T16:00:10.221034Z", "2026-04-14T16:14:37.503882Z"),
        ("MODULE2", "2026-04-14T16:00:10.221034Z", "2026-04-14T16:14:37.503882Z"),
    ]


async def test_components_placed_is_a_production_count_record(run: Run) -> None:
    env = envelope(PLACED)
    async with run.services.ingest.uow_factory() as uow:
        record = await uow.production_counts.get_by_event_id(env["UniqueID"])
    assert record is not None
    assert (record.station_code, record.placed, record.picked) == ("CFX-PLACER-07", 875, 920)


async def test_validate_units_request_is_answered_on_its_reply_to(run: Run) -> None:
    request = envelope(VALIDATE)
    response = run.answers["ask-1"]
    assert response["MessageName"] == "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"
    assert (response["Target"], response["RequestID"]) == (request["Source"], request["RequestID"])
    got = [
        (r["UniqueIdentifier"], r["PositionNumber"], r["Result"])
        for r in response["MessageBody"]["ValidationResults"]
    ]
    # asked while CARRIER5566 stood at the placer's step
    assert got == [("CARRIER5566", 1, "Passed"), ("CARRIER5566", 2, "Passed")]
    # nothing stored: the request is asked again, not a duplicate; now the boards are done
    again = run.answers["ask-again"]
    assert [(r["Result"], r["Message"]) for r in again["MessageBody"]["ValidationResults"]] == [
        ("Failed", "UNIT_ALREADY_DONE (unit CARRIER5566-1)"),
        ("Failed", "UNIT_ALREADY_DONE (unit CARRIER5566-2)"),
    ]
    assert again["MessageBody"]["PrimaryResult"]["Result"] == "Failed"
    stored = await run.api.gql(EVENT, {"s": request["Source"], "k": request["UniqueID"]})
    assert stored["ingestEvent"] is None


# ---------------------------------------------------------------- resends and the queue


async def test_every_resend_is_duplicate_and_makes_no_second_event(run: Run) -> None:
    assert run.duplicates == len(PUBLISHED) - len(NOT_STORED)
    # the placer's boards: Arrived, Started, Departed (INFO) and Completed, once each
    for sn in ("CARRIER5566-1", "CARRIER5566-2"):
        events = (await run.unit(sn))["ingestEvents"]
        assert sorted(e["eventType"] for e in events) == ["AUTO", "INFO", "INFO", "INFO"]
    async with run.services.ingest.uow_factory() as uow:
        counts = await uow.production_counts.get_by_event_id(envelope(PLACED)["UniqueID"])
    assert counts is not None and counts.placed == 875


async def test_the_queue_is_empty_at_the_end(run: Run) -> None:
    assert run.left == []
    assert run.depth in (0, None)
