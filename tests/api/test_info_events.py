"""INFO events (issue 19 item 6) through GraphQL on both databases: the published CFX messages
that report no result (UnitsArrived, UnitsDeparted, WorkStarted, MaterialsInstalled), read by
the route's infoMappings, linked to the known units (finished ones too), the others listed;
compile's refusals; idempotency."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from adapters import tables as t
from domain.enums import TrackResult
from domain.usecases import manual_execution as ex
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.ingest_builders import AT, IngestFactory
from tests.queries import INGEST, TRACE
from tests.tokens import token

CFX = Path(__file__).parent.parent / "fixtures" / "cfx"

SET_CONFIG = """mutation($i: ExecutionConfigInput!) { setExecutionConfig(input: $i) {
  error { code details } } }"""
COMPILE = """mutation($c: String!) { compileRouting(code: $c) {
  version { status infoMappings errors { code message } } error { code } } }"""
CREATE_RUN = """mutation($i: CreateRunInput!) { createRun(input: $i) { error { code } } }"""
REGISTER = """mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) {
  units { sn } error { code } } }"""

#: what reads the messages: the units' list (UnitsArrived, UnitsDeparted, WorkStarted), or the
#: materials installed on them (MaterialsInstalled)
INFO_MAPPINGS = [
    {
        "stationCodePath": "sourceSystem",
        "units": {"itemsPath": "payload.Units[*]", "snPath": "UnitIdentifier"},
    },
    {
        "stationCodePath": "sourceSystem",
        "units": {
            "itemsPath": "payload.InstalledMaterials[*]",
            "snPath": "UnitIdentifier",
        },
    },
]


def message(name: str) -> dict[str, Any]:
    """The published message's body (the payload; the envelope's sourceSystem is its Source)."""
    return dict(json.loads((CFX / f"{name}.json").read_text())["MessageBody"])


async def gql(api: ApiClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return dict(await api.gql(query, variables))


@pytest.fixture
async def f(api: ApiClient, services: Services) -> IngestFactory:
    """The ingest route with infoMappings, compiled again, and a run of it with 2 units."""
    f = await IngestFactory(services.bus).build(units=1)
    c = f.code
    done = await gql(api, SET_CONFIG, {"i": {"routingCode": c("R"), "infoMappings": INFO_MAPPINGS}})
    assert done["setExecutionConfig"]["error"] is None
    version = (await gql(api, COMPILE, {"c": c("R")}))["compileRouting"]["version"]
    assert version["status"] == "READY" and version["infoMappings"] == INFO_MAPPINGS
    f.run_no = c("RUN-INFO")
    created = await gql(
        api,
        CREATE_RUN,
        {"i": {"woNo": c("WO"), "lineCode": c("L"), "planQty": 2, "runNo": f.run_no}},
    )
    assert created["createRun"]["error"] is None
    registered = await gql(
        api, REGISTER, {"i": {"runNo": f.run_no, "count": 2, "snPrefix": c("IN-")}}
    )
    f.sns = [u["sn"] for u in registered["registerUnits"]["units"]]
    return f


def info_input(f: IngestFactory, msg: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    return {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": key or unique("INFO"),
        "eventType": "INFO",
        "occurredAt": AT,
        "payload": msg,
    }


def naming(f: IngestFactory, name: str, sns: list[str]) -> dict[str, Any]:
    """The published message naming these SNs in its unit items (the published ones name one
    carrier or panel barcode: panels are another issue's)."""
    msg = copy.deepcopy(message(name))
    items = msg["Units"] if "Units" in msg else msg["InstalledMaterials"]
    for item, sn in zip(items, sns, strict=False):
        item["UnitIdentifier"] = sn
    return msg


@pytest.mark.parametrize(
    "name",
    [
        "CFX.Production.UnitsArrived",
        "CFX.Production.UnitsDeparted",
        "CFX.Production.WorkStarted",
    ],
)
async def test_a_message_without_result_is_linked_to_its_known_units(
    api: ApiClient, f: IngestFactory, name: str
) -> None:
    unknown = f.code("NOPE")
    r = (await gql(api, INGEST, {"i": info_input(f, naming(f, name, [f.sns[0], unknown]))}))[
        "ingestEvent"
    ]
    assert r["status"] == "ACCEPTED", r["error"]
    event = r["event"]
    assert (event["sn"], event["snList"], event["stepNo"], event["result"]) == (
        f.sns[0],
        [f.sns[0]],
        None,
        None,
    )
    assert event["tracks"] == [] and event["stationCode"] == f.code("AOI-1")
    normalized = event["normalized"]
    assert normalized["unknownSns"] == [unknown] and normalized["terminalSns"] == []
    assert normalized["infoMapping"] == 0
    trace = (await gql(api, TRACE, {"sn": f.sns[0]}))["unit"]
    # no track, the unit where it was
    assert (trace["status"], trace["currentStepNo"], trace["tracks"]) == ("QUEUED", 10, [])
    [seen] = trace["ingestEvents"]
    assert (seen["id"], seen["eventType"], seen["stepNo"]) == (event["id"], "INFO", None)


async def test_materials_installed_reads_by_the_second_mapping(
    api: ApiClient, f: IngestFactory
) -> None:
    msg = naming(f, "CFX.Production.Assembly.MaterialsInstalled", [f.sns[1]])
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f.sns[1]]
    assert r["event"]["normalized"]["infoMapping"] == 1


async def test_an_info_event_naming_no_known_unit_is_still_accepted(
    api: ApiClient, f: IngestFactory
) -> None:
    # as published: its carrier barcode is no unit here
    msg = message("CFX.Production.UnitsArrived")
    barcode = msg["Units"][0]["UnitIdentifier"]
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [] and r["event"]["sn"] is None
    assert r["event"]["normalized"]["unknownSns"] == [barcode]


async def test_info_events_are_idempotent(api: ApiClient, f: IngestFactory) -> None:
    key = unique("INFO")
    sent = info_input(f, naming(f, "CFX.Production.WorkStarted", [f.sns[0]]), key)
    first = (await gql(api, INGEST, {"i": sent}))["ingestEvent"]
    again = (await gql(api, INGEST, {"i": sent}))["ingestEvent"]
    assert (first["status"], again["status"]) == ("ACCEPTED", "DUPLICATE")
    assert again["event"]["id"] == first["event"]["id"]
    other = info_input(f, naming(f, "CFX.Production.WorkStarted", [f.sns[1]]), key)
    conflict = (await gql(api, INGEST, {"i": other}))["ingestEvent"]
    assert conflict["status"] == "REJECTED"
    assert conflict["error"]["code"] == "IDEMPOTENCY_CONFLICT"


async def test_a_message_no_info_mapping_reads_is_refused(api: ApiClient, f: IngestFactory) -> None:
    msg = naming(f, "CFX.Production.WorkCompleted", [])
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "REJECTED"
    assert r["error"]["code"] == "INGEST_PAYLOAD_INVALID"
    assert "payload.Units[*]" in r["error"]["details"]["pathsTried"]


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        (
            {"stationCodePath": "sourceSystem", "snPath": "payload.sn", "result": {"path": "x"}},
            "result not allowed",
        ),
        (
            {
                "stationCodePath": "sourceSystem",
                "units": {"itemsPath": "payload.U[*]", "snPath": "SN", "resultPath": "R"},
            },
            "units.resultPath not allowed",
        ),
        ({"stationCodePath": "sourceSystem"}, "needs a units path"),
        ({"snPath": "payload.sn"}, "stationCodePath is required"),
    ],
)
async def test_compile_refuses_an_info_mapping_with_a_result_or_without_units(
    api: ApiClient, services: Services, mapping: dict[str, Any], says: str
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    done = await gql(
        api, SET_CONFIG, {"i": {"routingCode": f.code("R"), "infoMappings": [mapping]}}
    )
    assert done["setExecutionConfig"]["error"] is None
    version = (await gql(api, COMPILE, {"c": f.code("R")}))["compileRouting"]["version"]
    assert version["status"] == "INVALID"
    [error] = version["errors"]
    assert error["code"] == "INGEST_MAPPING_INVALID"
    assert error["message"].startswith("infoMappings.0") and says in error["message"]


async def test_info_mappings_are_set_at_the_route_scope_only(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    refused = await gql(
        api,
        SET_CONFIG,
        {"i": {"routingCode": f.code("R"), "stepNo": 10, "infoMappings": INFO_MAPPINGS}},
    )
    error = refused["setExecutionConfig"]["error"]
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_FAILED", "infoMappings")


async def test_finished_units_are_linked_and_named(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """An INFO event changes no unit: a finished one is linked too (its history complete),
    and named in `terminalSns`."""
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn == f.sns[1]).values(status="SCRAPPED"))
    msg = naming(f, "CFX.Production.UnitsDeparted", [f.sns[0], f.sns[1]])
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert (r["event"]["sn"], r["event"]["snList"]) == (None, f.sns)
    normalized = r["event"]["normalized"]
    assert normalized["units"] == [
        {"sn": f.sns[0], "status": "QUEUED"},
        {"sn": f.sns[1], "status": "SCRAPPED"},
    ]
    assert (normalized["terminalSns"], normalized["unknownSns"]) == ([f.sns[1]], [])
    scrapped = (await gql(api, TRACE, {"sn": f.sns[1]}))["unit"]
    assert [e["id"] for e in scrapped["ingestEvents"]] == [r["event"]["id"]]


async def test_a_departure_after_the_last_step_is_on_the_done_units_trace(
    api: ApiClient, f: IngestFactory
) -> None:
    """The unit goes through its whole route (AOI, ICT, PACK) and is DONE; the machine's
    UnitsDeparted comes after: it is on the unit's trace, the unit as it was."""
    sn = f.sns[0]
    await f.do(prod.AuthorizeRun(f.run_no))
    for sent in (f.aoi_input(sn), f.ict_input([(sn, "Passed", 1000.0, 3.3)])):
        r = (await gql(api, INGEST, {"i": sent}))["ingestEvent"]
        assert r["status"] == "ACCEPTED", r["error"]
    pack = f.code("PACK-1")
    await f.do(ex.TrackIn(pack, f.run_no, sn))
    await f.do(ex.TrackOut(pack, f.run_no, sn, TrackResult.PASS))
    before = (await gql(api, TRACE, {"sn": sn}))["unit"]
    assert (before["status"], len(before["tracks"])) == ("DONE", 3)

    msg = naming(f, "CFX.Production.UnitsDeparted", [sn])
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    event = r["event"]
    assert (event["sn"], event["snList"], event["tracks"]) == (sn, [sn], [])
    assert event["normalized"]["units"] == [{"sn": sn, "status": "DONE"}]
    assert event["normalized"]["terminalSns"] == [sn]
    after = (await gql(api, TRACE, {"sn": sn}))["unit"]
    assert (after["status"], after["tracks"]) == ("DONE", before["tracks"])
    departed = [e for e in after["ingestEvents"] if e["id"] == event["id"]]
    assert [(e["eventType"], e["stepNo"]) for e in departed] == [("INFO", None)]


async def test_a_token_bound_to_another_station_is_forbidden(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    ict, aoi = f.code("ICT-1"), f.code("AOI-1")
    secret = await token(services, "ingest", ict)
    msg = naming(f, "CFX.Production.UnitsArrived", [f.sns[0]])
    sent = info_input(f, msg) | {"sourceSystem": ict}
    # the payload's station is the envelope's source here: ICT-1 writes for itself
    ok = (await api.gql(INGEST, {"i": sent}, token=secret))["ingestEvent"]
    assert ok["status"] == "ACCEPTED", ok["error"]
    bound = await token(services, "ingest", ict, aoi)  # may send as ICT-1, bound to AOI-1
    refused = (
        await api.gql(INGEST, {"i": info_input(f, msg) | {"sourceSystem": ict}}, token=bound)
    )["ingestEvent"]
    assert (refused["status"], refused["error"]["code"]) == ("REJECTED", "FORBIDDEN")


async def test_a_panel_barcode_is_linked_as_its_boards(api: ApiClient, f: IngestFactory) -> None:
    """UnitsArrived names one barcode at two positions: registered as a panel, it is its
    boards (issue 19 item 2)."""
    panel = f.code("PNL")
    registered = await gql(
        api,
        REGISTER,
        {"i": {"runNo": f.run_no, "panels": [{"panelSn": panel, "positions": 2}]}},
    )
    assert registered["registerUnits"]["error"] is None
    msg = naming(f, "CFX.Production.UnitsArrived", [panel, panel])
    r = (await gql(api, INGEST, {"i": info_input(f, msg)}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f"{panel}-1", f"{panel}-2"]
    assert r["event"]["normalized"]["unknownSns"] == []
