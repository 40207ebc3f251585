"""The built-in mappings of a `{"format": "CFX"}` step, in the general mapping language, read
from the whole envelope (`payload.MessageBody`); the station is the envelope's `Source`
(sourceSystem), a station's CFX handle. The demo's hand-written mappings share the words."""

from __future__ import annotations

from typing import Any

BODY = "payload.MessageBody"
#: IPC-CFX TestResult / ProcessingResult words; Error and Aborted are the machine's own faults
RESULT: dict[str, Any] = {
    "passValues": ["Passed", "Succeeded"],
    "failValues": ["Failed"],
    "errorValues": ["Error", "Aborted"],
}
#: IPC-CFX WorkResult words (WorkCompleted): Skipped is an X-out (a panel's board X_OUT)
WORK_RESULT: dict[str, Any] = {
    "passValues": ["Completed"],
    "failValues": ["Failed"],
    "errorValues": ["Aborted"],
    "skipValues": ["Skipped"],
}
#: every number of a CFX SolderPasteMeasurement (full) or InspectionMeasurementLean (lean)
SPI_FIELDS = {
    "X": "X",
    "Y": "Y",
    "Z": "Height",
    "DX": "DX",
    "DY": "DY",
    "Vol": "Volume",
    "A": "Area",
    "EX": "ExpectedX",
    "EY": "ExpectedY",
    "EZ": "ExpectedHeight",
    "EVol": "ExpectedVolume",
}
#: every number of a CFX test condition (Temperature, Humidity…) of a test
CONDITION_FIELDS = {
    "MeanValue": "Mean",
    "MedianValue": "Median",
    "MaxValue": "Max",
    "MinValue": "Min",
}


def numeric(items: str, name: Any) -> dict[str, Any]:
    """A CFX NumericMeasurement with the limits the machine sent (in ExpectedValueUnits)."""
    return {
        "itemsPath": items,
        "namePath": name,
        "valuePath": "MeasuredValue.Value",
        "unitPath": "MeasuredValue.ValueUnits",
        "lowLimitPath": "MeasuredValue.MinimumAcceptableValue",
        "highLimitPath": "MeasuredValue.MaximumAcceptableValue",
        "expectedPath": "MeasuredValue.ExpectedValue",
        "limitUnitPath": "MeasuredValue.ExpectedValueUnits",
        "judgePath": "Result",
    }


def _found(items: str, parent: str, code: str) -> dict[str, Any]:
    """Symptoms and defects kept as TEXT values: `TEST.CODE` → the description."""
    return {"itemsPath": items, "namePath": [parent, code], "valuePath": "Description"}


def _units(items: str, result: str, measurements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "itemsPath": f"{BODY}.{items}",
        "snPath": "UnitIdentifier",
        "positionPath": "UnitPositionNumber",
        "resultPath": result,
        "measurements": measurements,
    }


#: the tracks' inAt: the start the key recorded (domain/cfx/pairing.py), when one has
STARTED_AT = "cfxStart.startedAt"


def _mapping(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "stationCodePath": "sourceSystem",
        "startedAtPath": STARTED_AT,
        "result": RESULT,
        **fields,
    }


def _work(event_type: str, items: str, extra: dict[str, Any]) -> dict[str, Any]:
    """WorkCompleted: the units at `items` (its own, or its start's), the work's result."""
    return _mapping(
        event_type,
        result={"path": f"{BODY}.Result", **WORK_RESULT},
        units={"itemsPath": items, "snPath": "UnitIdentifier", "positionPath": "PositionNumber"},
        **extra,
    )


#: UnitsTested: each test's measurements named `TEST.MEASUREMENT` (the test's name dropped
#: afterwards where no other test repeats the name: domain/cfx/meaning.py), its symptoms'
#: related measurements, its conditions (`TEST.$type.Mean`, the type shortened by meaning.py),
#: symptoms and defects
TESTED_MEASUREMENTS: list[dict[str, Any]] = [
    {
        **numeric("Tests[*].Measurements[*]", ["^.TestName", "MeasurementName"]),
        "nameFallbacks": ["MeasurementName", "^.TestName"],
    },
    {
        **numeric(
            "Tests[*].SymptomsFound[*].RelatedMeasurements[*]", ["^.^.TestName", "MeasurementName"]
        ),
        "nameFallbacks": ["MeasurementName"],
    },
    {
        "itemsPath": "Tests[*].TestConditions[*]",
        "namePath": ["^.TestName", "$type"],
        "fields": CONDITION_FIELDS,
    },
    _found("Tests[*].SymptomsFound[*]", "^.TestName", "SymptomCode"),
    _found("Tests[*].DefectsFound[*]", "^.TestName", "DefectCode"),
]
#: UnitsInspected: each inspection's result (by its name), its measurements (SPI deposits:
#: every number; the lean form names them by the inspection's RefNo and their Sequence) and
#: its defects
INSPECTED_MEASUREMENTS: list[dict[str, Any]] = [
    {"itemsPath": "Inspections[*]", "namePath": "InspectionName", "valuePath": "Result"},
    {
        "itemsPath": "Inspections[*].Measurements[*]",
        "namePath": "MeasurementName",
        "nameFallbacks": [["^.RefNo", "Sequence"]],
        "fields": SPI_FIELDS,
        "judgePath": "Result",
    },
    _found("Inspections[*].DefectsFound[*]", "^.InspectionName", "DefectCode"),
]
#: UnitsProcessed: each board's readings with the machine's limits
PROCESSED_MEASUREMENTS: list[dict[str, Any]] = [
    {
        "itemsPath": "UnitProcessData.Readings[*]",
        "namePath": "MeasurementName",
        "valuePath": "ActualValue",
        "lowLimitPath": "MinAcceptableValue",
        "highLimitPath": "MaxAcceptableValue",
        "expectedPath": "ExpectedValue",
        "judgePath": "Result",
    }
]


def builtin_mapping(event_type: str, data_spec_map: dict[str, str] | None = None) -> dict[str, Any]:
    """A `oneOf` reading UnitsTested, UnitsInspected (per board, then the whole panel),
    UnitsProcessed and WorkCompleted (the units they list, else their start's) for a step of
    that type; the step's own dataSpecMap applies to each."""
    extra: dict[str, Any] = {"dataSpecMap": data_spec_map} if data_spec_map else {}
    tested = f"{BODY}.TransactionId" if event_type == "TEST" else None
    return {
        "oneOf": [
            _mapping(
                event_type,
                operatorPath=f"{BODY}.Tester.OperatorIdentifier",
                units=_units("TestedUnits[*]", "OverallResult", TESTED_MEASUREMENTS),
                **({"testResultIdPath": tested} if tested else {}),
                **extra,
            ),
            _mapping(
                event_type,
                operatorPath=f"{BODY}.Inspector.OperatorIdentifier",
                units=_units("InspectedUnits[*]", "OverallResult", INSPECTED_MEASUREMENTS),
                **extra,
            ),
            _mapping(
                event_type,
                operatorPath=f"{BODY}.Inspector.OperatorIdentifier",
                snPath=f"{BODY}.InspectedPanel.UnitIdentifier",
                result={"path": f"{BODY}.InspectedPanel.OverallResult", **RESULT},
                measurements=[
                    {**m, "itemsPath": f"{BODY}.InspectedPanel.{m['itemsPath']}"}
                    for m in INSPECTED_MEASUREMENTS
                ],
                **extra,
            ),
            _mapping(
                event_type,
                units=_units("UnitProcessData[*]", "UnitResult", PROCESSED_MEASUREMENTS),
                **extra,
            ),
            _work(event_type, f"{BODY}.Units[*]", extra),
            _work(event_type, "cfxStart.units[*]", extra),
            # a UnitsProcessed that names no units (a reflow oven's): its start's, its result
            _mapping(
                event_type,
                units={
                    "itemsPath": "cfxStart.processedUnits[*]",
                    "snPath": "UnitIdentifier",
                    "positionPath": "PositionNumber",
                },
                result={"path": f"{BODY}.OverallResult", **RESULT},
                **extra,
            ),
        ]
    }


#: messages without a result (UnitsArrived, UnitsDeparted, WorkStarted, MaterialsInstalled, a
#: WorkCompleted after a result message, …): the units they name, for an INFO event
INFO_MAPPINGS: tuple[dict[str, Any], ...] = tuple(
    {
        "stationCodePath": "sourceSystem",
        "units": {
            "itemsPath": f"{BODY}.{items}",
            "snPath": "UnitIdentifier",
            "positionPath": position,
        },
    }
    for items, position in (
        ("Units[*]", "PositionNumber"),
        ("InstalledMaterials[*]", "UnitPositionNumber"),
        ("InspectedUnits[*]", "UnitPositionNumber"),
        ("TestedUnits[*]", "UnitPositionNumber"),
        ("UnitProcessData[*]", "UnitPositionNumber"),
    )
)
#: a WorkCompleted after its result message: the units that message wrote (built in only: a
#: route's own infoMappings cannot read the service's `cfxStart`)
WRITTEN_INFO_MAPPING: dict[str, Any] = {
    "stationCodePath": "sourceSystem",
    "units": {"itemsPath": "cfxStart.units[*]", "snPath": "UnitIdentifier"},
}
