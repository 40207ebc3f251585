"""Compile-time validation of a step's ingestMapping: its JSON Schema and §3's required fields."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from domain.enums import StationType


@cache
def _validator() -> Draft202012Validator:
    text = resources.files("domain.mapping").joinpath("ingest-mapping.schema.json").read_text()
    return Draft202012Validator(json.loads(text))


def _where(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(mapping)"


def mapping_problems(mapping: Any, station_type: StationType) -> list[str]:
    """Every reason the mapping is unusable for a step of this type; [] when it is valid.

    Each message names the field, so an engineer can fix it without reading the schema.
    """
    if not isinstance(mapping, dict):
        return ["ingestMapping must be a JSON object"]
    problems = [
        f"{_where(err.absolute_path)}: {err.message}"
        for err in sorted(_validator().iter_errors(mapping), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        return problems
    units = mapping.get("units")
    result = mapping.get("result")
    if "stationCodePath" not in mapping:
        problems.append("stationCodePath is required")
    has_result_path = isinstance(result, dict) and "path" in result
    has_unit_result = isinstance(units, dict) and "resultPath" in units
    if not (has_result_path or has_unit_result):
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
    return problems
