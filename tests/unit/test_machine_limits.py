"""Limits the machine sends (lowLimitPath, highLimitPath, expectedPath, limitUnitPath) and
names without a spec (unmappedNames), read from the IPC-CFX SDK's published UnitsTested
(issue 19 item 4): its MeasuredValue carries MinimumAcceptableValue/MaximumAcceptableValue and
ExpectedValue in ExpectedValueUnits, while the value may come in another unit (28300 Ohm
against 28.0-28.4 kOhm)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.enums import (
    CollectionMethod,
    DataType,
    Judge,
    SpecItemType,
    StationType,
    TrackSource,
    TriggerType,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.data import judged, read_measurements, unspecified
from domain.mapping.measurements import read_measurements as read_items
from domain.mapping.normalize import IngestMapping
from domain.mapping.normalized import Measurement
from domain.mapping.paths import parse_path
from domain.mapping.schema import mapping_problems
from domain.master import SpecLimits
from domain.routes import RouteStep, StepDataSpec
from tests.cfx_messages import cfx_event
from tests.fakes import FakeUnitsOfMeasure

R21 = "RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21"
R22 = "RESISTANCE_CHECK_R22.RESISTANCE_MEASUREMENT_R22"


def _numeric(items: str, name: list[str]) -> dict[str, Any]:
    return {
        "itemsPath": items,
        "namePath": name,
        "valuePath": "MeasuredValue.Value",
        "unitPath": "MeasuredValue.ValueUnits",
        "judgePath": "Result",
        "lowLimitPath": "MeasuredValue.MinimumAcceptableValue",
        "highLimitPath": "MeasuredValue.MaximumAcceptableValue",
        "expectedPath": "MeasuredValue.ExpectedValue",
        "limitUnitPath": "MeasuredValue.ExpectedValueUnits",
    }


def units_tested(**top: Any) -> dict[str, Any]:
    return {
        "stationCodePath": "sourceSystem",
        "result": {"passValues": ["Passed"], "failValues": ["Failed"]},
        "units": {
            "itemsPath": "payload.TestedUnits[*]",
            "snPath": "UnitIdentifier",
            "resultPath": "OverallResult",
            "measurements": [
                _numeric("Tests[*].Measurements[*]", ["^.TestName", "MeasurementName"]),
                _numeric(
                    "Tests[*].SymptomsFound[*].RelatedMeasurements[*]",
                    ["^.^.TestName", "MeasurementName"],
                ),
            ],
        },
        **top,
    }


def boards() -> list[tuple[Measurement, ...]]:
    mapping = IngestMapping.parse(units_tested())
    event = cfx_event("UnitsTested")
    return [
        read_items(mapping.unit_measurements, b, "units").measurements
        for b in parse_path("payload.TestedUnits[*]").items(event)
    ]


def step_with(*specs: StepDataSpec) -> RouteStep:
    return RouteStep(10, "ICT", "ICT", StationType.AUTO, data_specs=specs)


def read(step: RouteStep, measurements: tuple[Measurement, ...], policy: str = "STORE") -> Any:
    return read_measurements(
        step,
        measurements,
        {},
        carrier_level=False,
        units_of_measure=FakeUnitsOfMeasure(),
        pass_values=("Passed",),
        fail_values=("Failed",),
        unmapped_names=policy,
    )


def test_the_mapping_compiles_and_limit_unit_needs_a_limit() -> None:
    assert mapping_problems(units_tested(), StationType.AUTO) == []
    assert mapping_problems(units_tested(unmappedNames="IGNORE"), StationType.AUTO) == []
    bad = mapping_problems(units_tested(unmappedNames="KEEP"), StationType.AUTO)
    assert bad and "unmappedNames" in bad[0]
    lonely = units_tested()
    for key in ("lowLimitPath", "highLimitPath", "expectedPath"):
        del lonely["units"]["measurements"][0][key]
    problems = mapping_problems(lonely, StationType.AUTO)
    assert problems and "lowLimitPath" in problems[0], problems


def test_the_sent_limits_are_read_with_each_value() -> None:
    first = boards()[0]
    assert first[0] == Measurement(R21, 28300.0, "Ohm", "Passed", 28.0, 28.4, 28.2, "kOhm")
    assert first[1] == Measurement(R22, 28.52, "kOhm", "Passed", 28.0, 28.4, 28.2, "kOhm")


def test_a_limit_that_is_no_number_is_refused_naming_its_path() -> None:
    mapping = IngestMapping.parse(units_tested())
    board = {"Tests": [{"TestName": "T", "Measurements": [
        {"MeasurementName": "M", "MeasuredValue": {"Value": 1, "MinimumAcceptableValue": "low"}}
    ]}]}  # fmt: skip
    with pytest.raises(DomainError) as caught:
        read_items(mapping.unit_measurements, board, "units")
    assert caught.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert "MeasuredValue.MinimumAcceptableValue" in caught.value.message


def test_without_a_spec_the_machine_limits_judge_in_their_unit() -> None:
    data = read(step_with(), boards()[0])
    r21, r22 = data.values
    # 28300 Ohm is 28.3 kOhm: inside 28.0-28.4 (the machine's own verdict agrees)
    assert (r21.value.number, r21.unit, r21.judge) == (28.3, "kOhm", Judge.PASS)
    assert (r21.original_value, r21.original_unit) == (28300.0, "Ohm")
    # 28.52 kOhm is over the sent high limit: FAIL, whatever the related measurement said
    assert (r22.value.number, r22.judge, r22.original_value) == (28.52, Judge.FAIL, None)
    assert data.unmapped == (R21, R22)
    stored = r21.data_value(TrackSource.AUTO, datetime(2026, 1, 1, tzinfo=UTC))
    assert (stored.low_limit, stored.high_limit, stored.expected, stored.limit_unit) == (
        28.0,
        28.4,
        28.2,
        "kOhm",
    )
    assert (stored.spec_name, stored.data_type) == (R21, DataType.NUMBER)


def test_a_spec_with_limits_stays_the_authority() -> None:
    strict = StepDataSpec(
        R21,
        DataType.NUMBER,
        CollectionMethod.AUTO,
        SpecItemType.OBSERVATION,
        TriggerType.EACH_UNIT,
        False,
        SpecLimits(27.0, 28.1, "kOhm"),
    )
    r21 = read(step_with(strict), boards()[0]).values[0]
    assert (r21.value.number, r21.judge) == (28.3, Judge.FAIL)  # the machine's limits pass it
    assert (r21.sent is not None and r21.sent.low, r21.sent and r21.sent.unit) == (28.0, "kOhm")


def test_a_spec_unit_without_limits_judges_by_the_sent_limits_converted() -> None:
    in_ohm = StepDataSpec(
        R22,
        DataType.NUMBER,
        CollectionMethod.AUTO,
        SpecItemType.OBSERVATION,
        TriggerType.EACH_UNIT,
        False,
        SpecLimits(None, None, "Ohm"),
    )
    r22 = read(step_with(in_ohm), boards()[0]).values[1]
    # stored in the spec's unit; the kOhm limits judge it once in Ohm
    assert (r22.value.number, r22.unit, r22.judge) == (28520.0, "Ohm", Judge.FAIL)


def test_ignore_drops_and_refuse_refuses_names_without_a_spec() -> None:
    first = boards()[0]
    ignored = read(step_with(), first, "IGNORE")
    assert (ignored.values, ignored.unmapped) == ((), (R21, R22))
    with pytest.raises(DomainError) as caught:
        read(step_with(), first, "REFUSE")
    assert caught.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert caught.value.details == {"measurement": R21, "stepNo": 10}


@pytest.mark.parametrize(
    ("raw", "dtype"),
    [
        (1, DataType.NUMBER),
        (2.5, DataType.NUMBER),
        ("open", DataType.TEXT),
        (True, DataType.BOOLEAN),
        ({"x": 1}, DataType.JSON),
        ([1, 2], DataType.JSON),
        (None, DataType.JSON),
    ],
)
def test_a_value_without_a_spec_has_the_type_of_its_json(raw: Any, dtype: DataType) -> None:
    spec = unspecified("M", raw, carrier_level=False)
    assert (spec.data_type, spec.item_type, spec.is_required) == (
        dtype,
        SpecItemType.OBSERVATION,
        False,
    )
    value = judged(spec, raw)
    assert value.judge is Judge.NA


def test_an_unconvertible_value_names_the_limits_unit() -> None:
    sent = Measurement("M", 5.0, "V", None, 1.0, 2.0, None, "Ohm")
    with pytest.raises(DomainError) as caught:
        read(step_with(), (sent,))
    assert caught.value.code is ErrorCode.DATA_VALUE_INVALID
    assert (caught.value.details or {}).get("limitUnit") == "Ohm"
