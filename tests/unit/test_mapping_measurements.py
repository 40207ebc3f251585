"""Richer measurements in the mapping language (issue 19 item 4), read from the IPC-CFX SDK's
own example messages (tests/fixtures/cfx; the MessageBody is what a machine sends): several
measurement lists per unit, itemsPaths flattening several `[*]`, `^.` climbing them, names
composed of several fields, nameFallbacks, fields, and unnamed items skipped and counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.enums import StationType, TrackResult
from domain.errors import DomainError, ErrorCode
from domain.mapping.measurements import read_measurements
from domain.mapping.normalize import IngestMapping
from domain.mapping.normalized import Measurement
from domain.mapping.paths import parse_path
from domain.mapping.schema import mapping_problems
from tests.cfx_messages import cfx_event


def values(measurements: tuple[Measurement, ...]) -> dict[str, Any]:
    return {m.name: m.value for m in measurements}


def _mapping(units_key: str, measurements: Any) -> dict[str, Any]:
    return {
        "stationCodePath": "sourceSystem",
        "result": {"passValues": ["Passed"], "failValues": ["Failed"]},
        "units": {
            "itemsPath": f"payload.{units_key}[*]",
            "snPath": "UnitIdentifier",
            "resultPath": "OverallResult",
            "measurements": measurements,
        },
    }


def _numeric(items: str, name: list[str]) -> dict[str, Any]:
    return {
        "itemsPath": items,
        "namePath": name,
        "valuePath": "MeasuredValue.Value",
        "unitPath": "MeasuredValue.ValueUnits",
        "judgePath": "Result",
    }


#: UnitsTested: each test's measurements, and the measurements its symptoms relate to
UNITS_TESTED = _mapping(
    "TestedUnits",
    [
        _numeric("Tests[*].Measurements[*]", ["^.TestName", "MeasurementName"]),
        _numeric(
            "Tests[*].SymptomsFound[*].RelatedMeasurements[*]",
            ["^.^.TestName", "MeasurementName"],
        ),
    ],
)
SPI_FIELDS = {"Vol": "Volume", "Z": "Height", "A": "Area", "X": "X", "EX": "ExpectedX"}
#: UnitsInspected (SPI): one value per field; the lean form has no MeasurementName at all
UNITS_INSPECTED_SPI = _mapping(
    "InspectedUnits",
    {
        "itemsPath": "Inspections[*].Measurements[*]",
        "namePath": "MeasurementName",
        "nameFallbacks": [["^.RefNo", "Sequence"]],
        "fields": SPI_FIELDS,
        "judgePath": "Result",
    },
)


@pytest.mark.parametrize("mapping", [UNITS_TESTED, UNITS_INSPECTED_SPI])
def test_the_mappings_compile(mapping: dict[str, Any]) -> None:
    assert mapping_problems(mapping, StationType.AUTO) == []


def test_units_tested_every_measurement_with_its_test_name() -> None:
    event = cfx_event("UnitsTested")
    mapping = IngestMapping.parse(UNITS_TESTED)
    boards = parse_path("payload.TestedUnits[*]").items(event)
    read = [read_measurements(mapping.unit_measurements, b, "units").measurements for b in boards]
    r21 = "RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21"
    r22 = "RESISTANCE_CHECK_R22.RESISTANCE_MEASUREMENT_R22"
    # position 1 failed R22: the tester sent its value among the symptom's related measurements
    assert read[0] == (
        Measurement(r21, 28300.0, "Ohm", "Passed"),
        Measurement(r22, 28.52, "kOhm", "Passed"),
    )
    assert read[1] == (
        Measurement(r21, 28300.0, "Ohm", "Passed"),
        Measurement(r22, 28300.0, "Ohm", "Passed"),
    )


def test_normalize_climbs_three_levels_over_the_published_message() -> None:
    # one unit's view of the whole panel message: the board's position names each value
    mapping = IngestMapping.parse(
        {
            "stationCodePath": "sourceSystem",
            "snPath": "payload.TestedUnits[0].UnitIdentifier",
            "result": {"path": "payload.TestedUnits[0].OverallResult"},
            "measurements": {
                "itemsPath": "payload.TestedUnits[*].Tests[*].Measurements[*]",
                "namePath": ["^.^.UnitPositionNumber", "^.TestName", "MeasurementName"],
                "valuePath": "MeasuredValue.Value",
            },
        }
    )
    normalized = mapping.normalize(cfx_event("UnitsTested"), StationType.AUTO)
    assert normalized.station_code == "Vendor2.ICT.Machine03"
    assert [(u.sn, u.result) for u in normalized.units] == [("PANEL34543535", TrackResult.PASS)]
    assert values(normalized.units[0].measurements) == {
        "1.RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21": 28300.0,
        "2.RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21": 28300.0,
        "2.RESISTANCE_CHECK_R22.RESISTANCE_MEASUREMENT_R22": 28300.0,
    }


def test_spi_lean_names_each_deposit_by_its_reference_and_sequence() -> None:
    normalized = IngestMapping.parse(UNITS_INSPECTED_SPI).normalize(
        cfx_event("UnitsInspected.spi-lean"), StationType.AUTO
    )
    assert normalized.unnamed_measurements == 0
    (unit,) = normalized.units
    assert (unit.sn, unit.result) == ("FFSHkkskamJDHS", TrackResult.PASS)
    # the lean form sends no EX: a listed field the item lacks gives no value
    assert values(unit.measurements) == {
        "1.1.Volume": 7.8e-05,
        "1.1.Height": 0.086,
        "1.1.Area": 1.234,
        "1.1.X": 0.76,
        "2.1.Volume": 7.4e-05,
        "2.1.Height": 0.092,
        "2.1.Area": 1.226,
        "2.1.X": 0.78,
    }
    assert {m.judge for m in unit.measurements} == {"Passed"}


def test_spi_names_each_value_by_measurement_name_and_field() -> None:
    event = cfx_event("UnitsInspected.spi")
    mapping = IngestMapping.parse(UNITS_INSPECTED_SPI)
    boards = parse_path("payload.InspectedUnits[*]").items(event)
    for board in boards:
        read = read_measurements(mapping.unit_measurements, board, "units")
        assert read.unnamed == 0
        # the full form sends no A (area): no Area value
        assert values(read.measurements) == {
            f"R1.{n}.{field}": value
            for n in (1, 2)
            for field, value in (
                ("Volume", 5.11),
                ("Height", 5.01),
                ("X", 5.62),
                ("ExpectedX", 5.6),
            )
        }


def test_items_without_a_name_are_skipped_and_counted() -> None:
    unnamed = json.loads(json.dumps(UNITS_INSPECTED_SPI))
    del unnamed["units"]["measurements"]["nameFallbacks"]
    normalized = IngestMapping.parse(unnamed).normalize(
        cfx_event("UnitsInspected.spi-lean"), StationType.AUTO
    )
    # the event is read (the board passed), its two nameless deposits are counted
    assert [(u.sn, u.result, u.measurements) for u in normalized.units] == [
        ("FFSHkkskamJDHS", TrackResult.PASS, ())
    ]
    assert normalized.unnamed_measurements == 2


def test_fallbacks_are_tried_in_turn() -> None:
    mapping = IngestMapping.parse(
        {
            "stationCodePath": "payload.s",
            "snPath": "payload.sn",
            "result": {"path": "payload.r"},
            "measurements": {
                "itemsPath": "payload.m[*]",
                "namePath": "name",
                "nameFallbacks": ["label", ["^.payload.s", "seq"]],
                "valuePath": "v",
            },
        }
    )
    payload = {
        "s": "ST",
        "sn": "B1",
        "r": "OK",
        "m": [
            {"name": "a", "label": "x", "v": 1},
            {"name": None, "label": "b", "v": 2},
            {"seq": 3, "v": 3},
            {"v": 4},
        ],
    }
    normalized = mapping.normalize({"payload": payload}, StationType.AUTO)
    assert values(normalized.units[0].measurements) == {"a": 1, "b": 2, "ST.3": 3}
    assert normalized.unnamed_measurements == 1


@pytest.mark.parametrize(
    ("name_path", "name", "fragment"),
    [
        ("name[*]", ["a", "b"], "namePath name[*] yielded 2 values"),
        ("name", " a", "without outer white space"),
        ("name", {"a": 1}, "is not a string or number"),
    ],
)
def test_a_name_that_is_there_but_not_a_name_refuses(
    name_path: str, name: Any, fragment: str
) -> None:
    mapping = IngestMapping.parse(
        {
            "stationCodePath": "payload.s",
            "snPath": "payload.sn",
            "result": {"path": "payload.r"},
            "measurements": {"itemsPath": "payload.m[*]", "namePath": name_path, "valuePath": "v"},
        }
    )
    payload = {"s": "S", "sn": "B", "r": "OK", "m": [{"name": name, "v": 1}]}
    with pytest.raises(DomainError) as caught:
        mapping.normalize({"payload": payload}, StationType.AUTO)
    assert caught.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert fragment in caught.value.message


# ---------------------------------------------------------------- paths climbing `[*]` levels

DOC = {"payload": {"t": [{"n": "T1", "m": [{"v": 1}, {"v": 2}]}, {"n": "T2", "m": [{"v": 3}]}]}}


def test_items_carry_one_ancestor_per_star_level() -> None:
    path = parse_path("payload.t[*].m[*]")
    assert path.levels == 2
    items = path.items_in(DOC)
    assert [item["v"] for item, _ in items] == [1, 2, 3]
    assert [parse_path("^.n").values(item, up) for item, up in items] == [["T1"], ["T1"], ["T2"]]
    assert parse_path("^.^.payload.t[1].n").values(*items[0]) == ["T2"]
    # higher than the itemsPath has levels finds nothing (compile refuses such a path)
    assert parse_path("^.^.^.x").values(*items[0]) == []
    # the elements of an array named without [*] are one level under it
    assert parse_path("payload.t").levels == 1
    assert [a[-1] is DOC for _, a in parse_path("payload.t").items_in(DOC)] == [True, True]


@pytest.mark.parametrize(
    ("measurements", "problem"),
    [
        (
            {"itemsPath": "payload.t[*].m[*]", "namePath": ["^.^.^.n", "v"], "valuePath": "v"},
            "measurements.namePath: ^.^.^.n climbs 3 [*] levels, but itemsPath "
            "payload.t[*].m[*] has 2",
        ),
        (
            [{"itemsPath": "payload.m", "namePath": "n", "valuePath": "v", "unitPath": "^.^.u"}],
            "measurements.0.unitPath: ^.^.u climbs 2 [*] levels, but itemsPath payload.m has 1",
        ),
        (
            {"itemsPath": "payload.m[*]", "namePath": "n", "nameFallbacks": [["^.^.a", "b"]]},
            "measurements: 'valuePath' or 'fields' is required",
        ),
        (
            {"itemsPath": "payload.m[*]", "namePath": [], "valuePath": "v"},
            "measurements.namePath: [] should be non-empty",
        ),
        (
            {"itemsPath": "payload.m[*]", "namePath": "n", "fields": {"Vol": ""}},
            "measurements.fields.Vol: '' does not match '^\\\\S(.*\\\\S)?$'",
        ),
        (
            {"itemsPath": "payload.m[*]", "namePath": "n", "valuePath": "v", "nameFallback": []},
            "measurements: Unevaluated properties are not allowed ('nameFallback' was unexpected)",
        ),
        ([], "measurements: [] should be non-empty"),
    ],
)
def test_compile_names_what_is_wrong(measurements: Any, problem: str) -> None:
    mapping = {
        "stationCodePath": "payload.s",
        "snPath": "payload.sn",
        "result": {"path": "payload.r"},
        "measurements": measurements,
    }
    assert mapping_problems(mapping, StationType.AUTO) == [problem]


def test_compile_refuses_climbing_outside_a_measurement_item() -> None:
    mapping = {
        "stationCodePath": "payload.s",
        "result": {"path": "payload.r"},
        "units": {
            "itemsPath": "payload.u[*]",
            "snPath": "^.sn",
            "measurements": {"itemsPath": "^.m", "namePath": "n", "valuePath": "v"},
        },
    }
    assert mapping_problems(mapping, StationType.AUTO) == [
        "units.measurements.itemsPath: ^. climbs only in the paths inside an item",
        "units.snPath: ^. climbs only in the paths inside a measurement item",
    ]


# ---------------------------------------------------------------- never raises on any JSON

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("abmnv"), children)
    ),
    max_leaves=30,
)
rel = st.lists(st.sampled_from(["a", "b", "n", "v", "m[*]", "m[0]"]), min_size=1, max_size=3)
climbing = st.tuples(st.integers(0, 2), rel).map(lambda t: "^." * t[0] + ".".join(t[1]))
names = climbing | st.lists(climbing, min_size=1, max_size=3)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "itemsPath": draw(st.sampled_from(["payload.m[*].m[*]", "payload.m[*]", "payload.m"])),
        "namePath": draw(names),
        "nameFallbacks": draw(st.lists(names, min_size=1, max_size=2)),
        "fields": draw(st.dictionaries(climbing, st.sampled_from(["X", "Y"]), min_size=1)),
    }
    if draw(st.booleans()):
        spec["valuePath"] = draw(climbing)
    return spec


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(measurements=st.lists(specs(), min_size=1, max_size=3), payload=json_values)
def test_normalize_raises_only_payload_invalid(
    measurements: list[dict[str, Any]], payload: Any
) -> None:
    mapping = {
        "stationCodePath": "payload.s",
        "snPath": "payload.sn",
        "result": {"path": "payload.r"},
        "measurements": measurements,
    }
    problems = mapping_problems(mapping, StationType.AUTO)
    assert all("climbs" in p for p in problems)
    root = {"payload": {"s": "S", "sn": "B", "r": "OK", "m": payload}}
    try:
        normalized = IngestMapping.parse(mapping).normalize(root, StationType.AUTO)
    except DomainError as err:
        assert err.code is ErrorCode.INGEST_PAYLOAD_INVALID
    else:
        assert normalized.unnamed_measurements >= 0
        assert all(isinstance(m.name, str) for m in normalized.units[0].measurements)
