"""IPC-CFX ValidateUnitsRequest → ValidateUnitsResponse (issue 21, domain/cfx/validation.py):
the SDK's published request, its panel barcode and positions resolved as ingest resolves them,
answered per board on both databases."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.cfx.validation import RESPONSE, answer, asked_units
from domain.errors import DomainError
from domain.panels import PanelSpec
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.ingest_builders import IngestFactory

REQUEST = json.loads(
    (
        Path(__file__).parents[1]
        / "fixtures/cfx/CFX.InformationSystem.UnitValidation.ValidateUnitsRequest.json"
    ).read_text()
)
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _request(panel: str, *extra: dict[str, Any]) -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    for unit in request["MessageBody"]["Units"]:
        unit["UnitIdentifier"] = panel
    request["MessageBody"]["Units"] += list(extra)
    return dict(request)


async def _answer(services: Services, request: dict[str, Any], station: str) -> dict[str, Any]:
    return await answer(
        services.store, request, station, now=NOW, unique_id="resp-1", responder="MES.Server.1"
    )


async def test_the_published_request_is_answered_per_board(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    panel = unique("VPNL")
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(panel, 2),)))
    response = await _answer(services, _request(panel), f.code("AOI-1"))
    assert response["MessageName"] == RESPONSE
    assert (response["Target"], response["RequestID"], response["UniqueID"]) == (
        REQUEST["Source"],
        REQUEST["RequestID"],
        "resp-1",
    )
    body = response["MessageBody"]
    assert body["Result"] == {"Result": "Success", "ResultCode": 0, "Message": None}
    assert body["PrimaryResult"]["Result"] == "Passed"
    assert [
        (r["UniqueIdentifier"], r["PositionNumber"], r["Result"]) for r in body["ValidationResults"]
    ] == [(panel, 1, "Passed"), (panel, 2, "Passed")]


async def test_failed_units_carry_their_refusal(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    panel = unique("VPNL")
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(panel, 2),)))
    unknown = {"UnitIdentifier": unique("NONE"), "PositionNumber": 0}
    # the ICT station: the boards stand at AOI (STEP_MISMATCH); one barcode is nobody's
    response = await _answer(services, _request(panel, unknown), f.code("ICT-1"))
    body = response["MessageBody"]
    assert body["PrimaryResult"]["Result"] == "Failed"
    got = [(r["Result"], r["FailureCode"], r["Message"]) for r in body["ValidationResults"]]
    assert got == [
        ("Failed", 8, f"STEP_MISMATCH (unit {panel}-1)"),
        ("Failed", 8, f"STEP_MISMATCH (unit {panel}-2)"),
        ("Failed", 1, f"UNIT_NOT_FOUND (unit {unknown['UnitIdentifier']})"),
    ]
    # a position the panel lacks is no board's
    lacking = _request(panel)
    lacking["MessageBody"]["Units"] = [{"UnitIdentifier": panel, "PositionNumber": 7}]
    body = (await _answer(services, lacking, f.code("AOI-1")))["MessageBody"]
    assert [r["Message"] for r in body["ValidationResults"]] == [f"UNIT_NOT_FOUND (unit {panel})"]
    # a panel without a position: every board
    whole = _request(panel)
    whole["MessageBody"]["Units"] = [{"UnitIdentifier": panel}]
    body = (await _answer(services, whole, f.code("AOI-1")))["MessageBody"]
    assert [r["Result"] for r in body["ValidationResults"]] == ["Passed", "Passed"]


async def test_a_request_that_names_no_unit_is_answered_failed(services: Services) -> None:
    request = copy.deepcopy(REQUEST)
    request["MessageBody"]["Units"] = []
    request["MessageBody"]["PrimaryIdentifier"] = None
    body = (await _answer(services, request, "ANY"))["MessageBody"]
    assert body["Result"]["Result"] == "Failed"
    assert "names no unit" in body["Result"]["Message"]
    assert body["ValidationResults"] == [] and body["PrimaryResult"] is None


def test_asked_units_refuses_what_is_no_unit() -> None:
    for body, why in (
        ([], "not an object"),
        ({"Units": [{"UnitIdentifier": 5}]}, "not a barcode"),
        ({"Units": [{"UnitIdentifier": "A", "PositionNumber": -1}]}, "whole number"),
        ({"Units": [{"UnitIdentifier": "A", "PositionNumber": True}]}, "whole number"),
    ):
        try:
            asked_units(body)
        except DomainError as err:
            assert why in err.message
        else:
            raise AssertionError(body)
    assert [a.position for a in asked_units({"PrimaryIdentifier": " P "})] == [None]
