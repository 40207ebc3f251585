"""Panels in tests: the AOI mapping for the IPC-CFX SDK's published UnitsInspected messages (per
board, or the whole panel), its skip-value variant, an ingest input for one, and a panel's
registration through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.builders import Factory
from tests.conftest import ApiClient, unique
from tests.ingest_builders import AT, IngestFactory
from tests.production_calls import ERROR, a_run, payload, released

RESULT = {"passValues": ["Passed"], "failValues": ["Failed"]}
#: an AOI per board (the panel's barcode and each board's position) or for the whole panel
AOI = {
    "oneOf": [
        {
            "eventType": "AUTO",
            "stationCodePath": "sourceSystem",
            "result": RESULT,
            "units": {
                "itemsPath": "payload.InspectedUnits[*]",
                "snPath": "UnitIdentifier",
                "positionPath": "UnitPositionNumber",
                "resultPath": "OverallResult",
                "measurements": {
                    "itemsPath": "Inspections[*]",
                    "namePath": "InspectionName",
                    "valuePath": "Result",
                },
            },
        },
        {
            "eventType": "AUTO",
            "stationCodePath": "sourceSystem",
            "snPath": "payload.InspectedPanel.UnitIdentifier",
            "result": {"path": "payload.InspectedPanel.OverallResult", **RESULT},
        },
    ]
}

SKIPS = ["Skipped", "XOut"]
SKIP_RESULT: dict[str, Any] = {**RESULT, "skipValues": SKIPS}
OPERATOR = {"operatorPath": "payload.Inspector.OperatorIdentifier"}
#: the AOI above (per board, or the whole panel) with skipValues, reading the inspector
ALTERNATIVES: list[dict[str, Any]] = AOI["oneOf"]
SKIP_AOI: dict[str, Any] = {
    "oneOf": [{**m, **OPERATOR, "result": {**m["result"], **SKIP_RESULT}} for m in ALTERNATIVES]
}


def panel_input(f: IngestFactory, payload: dict[str, Any]) -> dict[str, Any]:
    """An AUTO ingest input from the factory's AOI station with `payload` (a CFX MessageBody)."""
    return {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": unique("K"),
        "eventType": "AUTO",
        "occurredAt": AT,
        "payload": payload,
    }


REGISTER = f"""mutation($i: RegisterUnitsInput!) {{ registerUnits(input: $i) {{
  units {{ sn panelSn position status }} {ERROR} }} }}"""


async def released_run(api: ApiClient, f: Factory) -> str:
    """A run (named f.code("RUN")) of a released work order, through GraphQL."""
    await released(api, f)
    return await a_run(api, f, runNo=f.code("RUN"))


async def register(api: ApiClient, run_no: str, **kw: Any) -> dict[str, Any]:
    return await payload(api, REGISTER, "registerUnits", i={"runNo": run_no, **kw})
