"""Units of measure: a value sent in another unit than its spec's is converted before it is
judged (DOMAIN.md §3). The units' definitions live outside the domain (pint's, read by
adapters/units_of_measure.py); the domain only asks for a number in another unit."""

from __future__ import annotations

from typing import Protocol


class UnitMismatch(ValueError):
    """A number cannot go from one unit to the other: a unit is unknown, or they measure
    different things (mV and mm). The caller names the spec and the value."""

    def __init__(self, from_unit: str, to_unit: str, why: str):
        super().__init__(f"{from_unit} cannot be converted to {to_unit}: {why}")
        self.from_unit = from_unit
        self.to_unit = to_unit
        self.why = why


class UnitsOfMeasure(Protocol):
    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        """`value` in `from_unit` expressed in `to_unit` (28300 Ohm → 28.3 kOhm); raises
        UnitMismatch for an unknown unit or units of different kinds."""
        ...
