"""Shapes real machines send (issue 19 item 6), read from the IPC-CFX SDK's own example messages
(tests/fixtures/cfx; the MessageBody is what a machine sends): a step's mapping may be a `oneOf`
of alternatives (an AOI reporting per board or for the whole panel), and `operatorPath` reads
who did the work for the tracks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.enums import RouteVersionStatus, StationType, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.panel_boards import board_readings
from domain.ingest.resolve import MappingCache
from domain.mapping.alternatives import StepMapping
from domain.mapping.schema import mapping_problems
from domain.routes import RouteIdentity, RouteStep, RouteVersion
from domain.runs_and_units import Unit

CFX = Path(__file__).resolve().parents[1] / "fixtures" / "cfx"

RESULT = {"passValues": ["Passed"], "failValues": ["Failed"]}
#: an AOI's per-board form: each inspected unit with its own result
PER_BOARD: dict[str, Any] = {
    "stationCodePath": "sourceSystem",
    "operatorPath": "payload.Inspector.OperatorIdentifier",
    "result": RESULT,
    "units": {
        "itemsPath": "payload.InspectedUnits[*]",
        "snPath": "UnitIdentifier",
        "resultPath": "OverallResult",
    },
}
#: the same AOI's panel-level form: one verdict on the panel
PANEL_LEVEL: dict[str, Any] = {
    "stationCodePath": "sourceSystem",
    "operatorPath": "payload.Inspector.OperatorIdentifier",
    "snPath": "payload.InspectedPanel.UnitIdentifier",
    "result": {"path": "payload.InspectedPanel.OverallResult", **RESULT},
}
AOI = {"oneOf": [PER_BOARD, PANEL_LEVEL]}


def cfx_event(name: str) -> dict[str, Any]:
    """The event root of a published example: the machine's MessageBody as payload."""
    envelope = json.loads((CFX / f"CFX.Production.TestAndInspection.{name}.json").read_text())
    return {"sourceSystem": envelope["Source"], "payload": envelope["MessageBody"]}


def per_board_event() -> dict[str, Any]:
    """UnitsInspected with each board labelled (the published one names the panel at two
    positions, which panels resolve; here the alternative is the point)."""
    root = cfx_event("UnitsInspected")
    for n, unit in enumerate(root["payload"]["InspectedUnits"], start=1):
        unit["UnitIdentifier"] = f"BOARD-{n}"
    return root


def test_one_of_reads_the_per_board_form_with_the_first_alternative() -> None:
    read = (
        StepMapping.parse(AOI)
        .pick(per_board_event())
        .normalize(per_board_event(), StationType.AUTO)
    )
    assert read.mapping_alternative == 0
    assert [(u.sn, u.result, u.operator) for u in read.units] == [
        ("BOARD-1", TrackResult.PASS, "BADGE489499"),
        ("BOARD-2", TrackResult.FAIL, "BADGE489499"),
    ]


def test_one_of_reads_the_panel_level_form_with_the_second_alternative() -> None:
    root = cfx_event("UnitsInspected.panel")  # InspectedUnits is [], InspectedPanel says it
    mapping = StepMapping.parse(AOI).pick(root)
    assert mapping.unit_sns(root) == ["PN123456789"]
    read = mapping.normalize(root, StationType.AUTO)
    assert read.mapping_alternative == 1
    assert [(u.sn, u.result, u.operator) for u in read.units] == [
        ("PN123456789", TrackResult.PASS, "BADGE489435")
    ]


def test_no_alternative_yields_a_unit_the_first_names_its_path() -> None:
    root = cfx_event("UnitsInspected.panel")
    del root["payload"]["InspectedPanel"]
    mapping = StepMapping.parse(AOI).pick(root)
    assert mapping.alternative == 0
    with pytest.raises(DomainError) as err:
        mapping.normalize(root, StationType.AUTO)
    assert err.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert "payload.InspectedUnits[*]" in err.value.message


def _version(version_id: int, mapping: dict[str, Any]) -> tuple[RouteVersion, RouteStep]:
    step = RouteStep(10, "AOI", "AOI", StationType.AUTO, ingest_mapping=mapping)
    identity = RouteIdentity("R", "Route", "MES")
    at = datetime(2026, 3, 2, tzinfo=UTC)
    version = RouteVersion("R", 1, RouteVersionStatus.READY, at, identity, (step,), id=version_id)
    return version, step


def test_the_cache_keeps_a_versions_alternatives_and_skips_a_broken_stored_one() -> None:
    cache = MappingCache()
    found = cache.get(*_version(1, AOI))
    assert found is not None and [m.alternative for m in found.alternatives] == [0, 1]
    assert cache.get(*_version(1, AOI)) is found  # parsed once per version step
    broken: list[dict[str, Any]] = [
        {"oneOf": []},
        {"oneOf": ["x"]},
        {"oneOf": [{"oneOf": [PER_BOARD]}]},
    ]
    for stored in broken:
        assert cache.get(*_version(2, stored)) is None


def test_a_single_mapping_names_no_alternative() -> None:
    read = StepMapping.parse(PER_BOARD).pick(per_board_event())
    assert read.normalize(per_board_event(), StationType.AUTO).mapping_alternative is None
    assert StepMapping.parse(PER_BOARD).unit_paths == ["payload.InspectedUnits[*]"]
    assert StepMapping.parse(AOI).unit_paths == [
        "payload.InspectedUnits[*]",
        "payload.InspectedPanel.UnitIdentifier",
    ]


def _tested(**units: Any) -> dict[str, Any]:
    return {
        "stationCodePath": "sourceSystem",
        "testResultIdPath": "payload.TransactionId",
        "operatorPath": "payload.Tester.OperatorIdentifier",
        "result": RESULT,
        "units": {
            "itemsPath": "payload.TestedUnits[*]",
            "snPath": "UnitPositionNumber",
            "resultPath": "OverallResult",
            **units,
        },
    }


def test_operator_path_reads_the_tester_of_units_tested() -> None:
    root = cfx_event("UnitsTested")
    assert mapping_problems(_tested(), StationType.TEST) == []
    read = StepMapping.parse(_tested()).pick(root).normalize(root, StationType.TEST)
    assert [(u.sn, u.operator) for u in read.units] == [("1", "BADGE489499"), ("2", "BADGE489499")]


def test_a_unit_items_own_operator_comes_first() -> None:
    root = cfx_event("UnitsTested")
    root["payload"]["TestedUnits"][1]["TestedBy"] = {"OperatorIdentifier": "BADGE7"}
    mapping = _tested(operatorPath="TestedBy.OperatorIdentifier")
    assert mapping_problems(mapping, StationType.TEST) == []
    read = StepMapping.parse(mapping).pick(root).normalize(root, StationType.TEST)
    assert [u.operator for u in read.units] == ["BADGE489499", "BADGE7"]


def test_no_operator_is_none() -> None:
    root = cfx_event("UnitsInspected.spi-lean")  # "OperatorIdentifier": null
    read = StepMapping.parse(PER_BOARD).pick(root).normalize(root, StationType.AUTO)
    assert read.units and all(u.operator is None for u in read.units)


@pytest.mark.parametrize(
    ("operator", "fragment"),
    [
        (489499, "is not a string"),
        ({"id": "x"}, "is not a string"),
        (["a", "b"], "is not a string"),
        ("B" * 101, "1–100 characters"),
        (" BADGE ", "1–100 characters"),
        ("", "1–100 characters"),
    ],
)
def test_an_operator_that_is_not_an_id_is_refused(operator: Any, fragment: str) -> None:
    root = cfx_event("UnitsTested")
    root["payload"]["Tester"]["OperatorIdentifier"] = operator
    with pytest.raises(DomainError) as err:
        StepMapping.parse(_tested()).pick(root).normalize(root, StationType.TEST)
    assert err.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert fragment in err.value.message
    assert err.value.details and err.value.details["path"] == "payload.Tester.OperatorIdentifier"


@given(st.text(min_size=1, max_size=100).filter(lambda t: t == t.strip() and "\x00" not in t))
def test_any_id_like_operator_is_kept(operator: str) -> None:
    root = cfx_event("UnitsTested")
    root["payload"]["Tester"]["OperatorIdentifier"] = operator
    read = StepMapping.parse(_tested()).pick(root).normalize(root, StationType.TEST)
    assert {u.operator for u in read.units} == {operator}


# ------------------------------------------------------------ compile


def test_compile_validates_each_alternative_and_names_its_index() -> None:
    broken = copy.deepcopy(PANEL_LEVEL)
    del broken["stationCodePath"]
    broken["snPath"] = "InspectedPanel.UnitIdentifier"  # not a root path
    problems = mapping_problems({"oneOf": [PER_BOARD, broken]}, StationType.AUTO)
    assert problems and all(p.startswith("oneOf.1") for p in problems), problems
    assert any("snPath" in p for p in problems)
    no_station = {k: v for k, v in PANEL_LEVEL.items() if k != "stationCodePath"}
    assert mapping_problems({"oneOf": [PER_BOARD, no_station]}, StationType.AUTO) == [
        "oneOf.1: stationCodePath is required"
    ]


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"oneOf": []}, "oneOf: [] should be non-empty"),
        ({"oneOf": [PER_BOARD] * 11}, "oneOf: "),
        ({"oneOf": "x"}, "oneOf: 'x' is not of type 'array'"),
        ({"oneOf": [PER_BOARD], "stationCodePath": "sourceSystem"}, "has no other keys"),
        ({"oneOf": [{"oneOf": [PER_BOARD]}]}, "oneOf.0: alternatives do not nest"),
        ({"oneOf": [{**PER_BOARD, "bogus": 1}]}, "oneOf.0: Additional properties"),
        ({**PER_BOARD, "operatorPath": "Inspector"}, "operatorPath"),
        ({**PER_BOARD, "operatorPath": 7}, "operatorPath"),
        (
            {**PER_BOARD, "units": {**PER_BOARD["units"], "operatorPath": "payload.x[*"}},
            "units.operatorPath",
        ),
        (
            {**PER_BOARD, "units": {**PER_BOARD["units"], "operatorPath": "^.Op"}},
            "units.operatorPath: ^. climbs only",
        ),
    ],
)
def test_compile_refuses_bad_shapes(mapping: dict[str, Any], fragment: str) -> None:
    problems = mapping_problems(mapping, StationType.AUTO)
    assert any(fragment in p for p in problems), problems


def test_a_valid_one_of_compiles() -> None:
    assert mapping_problems(AOI, StationType.AUTO) == []


def test_units_tested_as_published_reads_each_board_at_its_position() -> None:
    """The published UnitsTested names its panel's barcode at positions 1 and 2 (issue 19
    item 2): positionPath tells the boards apart, each with its own result and measurements."""
    root = cfx_event("UnitsTested")
    mapping = _tested(snPath="UnitIdentifier", positionPath="UnitPositionNumber")
    mapping["units"]["measurements"] = {
        "itemsPath": "Tests[*].Measurements[*]",
        "namePath": "MeasurementName",
        "valuePath": "MeasuredValue.Value",
    }
    assert mapping_problems(mapping, StationType.TEST) == []
    assert mapping_problems(_tested(positionPath="^.x"), StationType.TEST) != []
    parsed = StepMapping.parse(mapping).pick(root)
    assert parsed.unit_positions(root) == {"PANEL34543535": {1, 2}}
    read = parsed.normalize(root, StationType.TEST)
    at = datetime(2026, 3, 2, tzinfo=UTC)
    boards = [
        Unit(f"B{n}", "WO", "RUN", UnitStatus.QUEUED, 10, at, panel_sn="PANEL34543535", position=n)
        for n in (1, 2)
    ]
    readings = board_readings(read.units, boards)
    assert [(r.sn, r.result) for r in readings] == [
        ("B1", TrackResult.PASS),
        ("B2", TrackResult.PASS),
    ]
    assert [[m.name for m in r.measurements] for r in readings] == [
        ["RESISTANCE_MEASUREMENT_R21"],
        ["RESISTANCE_MEASUREMENT_R21", "RESISTANCE_MEASUREMENT_R22"],
    ]
