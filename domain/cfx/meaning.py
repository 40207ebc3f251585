"""The built-in meaning of a step whose ingest mapping is `{"format": "CFX"}` (issue 21): the
built-in mappings (domain/cfx/mappings.py), and the one rule the mapping language cannot say:
a UnitsTested measurement is named by its test only where the message repeats its name in
several tests of a unit (`HOT.ChamberTemp`, `COLD.ChamberTemp`), else by its own name; a test
condition is named by its test and the short name of its `$type` (`HOT_TEST.Temperature.Mean`
for `"$type": "CFX.Structures.Temperature, CFX"`)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from domain.cfx.mappings import BODY, INFO_MAPPINGS, WRITTEN_INFO_MAPPING, builtin_mapping
from domain.enums import StationType
from domain.mapping.alternatives import StepMapping
from domain.mapping.info import parse_info_mappings
from domain.mapping.normalize import IngestMapping
from domain.mapping.normalized import NormalizedPayload
from domain.mapping.paths import values_at

FORMAT = "format"
CFX = "CFX"


def is_cfx(mapping: Any) -> bool:
    return isinstance(mapping, dict) and mapping.get(FORMAT) == CFX


#: a CFX structure's `$type` inside a name: `CFX.Structures.Temperature, CFX`
_TYPE = re.compile(r"CFX\.Structures\.(?:[A-Za-z0-9_]+\.)*([A-Za-z0-9_]+), CFX")


def short_types(name: str) -> str:
    """`HOT_TEST.CFX.Structures.Temperature, CFX.Mean` → `HOT_TEST.Temperature.Mean`."""
    return _TYPE.sub(r"\1", name) if ", CFX" in name else name


def _names(test: Any, key: str) -> set[str]:
    found = {m.get("MeasurementName") for m in test.get(key) or () if isinstance(m, dict)}
    return {n for n in found if isinstance(n, str)}


def measurement_names(root: Any) -> dict[str, str]:
    """`TEST.NAME` → `NAME` for each measurement name the message does not repeat in several
    tests of a unit (a name repeated on one board stays prefixed on every board)."""
    pairs: list[tuple[str, str]] = []
    repeated: set[str] = set()
    for unit in values_at(f"{BODY}.TestedUnits[*]", root):
        tests = unit.get("Tests") if isinstance(unit, dict) else None
        seen: set[str] = set()
        for test in tests if isinstance(tests, list) else ():
            if not isinstance(test, dict):
                continue
            names = _names(test, "Measurements")
            for symptom in test.get("SymptomsFound") or ():
                if isinstance(symptom, dict):
                    names |= _names(symptom, "RelatedMeasurements")
            repeated |= names & seen
            seen |= names
            pairs += [(str(test.get("TestName")), name) for name in names]
    return {f"{test}.{name}": name for test, name in pairs if name not in repeated}


class CfxMapping(IngestMapping):
    """A built-in alternative: reads as the general language, then names measurements."""

    __slots__ = ()

    def normalize(self, root: Any, station_type: StationType) -> NormalizedPayload:
        normalized = super().normalize(root, station_type)
        renames = measurement_names(root)
        units = tuple(
            replace(
                u,
                measurements=tuple(
                    replace(m, name=short_types(renames.get(m.name, m.name)))
                    for m in u.measurements
                ),
            )
            for u in normalized.units
        )
        return replace(normalized, units=units)


def cfx_step_mapping(raw: dict[str, Any], station_type: StationType | None) -> StepMapping:
    """The step's built-in mapping (its dataSpecMap, if any, applies to the names above)."""
    event_type = station_type.value if station_type is not None else "AUTO"
    spec_map = raw.get("dataSpecMap") if isinstance(raw.get("dataSpecMap"), dict) else None
    built = builtin_mapping(event_type, spec_map)
    return StepMapping(tuple(CfxMapping.parse(alt, n) for n, alt in enumerate(built["oneOf"])))


def cfx_info_mappings() -> tuple[IngestMapping, ...]:
    return parse_info_mappings((*INFO_MAPPINGS, WRITTEN_INFO_MAPPING))
