"""The demo's mappings for the IPC-CFX SDK's published example messages (tests/fixtures/cfx):
the machine sends the message's `MessageBody` as the ingest `payload` and its CFX handle
(`Source`) as `sourceSystem`, which is the station's code here."""

from __future__ import annotations

from typing import Any

from domain.cfx.mappings import (
    CONDITION_FIELDS,
    PROCESSED_MEASUREMENTS,
    RESULT,
    SPI_FIELDS,
    WORK_RESULT,
    numeric,
)
from domain.cfx.mappings import INFO_MAPPINGS as ENVELOPE_INFO_MAPPINGS

#: UnitsInspected from an SPI, full and lean form: each deposit's numbers; the lean form has no
#: MeasurementName, its inspection's RefNo and the deposit's Sequence name it
SPI_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "stationCodePath": "sourceSystem",
    "operatorPath": "payload.Inspector.OperatorIdentifier",
    "result": RESULT,
    "units": {
        "itemsPath": "payload.InspectedUnits[*]",
        "snPath": "UnitIdentifier",
        "positionPath": "UnitPositionNumber",
        "resultPath": "OverallResult",
        "measurements": {
            "itemsPath": "Inspections[*].Measurements[*]",
            "namePath": "MeasurementName",
            "nameFallbacks": [["^.RefNo", "Sequence"]],
            "fields": SPI_FIELDS,
            "judgePath": "Result",
        },
    },
}


def _inspections(items: str) -> dict[str, Any]:
    return {"itemsPath": items, "namePath": "InspectionName", "valuePath": "Result"}


#: UnitsInspected from an AOI: per board (InspectedUnits) or one verdict on the whole panel
#: (InspectedPanel); each inspection's result is kept as a value
AOI_MAPPING: dict[str, Any] = {
    "oneOf": [
        {
            "eventType": "AUTO",
            "stationCodePath": "sourceSystem",
            "operatorPath": "payload.Inspector.OperatorIdentifier",
            "result": RESULT,
            "units": {
                "itemsPath": "payload.InspectedUnits[*]",
                "snPath": "UnitIdentifier",
                "positionPath": "UnitPositionNumber",
                "resultPath": "OverallResult",
                "measurements": _inspections("Inspections[*]"),
            },
        },
        {
            "eventType": "AUTO",
            "stationCodePath": "sourceSystem",
            "operatorPath": "payload.Inspector.OperatorIdentifier",
            "snPath": "payload.InspectedPanel.UnitIdentifier",
            "result": {"path": "payload.InspectedPanel.OverallResult", **RESULT},
            "measurements": _inspections("payload.InspectedPanel.Inspections[*]"),
        },
    ]
}


def _numeric(items: str) -> dict[str, Any]:
    return numeric(items, "MeasurementName")


def _tested(measurements: Any, **extra: Any) -> dict[str, Any]:
    """A UnitsTested mapping: the tester's operator, the transaction as the result's id, each
    board with its OverallResult and these measurements."""
    return {
        "eventType": "TEST",
        "stationCodePath": "sourceSystem",
        "testResultIdPath": "payload.TransactionId",
        "operatorPath": "payload.Tester.OperatorIdentifier",
        "result": RESULT,
        "units": {
            "itemsPath": "payload.TestedUnits[*]",
            "snPath": "UnitIdentifier",
            "positionPath": "UnitPositionNumber",
            "resultPath": "OverallResult",
            "measurements": measurements,
        },
        **extra,
    }


#: UnitsTested from an ICT: each test's measurements, and those a failed test's symptoms relate
ICT_MAPPING: dict[str, Any] = _tested(
    [
        _numeric("Tests[*].Measurements[*]"),
        _numeric("Tests[*].SymptomsFound[*].RelatedMeasurements[*]"),
    ],
    dataSpecMap={"RESISTANCE_MEASUREMENT_R21": "R21", "RESISTANCE_MEASUREMENT_R22": "R22"},
)
#: UnitsTested from a burn-in chamber: each test's conditions (temperature, humidity), named by
#: the test and the condition's CFX type
BURN_IN_MAPPING: dict[str, Any] = _tested(
    {
        "itemsPath": "Tests[*].TestConditions[*]",
        "namePath": ["^.TestName", "$type"],
        "fields": CONDITION_FIELDS,
    }
)
#: UnitsProcessed from a conformal coater: each board's readings with the coater's limits
COATING_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "stationCodePath": "sourceSystem",
    "result": RESULT,
    "units": {
        "itemsPath": "payload.UnitProcessData[*]",
        "snPath": "UnitIdentifier",
        "positionPath": "UnitPositionNumber",
        "resultPath": "UnitResult",
        # the built-in reading of a UnitsProcessed's readings (domain/cfx/mappings.py)
        "measurements": PROCESSED_MEASUREMENTS[0],
    },
}
#: WorkCompleted from a placer, its body as payload: the units it lists with the work's result
#: (`{"format": "CFX"}` steps also pair it with its WorkStarted: domain/cfx/pairing.py)
PLACER_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "stationCodePath": "sourceSystem",
    "result": {"path": "payload.Result", **WORK_RESULT},
    "units": {
        "itemsPath": "payload.Units[*]",
        "snPath": "UnitIdentifier",
        "positionPath": "PositionNumber",
    },
}
#: messages without a result, as INFO events: UnitsArrived, UnitsDeparted, WorkStarted (Units)
#: and MaterialsInstalled (InstalledMaterials); then the same in whole envelopes (`POST /cfx`)
INFO_MAPPINGS: tuple[dict[str, Any], ...] = (
    {
        "stationCodePath": "sourceSystem",
        "units": {
            "itemsPath": "payload.Units[*]",
            "snPath": "UnitIdentifier",
            "positionPath": "PositionNumber",
        },
    },
    {
        "stationCodePath": "sourceSystem",
        "units": {
            "itemsPath": "payload.InstalledMaterials[*]",
            "snPath": "UnitIdentifier",
            "positionPath": "UnitPositionNumber",
        },
    },
    *ENVELOPE_INFO_MAPPINGS,
)
