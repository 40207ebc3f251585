"""A route's infoMappings: mappings without result that read INFO events (arrivals,
departures, work started, materials installed). Each names the station and the units; the
first whose units path yields a unit reads the event."""

from __future__ import annotations

from typing import Any

from domain.mapping.normalize import IngestMapping
from domain.mapping.schema import mapping_problems

#: what says a result or measures something: an INFO event reports neither
RESULT_KEYS = ("result", "measurements", "testResultIdPath", "dataSpecMap", "oneOf")
UNIT_RESULT_KEYS = ("resultPath", "measurements")


def info_mapping_problems(mappings: tuple[dict[str, Any], ...]) -> list[str]:
    """Every reason the route's infoMappings are unusable, each naming the mapping's index."""
    problems: list[str] = []
    for n, mapping in enumerate(mappings):
        where = f"infoMappings.{n}"
        if not isinstance(mapping, dict):
            problems.append(f"{where} must be a JSON object")
            continue
        said = [k for k in RESULT_KEYS if k in mapping]
        units = mapping.get("units")
        if isinstance(units, dict):
            said += [f"units.{k}" for k in UNIT_RESULT_KEYS if k in units]
        if said:
            problems.append(
                f"{where}: an info mapping reports no result and no values "
                f"({', '.join(said)} not allowed)"
            )
            continue
        if not any(k in mapping for k in ("snPath", "snListPath", "units")):
            problems.append(f"{where}: needs a units path (snPath, snListPath or units)")
            continue
        problems += [f"{where}: {p}" for p in mapping_problems(mapping, None)]
    return problems


def parse_info_mappings(raw: tuple[dict[str, Any], ...]) -> tuple[IngestMapping, ...]:
    """Parse mappings compile validated; raises KeyError/TypeError/ValueError on others."""
    return tuple(IngestMapping.parse(m, n) for n, m in enumerate(raw))
