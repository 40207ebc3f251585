"""The inputs of a small valid route (AOI → ICT → PACK) and its compiled version."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from domain import master as dm
from domain.compile import CompileInputs, compile_route
from domain.enums import CollectionMethod, DataType, StationType, TriggerType
from domain.routes import RouteVersion
from tests.ingest_builders import AOI_MAPPING, ICT_MAPPING

N, A, M = DataType.NUMBER, CollectionMethod.AUTO, CollectionMethod.MANUAL
AT = datetime(2026, 3, 2, tzinfo=UTC)


OPERATIONS = {
    "AOI": dm.Operation("AOI", "Inspect", StationType.AUTO),
    "ICT": dm.Operation("ICT", "Test", StationType.TEST),
    "REFLOW": dm.Operation("REFLOW", "Reflow", StationType.BATCH),
    "PACK": dm.Operation("PACK", "Pack", StationType.MANUAL),
}


SPECS = [
    dm.DataCollectionSpec("AOI", "VoidRatio", N, A, limits=dm.SpecLimits(0, 25, "%")),
    dm.DataCollectionSpec("AOI", "Snapshot", DataType.TEXT, A),
    dm.DataCollectionSpec("AOI", "OperatorNote", DataType.TEXT, M),
    dm.DataCollectionSpec("ICT", "R1", N, A, trigger_type=TriggerType.EACH_UNIT),
    dm.DataCollectionSpec("ICT", "VCC", N, A, trigger_type=TriggerType.EACH_UNIT),
    dm.DataCollectionSpec("REFLOW", "Peak", N, A, trigger_type=TriggerType.EACH_CARRIER),
    dm.DataCollectionSpec("PACK", "Weight", N, M),
]


def config(**kw: Any) -> dm.ExecutionConfig:
    return dm.ExecutionConfig("R", **kw)


GOOD_CONFIGS = [
    config(step_no=10, station_group_code="AOI-G", ingest_mapping=AOI_MAPPING),
    config(step_no=20, station_group_code="ICT-G", ingest_mapping=ICT_MAPPING),
    config(step_no=30, station_group_code="PACK-G"),
]


def with_step(step_no: int, **kw: Any) -> list[dm.ExecutionConfig]:
    """The good configs with one step's config changed."""
    return [replace(c, **kw) if c.step_no == step_no else c for c in GOOD_CONFIGS]


#: an oven's BATCH event: its station and carrier in the payload
REFLOW_MAPPING: dict[str, Any] = {
    "eventType": "BATCH",
    "stationCodePath": "payload.oven",
    "carrierCodePath": "payload.carrier",
    "result": {"path": "payload.status", "passValues": ["COMPLETE"], "failValues": ["ABORTED"]},
    "measurements": {"itemsPath": "payload.profile[*]", "namePath": "name", "valuePath": "value"},
}


def inputs(
    steps: tuple[tuple[int, str], ...] = ((10, "AOI"), (20, "ICT"), (30, "PACK")),
    configs: list[dm.ExecutionConfig] | None = None,
    specs: list[dm.DataCollectionSpec] | None = None,
) -> CompileInputs:
    return CompileInputs(
        routing=dm.Routing("R", "Route", steps=tuple(dm.RoutingStep(n, op) for n, op in steps)),
        configs=GOOD_CONFIGS if configs is None else configs,
        operations=OPERATIONS,
        specs=SPECS if specs is None else specs,
        station_codes=frozenset({"AOI-1", "ICT-1", "PACK-1"}),
        group_codes=frozenset({"AOI-G", "ICT-G", "PACK-G", "OVEN-G"}),
    )


def compiled(**kw: Any) -> RouteVersion:
    return compile_route(inputs(**kw), 1, AT)
