"""Compile-time validation of a step's ingestMapping: its JSON Schema and §3's required fields."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from domain.enums import StationType
from domain.mapping.alternatives import ONE_OF
from domain.mapping.measurements import climb_problems
from domain.mapping.paths import parse_path


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("domain.mapping").joinpath("ingest-mapping.schema.json").read_text()
    return Draft202012Validator(json.loads(text))


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(mapping)"


def _explained(err: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong. An `anyOf` (a keyword the project widened, or
    valuePath-or-fields) says only "not valid under any"; the alternative of the value's JSON
    type says more, and the project's alternatives come after the contract's, so the last one
    that fits is the one an engineer meant."""
    if err.validator != "anyOf" or not err.context:
        return [err]
    if all(sub.validator == "required" for sub in err.context):
        names = [
            repr(name)
            for sub in err.context
            if isinstance(sub.validator_value, list)
            for name in sub.validator_value
        ]
        err.message = f"{' or '.join(names)} is required"
        return [err]
    groups: dict[Any, list[ValidationError]] = {}
    for sub in err.context:
        groups.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        subs
        for subs in groups.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in subs)
    ]
    if not fitting:
        return [err]
    return [explained for sub in fitting[-1] for explained in _explained(sub)]


def _climbs(specs: Any, where: str) -> list[str]:
    if isinstance(specs, dict):
        return climb_problems(specs, where)
    if isinstance(specs, list):
        return [p for n, spec in enumerate(specs) for p in climb_problems(spec, f"{where}.{n}")]
    return []


def mapping_problems(mapping: Any, station_type: StationType | None) -> list[str]:
    """Every reason the mapping is unusable for a step of this type (None: a route's info
    mapping, which needs no result); [] when it is valid.

    Each message names the field (in a `oneOf`, the alternative's index first), so an engineer
    can fix it without reading the schema.
    """
    if not isinstance(mapping, dict):
        return ["ingestMapping must be a JSON object"]
    errors = [e for err in _validator().iter_errors(mapping) for e in _explained(err)]
    problems = [
        f"{_where(err.absolute_path)}: {err.message}"
        for err in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    ]
    if problems:
        return problems
    if FORMAT in mapping:
        return _format_problems(mapping, station_type)
    if ONE_OF in mapping:
        return _one_of_problems(mapping, station_type)
    return _fields_problems(mapping, station_type)


#: a built-in format instead of paths (issue 21); only a dataSpecMap may go with it
FORMAT = "format"
FORMAT_TYPES = (StationType.AUTO, StationType.TEST)


def _format_problems(mapping: dict[str, Any], station_type: StationType | None) -> list[str]:
    problems: list[str] = []
    others = sorted(k for k in mapping if k not in (FORMAT, "dataSpecMap"))
    if others:
        problems.append(
            f"{FORMAT}: a mapping with format has no other keys but dataSpecMap "
            f"({', '.join(others)})"
        )
    if station_type not in FORMAT_TYPES:
        where = "an infoMapping" if station_type is None else f"a {station_type.value} step"
        problems.append(
            f"{FORMAT}: {mapping[FORMAT]} reads AUTO and TEST steps' messages, not {where}"
        )
    return problems


def _one_of_problems(mapping: dict[str, Any], station_type: StationType | None) -> list[str]:
    """Each alternative is a whole mapping (the schema checked their shapes): alone, so the
    trace's mappingAlternative says all that read the event, and not nested."""
    problems: list[str] = []
    others = sorted(k for k in mapping if k != ONE_OF)
    if others:
        problems.append(f"{ONE_OF}: a mapping with oneOf has no other keys ({', '.join(others)})")
    for n, alternative in enumerate(mapping[ONE_OF]):
        if ONE_OF in alternative:
            problems.append(f"{ONE_OF}.{n}: alternatives do not nest")
            continue
        if FORMAT in alternative:
            problems.append(f"{ONE_OF}.{n}: {FORMAT} is for a whole mapping, not an alternative")
            continue
        problems += [f"{ONE_OF}.{n}: {p}" for p in _fields_problems(alternative, station_type)]
    return problems


def alternatives_of(mapping: dict[str, Any]) -> list[Any]:
    """The mappings a step's ingestMapping holds: its oneOf's alternatives, or itself."""
    found = mapping.get(ONE_OF)
    return found if isinstance(found, list) else [mapping]


def _fields_problems(mapping: dict[str, Any], station_type: StationType | None) -> list[str]:
    """§3's required fields and the checks the schema cannot say, for one mapping."""
    problems: list[str] = []
    units = mapping.get("units")
    result = mapping.get("result")
    problems += _climbs(mapping.get("measurements"), "measurements")
    if isinstance(units, dict):
        problems += _climbs(units.get("measurements"), "units.measurements")
        problems += [
            f"units.{key}: ^. climbs only in the paths inside a measurement item"
            for key in ("snPath", "resultPath", "operatorPath", "positionPath")
            if key in units and parse_path(units[key]).up
        ]
    if "stationCodePath" not in mapping:
        problems.append("stationCodePath is required")
    has_result_path = isinstance(result, dict) and "path" in result
    has_unit_result = isinstance(units, dict) and "resultPath" in units
    if station_type is not None and not (has_result_path or has_unit_result):
        problems.append("a result is required: result.path, or units.resultPath")
    if (
        station_type in (StationType.AUTO, StationType.TEST)
        and "snPath" not in mapping
        and not units
    ):
        problems.append(f"{station_type.value} needs a unit: snPath, or units with its snPath")
    if station_type is StationType.TEST and "testResultIdPath" not in mapping:
        problems.append("TEST needs testResultIdPath")
    if station_type is StationType.BATCH and "carrierCodePath" not in mapping:
        problems.append("BATCH needs carrierCodePath")
    if isinstance(result, dict):
        problems += _skip_problems(result, station_type, has_units=isinstance(units, dict))
    return problems


#: the result lists a skip value must not be in (words compare case-insensitively)
VERDICT_LISTS = ("passValues", "failValues", "errorValues")


def _skip_problems(
    result: dict[str, Any], station_type: StationType | None, *, has_units: bool
) -> list[str]:
    """`result.skipValues` (issue 19): no word in it is also a pass, fail or error value, and a
    BATCH mapping without `units` has none (its one result is the carrier's: a carrier is not
    skipped, its boards are)."""
    skips = result.get("skipValues")
    if not skips:
        return []
    problems: list[str] = []
    if station_type is StationType.BATCH and not has_units:
        problems.append(
            "result.skipValues: a BATCH mapping without units reads the carrier's result; "
            "skipValues mark boards (read them per board with units)"
        )
    words = {w.strip().upper(): w for w in skips}
    for key in VERDICT_LISTS:
        said = (w.strip().upper() for w in result.get(key) or ())
        both = [words[w] for w in said if w in words]
        problems += [f"result.skipValues: {w!r} is also in result.{key}" for w in both]
    return problems
