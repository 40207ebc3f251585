"""Units of measure with pint (the port: domain/ports/units_of_measure.py): pint's definitions
(SI prefixes, offsets for temperatures, percent) plus the spellings of IPC-CFX messages and
shop floors."""

from __future__ import annotations

from functools import cache

import pint

from domain.ports.units_of_measure import UnitMismatch

#: names pint does not know as machines write them; as aliases they take prefixes (kOhm, mOhm)
_ALIASES = (
    "@alias ohm = Ohm",
    "@alias degree_Celsius = Celsius = celsius",
    "@alias degree_Fahrenheit = Fahrenheit = fahrenheit",
)
#: whole spellings that mean something else on a shop floor than in SI: a "C" next to an oven
#: is a temperature, not a coulomb; a "mil" on a board is a thousandth of an inch, not an angle.
#: ("F" stays the farad: testers measure capacitance.)
_SPELLINGS = {"C": "degC", "mil": "thou", "mils": "thou"}


@cache
def _registry() -> pint.UnitRegistry[float]:
    # built once per process (a quarter of a second: pint reads its definition files)
    registry: pint.UnitRegistry[float] = pint.UnitRegistry(cache_folder=None)
    for alias in _ALIASES:
        registry.define(alias)
    return registry


class PintUnitsOfMeasure:
    """Converts numbers between units by pint's definitions."""

    def __init__(self) -> None:
        self._registry = _registry()

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        source, target = self._unit(from_unit), self._unit(to_unit)
        if source is None or target is None:
            unknown = from_unit if source is None else to_unit
            raise UnitMismatch(from_unit, to_unit, f"unknown unit {unknown!r}")
        try:
            return float(self._registry.convert(value, source, target))
        except pint.DimensionalityError:
            raise UnitMismatch(from_unit, to_unit, "they measure different things") from None
        except (ArithmeticError, pint.PintError) as err:
            raise UnitMismatch(from_unit, to_unit, str(err) or type(err).__name__) from None

    def _unit(self, name: str) -> pint.Unit | None:
        spelled = _SPELLINGS.get(name.strip(), name.strip())
        if not spelled:
            return None
        try:
            return self._registry.parse_units(spelled)
        # a unit is whatever a machine sent: pint's parser fails on odd text in many ways
        # (undefined names, syntax, a stray operator), each meaning "not a unit we know"
        except Exception:
            return None
