"""Coercion, judging and alarms (DOMAIN.md §3): pure rules shared by every way data enters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    Judge,
    SpecItemType,
    StationType,
    TrackSource,
    TriggerType,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.data import coerce, judged, missing_required, read_measurements
from domain.mapping.normalized import Measurement
from domain.master import SpecAlarm, SpecLimits
from domain.routes import RouteStep, StepDataSpec
from tests.fakes import FakeUnitsOfMeasure

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def spec(dtype: DataType, **kw: Any) -> StepDataSpec:
    return StepDataSpec(
        name=kw.pop("name", "S"),
        data_type=dtype,
        method=kw.pop("method", CollectionMethod.AUTO),
        item_type=kw.pop("item_type", SpecItemType.OBSERVATION),
        trigger_type=kw.pop("trigger_type", TriggerType.EVENT),
        is_required=kw.pop("is_required", False),
        **kw,
    )


@pytest.mark.parametrize(
    ("dtype", "raw", "field", "expected"),
    [
        (DataType.NUMBER, 12, "number", 12.0),
        (DataType.NUMBER, " 1.5e3 ", "number", 1500.0),
        (DataType.BOOLEAN, True, "boolean", True),
        (DataType.BOOLEAN, "False", "boolean", False),
        (DataType.BOOLEAN, 1, "boolean", True),
        (DataType.TEXT, "abc", "text", "abc"),
        (DataType.TEXT, 42, "text", "42"),
        (DataType.JSON, {"a": [1]}, "json", {"a": [1]}),
        (DataType.JSON, None, "json", None),
    ],
)
def test_coercion_accepts(dtype: DataType, raw: Any, field: str, expected: Any) -> None:
    assert getattr(coerce(spec(dtype), raw), field) == expected


@pytest.mark.parametrize(
    ("dtype", "raw"),
    [
        (DataType.NUMBER, True),
        (DataType.NUMBER, "12,5"),
        (DataType.NUMBER, "nan"),
        (DataType.NUMBER, float("inf")),
        (DataType.NUMBER, None),
        (DataType.BOOLEAN, 2),
        (DataType.BOOLEAN, "yes"),
        (DataType.TEXT, True),
        (DataType.TEXT, {"a": 1}),
        (DataType.TEXT, "x" * 10_001),
    ],
)
def test_coercion_refuses_naming_spec_and_value(dtype: DataType, raw: Any) -> None:
    with pytest.raises(DomainError) as caught:
        coerce(spec(dtype, name="Volt"), raw)
    assert caught.value.code is ErrorCode.DATA_VALUE_INVALID
    assert caught.value.details and caught.value.details["specName"] == "Volt"


LIMITED = spec(
    DataType.NUMBER,
    limits=SpecLimits(0.0, 25.0, "%"),
    alarm=SpecAlarm(AlarmAction.HOLD, None, 40.0),
)


@pytest.mark.parametrize(
    ("raw", "source", "judge", "alarmed"),
    [
        (12.5, None, Judge.PASS, False),  # inside, no judge sent: PASS
        (12.5, "NG", Judge.FAIL, False),  # inside: the source's judge
        (12.5, "whatever", Judge.PASS, False),  # inside, unknown word: our limits say PASS
        (31.0, "OK", Judge.FAIL, False),  # outside: FAIL whatever the source says
        (45.0, None, Judge.FAIL, True),  # outside the alarm range too
        (-1.0, None, Judge.FAIL, False),
    ],
)
def test_limits_are_the_authority(
    raw: float, source: str | None, judge: Judge, alarmed: bool
) -> None:
    v = judged(LIMITED, raw, source)
    assert (v.judge, v.alarmed, v.unit) == (judge, alarmed, "%")
    assert v.holds is alarmed


def test_without_limits_the_source_judges_or_na() -> None:
    free = spec(DataType.TEXT)
    assert judged(free, "x").judge is Judge.NA
    assert judged(free, "x", "Passed").judge is Judge.PASS
    assert judged(free, "x", "failed").judge is Judge.FAIL
    assert judged(free, "x", "dunno").judge is Judge.NA
    assert judged(spec(DataType.NUMBER, limits=SpecLimits(None, None, "V")), 3, None).unit == "V"


IN_KOHM = spec(DataType.NUMBER, name="R21", limits=SpecLimits(28.0, 28.4, "kOhm"))


@pytest.mark.parametrize(
    ("raw", "unit", "number", "judge"),
    [
        (28300.0, "Ohm", 28.3, Judge.PASS),  # the CFX example's good board
        (28400.0, "Ohm", 28.4, Judge.PASS),  # on the limit: no float noise fails it
        (29000.0, "Ohm", 29.0, Judge.FAIL),
        ("28300", "Ohm", 28.3, Judge.PASS),  # a numeric string converts as well
        (28_300_000.0, "mOhm", 28.3, Judge.PASS),
    ],
)
def test_a_value_in_another_unit_is_converted_into_the_specs_before_judging(
    raw: Any, unit: str, number: float, judge: Judge
) -> None:
    v = judged(IN_KOHM, raw, None, unit, units_of_measure=FakeUnitsOfMeasure())
    assert (v.value.number, v.unit, v.judge) == (number, "kOhm", judge)
    assert (v.original_value, v.original_unit) == (float(raw), unit)
    stored = v.data_value(TrackSource.TEST, NOW)
    assert (stored.value_number, stored.value_unit) == (number, "kOhm")
    assert (stored.original_value, stored.original_unit) == (float(raw), unit)


@pytest.mark.parametrize("unit", ["kOhm", " kOhm ", None, ""])
def test_a_value_in_the_specs_unit_or_without_one_is_kept_as_sent(unit: str | None) -> None:
    # no converter needed: nothing is converted
    v = judged(IN_KOHM, 28.3, None, unit)
    assert (v.value.number, v.unit, v.judge) == (28.3, "kOhm", Judge.PASS)
    assert (v.original_value, v.original_unit) == (None, None)


def test_only_numbers_with_a_spec_unit_are_converted() -> None:
    text = judged(spec(DataType.TEXT, limits=SpecLimits(None, None, "kOhm")), "open", None, "Ohm")
    assert (text.value.text, text.unit, text.original_unit) == ("open", "Ohm", None)
    free = judged(spec(DataType.NUMBER), 28300, None, "Ohm")
    assert (free.value.number, free.unit, free.original_unit) == (28300.0, "Ohm", None)


@pytest.mark.parametrize(
    ("unit", "why"), [("mV", "different things"), ("furlong", "unknown unit 'furlong'")]
)
def test_a_unit_that_cannot_be_converted_is_data_value_invalid_naming_both(
    unit: str, why: str
) -> None:
    with pytest.raises(DomainError) as caught:
        judged(IN_KOHM, 5.0, None, unit, units_of_measure=FakeUnitsOfMeasure())
    err = caught.value
    assert err.code is ErrorCode.DATA_VALUE_INVALID
    assert unit in err.message and "kOhm" in err.message and why in err.message
    assert err.details == {
        "specName": "R21",
        "dataType": "NUMBER",
        "value": "5.0",
        "unit": unit,
        "specUnit": "kOhm",
    }


def test_alarms_are_checked_in_the_specs_unit() -> None:
    guarded = spec(
        DataType.NUMBER,
        limits=SpecLimits(None, None, "V"),
        alarm=SpecAlarm(AlarmAction.HOLD, None, 5.0),
    )
    assert not judged(guarded, 4900, None, "mV", units_of_measure=FakeUnitsOfMeasure()).alarmed
    assert judged(guarded, 5100, None, "mV", units_of_measure=FakeUnitsOfMeasure()).alarmed


def step_with(*specs: StepDataSpec) -> RouteStep:
    return RouteStep(10, "OP", "Op", StationType.AUTO, data_specs=specs)


def test_read_measurements_maps_lists_unmapped_and_key_failures() -> None:
    step = step_with(
        spec(DataType.NUMBER, name="R1", item_type=SpecItemType.KEY, limits=SpecLimits(1.0, 2.0)),
        spec(DataType.TEXT, name="Note", method=CollectionMethod.MANUAL),
        spec(DataType.NUMBER, name="Peak", trigger_type=TriggerType.EACH_CARRIER),
    )
    data = read_measurements(
        step,
        [
            Measurement("r_1", 3.0),
            Measurement("R1", 1.5),
            Measurement("temp", 5),
            Measurement("Peak", 240),
        ],
        {"r_1": "R1"},
        carrier_level=False,
        units_of_measure=FakeUnitsOfMeasure(),
    )
    # a repeated name stores every value; a name without a spec is kept (unmappedNames: STORE)
    assert [v.spec.name for v in data.values] == ["R1", "R1", "temp"]
    assert (data.values[2].spec.data_type, data.values[2].judge) == (DataType.NUMBER, Judge.NA)
    assert data.unmapped == ("temp", "Peak")  # carrier specs are not the unit's
    assert data.key_failures == ("R1",)
    with pytest.raises(DomainError) as caught:
        read_measurements(
            step,
            [Measurement("Note", "x")],
            {},
            carrier_level=False,
            units_of_measure=FakeUnitsOfMeasure(),
        )
    assert caught.value.code is ErrorCode.DATA_SPEC_METHOD_MISMATCH


def test_missing_required_by_method_and_level() -> None:
    step = step_with(
        spec(DataType.NUMBER, name="A", is_required=True),
        spec(DataType.NUMBER, name="M", is_required=True, method=CollectionMethod.MANUAL),
        spec(DataType.NUMBER, name="C", is_required=True, trigger_type=TriggerType.EACH_CARRIER),
    )
    assert missing_required(step, [], method=CollectionMethod.AUTO, carrier_level=False) == ["A"]
    assert missing_required(step, ["A"], method=CollectionMethod.AUTO, carrier_level=False) == []
    assert missing_required(step, [], method=CollectionMethod.MANUAL, carrier_level=False) == ["M"]
    assert missing_required(step, [], method=CollectionMethod.AUTO, carrier_level=True) == ["C"]
