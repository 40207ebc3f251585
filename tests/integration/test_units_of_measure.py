"""The pint adapter of the units-of-measure port: the names IPC-CFX messages and shop floors
write, and refusals for what cannot be converted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.units_of_measure import PintUnitsOfMeasure
from domain.enums import CollectionMethod, DataType, Judge, SpecItemType, TriggerType
from domain.ingest.data import judged
from domain.master import SpecLimits
from domain.ports import UnitMismatch
from domain.routes import StepDataSpec

UNITS = PintUnitsOfMeasure()


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [
        (28300.0, "Ohm", "kOhm", 28.3),
        (28.3, "kOhm", "Ohm", 28300.0),
        (2.5, "MOhm", "kOhm", 2500.0),
        (150.0, "mOhm", "Ohm", 0.15),
        (1500.0, "mV", "V", 1.5),
        (3.3, "V", "mV", 3300.0),
        (245.0, "Celsius", "degC", 245.0),
        (245.0, "°C", "Celsius", 245.0),
        (20.0, "C", "degC", 20.0),  # next to an oven, C is a temperature
        (25.0, "Celsius", "degF", 77.0),
        (0.0, "degC", "K", 273.15),
        (1.5, "mm", "um", 1500.0),
        (120.0, "µm", "mm", 0.12),
        (120.0, "μm", "mm", 0.12),  # the Greek mu as well as the micro sign
        (4.0, "mil", "um", 101.6),  # a board's mil: a thousandth of an inch
        (85.0, "%", "dimensionless", 0.85),
        (1.2, "s", "ms", 1200.0),
        (350.0, "ms", "s", 0.35),
        (100.0, "nF", "uF", 0.1),
        (3.0, "Ohm", "Ω", 3.0),
    ],
)
def test_converts_the_names_machines_send(
    value: float, from_unit: str, to_unit: str, expected: float
) -> None:
    assert UNITS.convert(value, from_unit, to_unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("from_unit", "to_unit", "why"),
    [
        ("mV", "mm", "they measure different things"),
        ("Ohm", "Celsius", "they measure different things"),
        ("%", "mm", "they measure different things"),
        ("bogons", "V", "unknown unit 'bogons'"),
        ("V", "volts per bogon", "unknown unit 'volts per bogon'"),
        ("mm*", "mm", "unknown unit 'mm*'"),
        ("  ", "mm", "unknown unit '  '"),
    ],
)
def test_refuses_unknown_and_incompatible_units_naming_both(
    from_unit: str, to_unit: str, why: str
) -> None:
    with pytest.raises(UnitMismatch) as caught:
        UNITS.convert(1.0, from_unit, to_unit)
    assert (caught.value.from_unit, caught.value.to_unit, caught.value.why) == (
        from_unit,
        to_unit,
        why,
    )


def test_a_value_exactly_on_a_limit_stays_inside_after_conversion() -> None:
    # 28400 * 0.001 is 28.400000000000002 in floating point: the domain rounds that noise away
    assert UNITS.convert(28400.0, "Ohm", "kOhm") != 28.4
    spec = StepDataSpec(
        name="R21",
        data_type=DataType.NUMBER,
        method=CollectionMethod.AUTO,
        item_type=SpecItemType.OBSERVATION,
        trigger_type=TriggerType.EVENT,
        is_required=False,
        limits=SpecLimits(28.0, 28.4, "kOhm"),
    )
    for raw in (28000.0, 28400.0):
        v = judged(spec, raw, None, "Ohm", units_of_measure=UNITS)
        assert (v.value.number, v.judge) == (raw / 1000, Judge.PASS)
    hot = StepDataSpec(
        name="Peak",
        data_type=DataType.NUMBER,
        method=CollectionMethod.AUTO,
        item_type=SpecItemType.OBSERVATION,
        trigger_type=TriggerType.EVENT,
        is_required=False,
        limits=SpecLimits(None, 77.0, "degF"),
    )
    # 25 °C is 76.99999999999993 °F by pint's arithmetic
    assert judged(hot, 25.0, None, "Celsius", units_of_measure=UNITS).value.number == 77.0


KINDS = (
    ("Ohm", "kOhm", "mOhm", "MOhm", "Ω"),
    ("V", "mV", "uV", "kV"),
    ("Celsius", "degC", "C", "K", "degF", "Fahrenheit"),
    ("mm", "um", "µm", "mil", "in", "m"),
    ("s", "ms", "us", "min"),
    ("%", "dimensionless", "ppm"),
)


@given(
    st.sampled_from(KINDS).flatmap(
        lambda kind: st.tuples(st.sampled_from(kind), st.sampled_from(kind))
    ),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
)
def test_a_conversion_there_and_back_gives_the_number_sent(
    units: tuple[str, str], value: float
) -> None:
    there = UNITS.convert(value, *units)
    assert UNITS.convert(there, units[1], units[0]) == pytest.approx(value, rel=1e-9, abs=1e-6)
