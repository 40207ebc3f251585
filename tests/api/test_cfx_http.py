"""`POST /cfx` (issue 21): every published IPC-CFX example (tests/fixtures/cfx) POSTed as
published, the whole envelope, against stations that know their CFX handle (readable codes
beside the handles) and routes whose steps say `{"format": "CFX"}`, on both databases; with
ingest tokens bound to the handles as a machine's are. The SDK fails board 2 of PANEL34543535
at SPI and at AOI: the steps allow one re-inspection, which we send (ours, not the SDK's)."""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.actors import Actor
from domain.limits import Limits
from graphql_api.demo.cfx import native_station_code
from tests.cfx_messages import as_sent, numbers
from tests.cfx_world import TI, World, cfx_world, envelope
from tests.tokens import token

BATCH = 6
BODY_BYTES = 200_000
BY_KEY = """query($s: String!, $k: String!) { ingestEvent(sourceSystem: $s, dedupeKey: $k) {
  id } }"""
REJECTIONS = """query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) {
  edges { node { dedupeKey eventType replayable error { code message } } } } }"""
UNIT_EVENTS = """query($sn: String!) { unit(sn: $sn) { tracks { id } ingestEvents { id eventType } }
  }"""


@pytest.fixture(scope="module")
async def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    async with cfx_world(
        request,
        backend,
        tmp_path_factory.mktemp("cfxhttp"),
        Limits(max_ingest_batch=BATCH, max_body_bytes=BODY_BYTES),
    ) as world:
        yield world


# ---------------------------------------------------------------- what the message says


def inspected(item: dict[str, Any]) -> list[Any]:
    """Every inspection's result (named ones), deposit number and defect description."""
    out: list[Any] = []
    for i in item["Inspections"]:
        if i.get("InspectionName"):
            out.append(i["Result"])
        out += [n for m in i.get("Measurements") or () for n in numbers(m)]
        out += [d["Description"] for d in i.get("DefectsFound") or ()]
    return out


def boards_of(env: dict[str, Any], items: str) -> list[dict[str, Any]]:
    return list(env["MessageBody"][items])


def sn(item: dict[str, Any]) -> str:
    return f"{item['UnitIdentifier']}-{item['UnitPositionNumber']}"


# ---------------------------------------------------------------- the envelope on the event


async def test_the_event_is_the_envelope(world: World) -> None:
    env = envelope(f"{TI}.UnitsInspected.spi")
    result = await world.example(f"{TI}.UnitsInspected.spi")
    assert result["uniqueId"] == env["UniqueID"]
    event = await world.event(result)
    assert (event["sourceSystem"], event["dedupeKey"]) == (env["Source"], env["UniqueID"])
    assert event["payload"] == env  # the whole envelope
    assert event["eventType"] == "AUTO"
    # the handle found the station, recorded by its code
    assert event["stationCode"] == native_station_code(env["Source"]) == "CFX-SPI-01"
    assert event["occurredAt"].startswith("2026-04-14T")


# ---------------------------------------------------------------- UnitsInspected


async def test_units_inspected_spi(world: World) -> None:
    env = envelope(f"{TI}.UnitsInspected.spi")
    event = await world.event(await world.example(f"{TI}.UnitsInspected.spi"))
    boards = [(sn(u), u["OverallResult"], inspected(u)) for u in boards_of(env, "InspectedUnits")]
    values = as_sent(event, boards, 10)
    assert values["PANEL34543535-2"]["R1.2.Volume"]["valueNumber"] == 5.11


async def test_units_inspected_spi_lean(world: World) -> None:
    env = envelope(f"{TI}.UnitsInspected.spi-lean")
    event = await world.event(await world.example(f"{TI}.UnitsInspected.spi-lean"))
    unit = boards_of(env, "InspectedUnits")[0]
    values = as_sent(event, [(unit["UnitIdentifier"], "Passed", inspected(unit))], 10)
    assert values["FFSHkkskamJDHS"]["2.1.Height"]["valueNumber"] == 0.092


async def test_units_inspected_aoi_per_board_keeps_defects(world: World) -> None:
    await world.at_aoi()
    env = envelope(f"{TI}.UnitsInspected")
    event = await world.event(await world.example(f"{TI}.UnitsInspected"))
    boards = [(sn(u), u["OverallResult"], inspected(u)) for u in boards_of(env, "InspectedUnits")]
    values = as_sent(event, boards, 20)
    board_2 = values["PANEL34543535-2"]
    assert board_2["COSMETIC_INSPECTION"]["valueText"] == "Failed"
    assert (
        board_2["COSMETIC_INSPECTION.SCR23443"]["valueText"] == "Scratch Detected on PCB substrate"
    )
    assert board_2["INSPECT_R22.TMBSTN211"]["valueText"] == "Tombston on R22"


async def test_units_inspected_aoi_panel(world: World) -> None:
    env = envelope(f"{TI}.UnitsInspected.panel")
    event = await world.event(await world.example(f"{TI}.UnitsInspected.panel"))
    panel = env["MessageBody"]["InspectedPanel"]
    boards = [
        (f"{panel['UnitIdentifier']}-{n}", panel["OverallResult"], inspected(panel)) for n in (1, 2)
    ]
    as_sent(event, boards, 10)
    assert event["normalized"]["mappingAlternative"] == 2


# ---------------------------------------------------------------- UnitsTested


async def test_units_tested_ict_panel(world: World) -> None:
    await world.at_ict()
    env = envelope(f"{TI}.UnitsTested")
    event = await world.event(await world.example(f"{TI}.UnitsTested"))
    assert event["eventType"] == "TEST"
    boards = []
    for u in boards_of(env, "TestedUnits"):
        sent = [m["MeasuredValue"]["Value"] for t in u["Tests"] for m in t["Measurements"]]
        sent += [
            m["MeasuredValue"]["Value"]
            for t in u["Tests"]
            for s in t["SymptomsFound"]
            for m in s["RelatedMeasurements"]
        ]
        sent += [s["Description"] for t in u["Tests"] for s in t["SymptomsFound"]]
        boards.append((sn(u), u["OverallResult"], sent))
    values = as_sent(event, boards, 30)
    for board in ("PANEL34543535-1", "PANEL34543535-2"):
        r21 = values[board]["R21"]  # 28300 Ohm against the spec's 28.0–28.4 kOhm
        assert (r21["valueNumber"], r21["valueUnit"], r21["judge"]) == (28.3, "kOhm", "PASS")
        assert (r21["originalValue"], r21["originalUnit"]) == (28300.0, "Ohm")
    r22 = values["PANEL34543535-1"]["R22"]  # the failed test's symptom's reading, kept
    assert (r22["valueNumber"], r22["judge"]) == (28.52, "FAIL")
    symptom = values["PANEL34543535-1"]["RESISTANCE_CHECK_R22.RESFAIL2"]
    assert symptom["valueText"] == "Resistance Value Out of Tolerance"
    assert {t["operatorId"] for t in event["tracks"]} == {"BADGE489499"}


async def test_units_tested_burn_in(world: World) -> None:
    event = await world.event(await world.example(f"{TI}.UnitsTested.burn-in"))
    (track,) = event["tracks"]
    assert (track["unit"]["sn"], track["result"], track["operatorId"]) == (
        "UNIT123456789",
        "PASS",
        "BADGE489499",
    )
    values = {v["specName"]: v["valueNumber"] for v in track["dataValues"]}
    assert values["HOT_TEST.Temperature.Mean"] == 45.2
    assert values["COLD_TEST.Temperature.Mean"] == -6.5
    assert len(values) == 16


# ---------------------------------------------------------------- UnitsProcessed


async def test_units_processed_coating(world: World) -> None:
    name = "CFX.Production.Processing.UnitsProcessed.coating"
    env = envelope(name)
    event = await world.event(await world.example(name))
    boards = [
        (sn(u), u["UnitResult"], [r["ActualValue"] for r in u["UnitProcessData"]["Readings"]])
        for u in boards_of(env, "UnitProcessData")
    ]
    values = as_sent(event, boards, 10)
    volume = values["CARRIER55678-1"]["FluidVolume"]
    assert (volume["valueNumber"], volume["judge"], volume["lowLimit"]) == (1.1, "PASS", 0.8)


# ---------------------------------------------------------------- INFO


@pytest.mark.parametrize(
    ("name", "items", "position"),
    [
        ("CFX.Production.Assembly.MaterialsInstalled", "InstalledMaterials", "UnitPositionNumber"),
        ("CFX.Production.UnitsArrived", "Units", "PositionNumber"),
        ("CFX.Production.UnitsDeparted", "Units", "PositionNumber"),
        ("CFX.Production.WorkStarted", "Units", "PositionNumber"),
    ],
)
async def test_a_message_without_result_is_info_on_its_units(
    world: World, name: str, items: str, position: str
) -> None:
    env = envelope(name)
    event = await world.event(await world.example(name))
    sns = sorted(f"{u['UnitIdentifier']}-{u[position]}" for u in env["MessageBody"][items])
    assert (event["eventType"], sorted(event["snList"]), event["tracks"]) == ("INFO", sns, [])
    for board in sns:
        unit = (await world.api.gql(UNIT_EVENTS, {"sn": board}))["unit"]
        assert {"id": event["id"], "eventType": "INFO"} in unit["ingestEvents"]


async def test_a_resend_is_duplicate(world: World) -> None:
    first = await world.example("CFX.Production.UnitsArrived")
    again = await world.send(envelope("CFX.Production.UnitsArrived"))
    assert again == {**first, "status": "DUPLICATE"}


# ---------------------------------------------------------------- bodies


async def test_a_gzip_body_and_an_array_in_order(world: World) -> None:
    departed = envelope("CFX.Production.UnitsDeparted")
    fresh = {**departed, "UniqueID": str(uuid.uuid4())}
    no_station = {**departed, "UniqueID": str(uuid.uuid4()), "Source": "Vendor9.Ghost.Machine99"}
    body = json.dumps([fresh, departed, "not an envelope", no_station]).encode()
    response = await world.post(
        gzip.compress(body), departed["Source"], {"Content-Encoding": "gzip"}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["uniqueId"], r["status"]) for r in results] == [
        (fresh["UniqueID"], "ACCEPTED"),
        (departed["UniqueID"], results[1]["status"]),  # DUPLICATE when the INFO test ran first
        (None, "REJECTED"),
        (no_station["UniqueID"], "REJECTED"),
    ]
    assert results[1]["status"] in ("ACCEPTED", "DUPLICATE")
    assert results[2]["error"]["code"] == "VALIDATION_FAILED"
    assert results[2]["error"]["details"] == {"field": "envelope"}
    # bound to another handle: the ghost's envelope is not this token's to store
    assert results[3]["error"]["code"] == "FORBIDDEN"


async def test_refusals_are_stored_as_rejections(world: World) -> None:
    ghost = {
        **envelope("CFX.Production.UnitsArrived"),
        "UniqueID": str(uuid.uuid4()),
        "Source": "Vendor9.Ghost.Machine99",
    }
    result = await world.send(ghost)
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "STATION_NOT_FOUND")
    assert result["error"]["details"] == {"cfxHandle": "Vendor9.Ghost.Machine99"}
    nameless = {**envelope("CFX.Production.UnitsArrived"), "UniqueID": str(uuid.uuid4())}
    del nameless["MessageName"]
    result = await world.send(nameless)
    assert result["error"]["details"] == {"field": "MessageName"}
    late = {**envelope("CFX.Production.UnitsArrived"), "UniqueID": str(uuid.uuid4())}
    late["TimeStamp"] = "next Tuesday"
    result = await world.send(late)
    assert result["error"]["message"] == "TimeStamp 'next Tuesday' is not an ISO-8601 date-time"
    for source, keys in (
        ("Vendor9.Ghost.Machine99", {ghost["UniqueID"]: "STATION_NOT_FOUND"}),
        (
            nameless["Source"],
            {nameless["UniqueID"]: "VALIDATION_FAILED", late["UniqueID"]: "VALIDATION_FAILED"},
        ),
    ):
        edges = (await world.api.gql(REJECTIONS, {"s": source}))["ingestRejections"]["edges"]
        found = {e["node"]["dedupeKey"]: e["node"]["error"]["code"] for e in edges}
        assert {k: found.get(k) for k in keys} == keys


async def test_the_limits_answer_clearly_and_store_nothing(world: World) -> None:
    source = envelope("CFX.Production.UnitsArrived")["Source"]

    def fresh() -> dict[str, Any]:
        return {**envelope("CFX.Production.UnitsArrived"), "UniqueID": str(uuid.uuid4())}

    too_many = [fresh() for _ in range(BATCH + 1)]
    response = await world.post(json.dumps(too_many).encode(), source)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "at most 6 envelopes" in response.json()["errors"][0]["message"]
    padded = fresh()
    padded["MessageBody"]["Padding"] = "x" * BODY_BYTES
    response = await world.post(json.dumps([fresh(), padded]).encode(), source)
    assert response.status_code == 413
    bomb = fresh()
    bomb["MessageBody"]["Padding"] = "0" * (BODY_BYTES * 50)
    packed = gzip.compress(json.dumps([bomb]).encode())
    assert len(packed) < BODY_BYTES // 4
    response = await world.post(packed, source, {"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "inflated" in response.json()["errors"][0]["message"]
    response = await world.post(b"not gzip", source, {"Content-Encoding": "gzip"})
    assert response.status_code == 400
    response = await world.post(b'{"MessageName": ', source)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    response = await world.post(b"[]", source)
    assert response.status_code == 400
    for env in (*too_many, bomb):
        found = await world.api.gql(BY_KEY, {"s": source, "k": env["UniqueID"]})
        assert found["ingestEvent"] is None


async def test_a_token_needs_the_ingest_scope(world: World) -> None:
    body = json.dumps(envelope("CFX.Production.UnitsArrived")).encode()
    response = await world.api.client.post("/cfx", content=body)
    assert response.status_code == 401
    reader = await token(world.services, "read")
    response = await world.api.client.post(
        "/cfx", content=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_cfx_handle_is_one_stations(world: World) -> None:
    taken = """mutation($i: StationInput!) { upsertStation(input: $i) {
      station { code cfxHandle } error { code details } } }"""
    answer = await world.api.gql(
        taken,
        {
            "i": {
                "code": "CFX-OTHER",
                "name": "Another",
                "stationType": "AUTO",
                "cfxHandle": "Vendor1.SPI.Machine01",
            }
        },
    )
    assert answer["upsertStation"]["error"] == {
        "code": "VALIDATION_FAILED",
        "details": {"field": "cfxHandle", "stationCode": "CFX-SPI-01"},
    }
    station = {"code": "CFX-SPI-01", "name": "SPI", "stationType": "AUTO", "lineCode": "SMT-2"}
    station |= {"groupCode": "CFX-SPI", "cfxHandle": "Vendor1.SPI.Machine01"}
    answer = await world.api.gql(taken, {"i": station})  # its own handle: unchanged
    assert answer["upsertStation"]["station"] == {
        "code": "CFX-SPI-01",
        "cfxHandle": "Vendor1.SPI.Machine01",
    }


async def test_the_receiver_both_transports_call_answers_in_order(world: World) -> None:
    """What the AMQP consumer calls: `services.cfx.receive(envelopes, actor)`."""
    arrived = {**envelope("CFX.Production.UnitsArrived"), "UniqueID": str(uuid.uuid4())}
    actor = Actor(name="amqp-test", request_id="cfx-receive")
    results = await world.services.cfx.receive([arrived, None, arrived], actor)
    assert [(r.unique_id, r.status.value) for r in results] == [
        (arrived["UniqueID"], "ACCEPTED"),
        (None, "REJECTED"),
        (arrived["UniqueID"], "DUPLICATE"),
    ]
    assert results[0].event_id is not None and results[2].event_id == results[0].event_id
    assert results[1].error is not None and results[1].outcome is None


async def test_a_result_before_its_step_is_parked(world: World) -> None:
    """The ICT's UnitsTested for a board still at AOI waits for it (issue 20)."""
    await world.example(f"{TI}.UnitsInspected.spi-lean")  # FFSHkkskamJDHS now at AOI (20)
    early = copy.deepcopy(envelope(f"{TI}.UnitsTested"))
    board = early["MessageBody"]["TestedUnits"][0]
    board["UnitIdentifier"] = "FFSHkkskamJDHS"
    early["MessageBody"]["TestedUnits"] = [board]
    early["MessageBody"]["TransactionId"] = str(uuid.uuid4())
    early["UniqueID"] = str(uuid.uuid4())
    result = await world.send(early)
    assert (result["status"], result["error"], result["eventId"]) == ("PARKED", None, None)
    assert (await world.send(early))["status"] == "PARKED"  # a resend finds it parked


async def test_a_validate_units_request_is_answered_by_its_response(world: World) -> None:
    """The published request, as published: one envelope answered by the ValidateUnitsResponse
    envelope itself, in an array by a result carrying it; nothing stored."""
    request = envelope("CFX.InformationSystem.UnitValidation.ValidateUnitsRequest")
    answer = await world.post(json.dumps(request).encode(), request["Source"])
    assert answer.status_code == 200, answer.text
    response = answer.json()
    assert response["MessageName"] == "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"
    assert (response["Target"], response["RequestID"]) == (request["Source"], request["RequestID"])
    body = response["MessageBody"]
    assert body["Result"] == {"Result": "Success", "ResultCode": 0, "Message": None}
    # the demo's boards of CARRIER5566 stand at the placer's step: each may be processed
    got = [
        (r["UniqueIdentifier"], r["PositionNumber"], r["Result"], r["FailureCode"], r["Message"])
        for r in body["ValidationResults"]
    ]
    assert got == [
        ("CARRIER5566", 1, "Passed", 0, "OK"),
        ("CARRIER5566", 2, "Passed", 0, "OK"),
    ]
    assert body["PrimaryResult"]["Result"] == "Passed"
    in_array = await world.post(json.dumps([request]).encode(), request["Source"])
    [result] = in_array.json()["results"]
    assert (result["status"], result["eventId"]) == ("ACCEPTED", None)
    assert result["response"]["MessageBody"]["ValidationResults"] == body["ValidationResults"]
    stored = await world.api.gql(BY_KEY, {"s": request["Source"], "k": request["UniqueID"]})
    assert stored["ingestEvent"] is None
