"""The demo factory's master data: line SMT-1, its stations, operations, specs and mappings."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from domain import master as dm
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    SpecItemType,
    StationType,
    TriggerType,
)

CET = timezone(timedelta(hours=1))
LINE = "SMT-1"
ROUTING = "PCBA-100"
WO = "WO-1001"
RUN = "WO-1001-01"
UNITS = 10

GROUPS = {
    "PRINTERS": "Solder paste printers",
    "REFLOW-OVENS": "Reflow ovens",
    "AOI-MACHINES": "Optical inspection",
    "ICT-TESTERS": "In-circuit testers",
    "PACKING": "Packing benches",
}
STATIONS = [
    ("PRN-01", "Printer 1", StationType.MANUAL, "PRINTERS"),
    ("RFL-01", "Reflow oven 1", StationType.BATCH, "REFLOW-OVENS"),
    ("AOI-01", "AOI 1", StationType.AUTO, "AOI-MACHINES"),
    ("AOI-02", "AOI 2", StationType.AUTO, "AOI-MACHINES"),
    ("ICT-01", "ICT tester 1", StationType.TEST, "ICT-TESTERS"),
    ("PACK-01", "Packing bench 1", StationType.MANUAL, "PACKING"),
]
OPERATIONS = [
    ("PRINT", "Solder paste printing", StationType.MANUAL),
    ("REFLOW", "Reflow soldering", StationType.BATCH),
    ("AOI", "Automated optical inspection", StationType.AUTO),
    ("ICT", "In-circuit test", StationType.TEST),
    ("PACK", "Packing", StationType.MANUAL),
]
N, T = DataType.NUMBER, DataType.TEXT
A, M = CollectionMethod.AUTO, CollectionMethod.MANUAL
SPECS = [
    # operation, name, type, method, item type, trigger, required, limits, alarm
    (
        "PRINT",
        "SqueegeePressure",
        N,
        M,
        SpecItemType.OBSERVATION,
        TriggerType.EVENT,
        True,
        dm.SpecLimits(4.0, 8.0, "kg"),
        None,
    ),
    (
        "REFLOW",
        "PeakTemp",
        N,
        A,
        SpecItemType.KEY,
        TriggerType.EACH_CARRIER,
        False,
        dm.SpecLimits(235.0, 250.0, "C"),
        dm.SpecAlarm(AlarmAction.HOLD, 230.0, 255.0),
    ),
    (
        "REFLOW",
        "ConveyorSpeed",
        N,
        A,
        SpecItemType.OBSERVATION,
        TriggerType.EACH_CARRIER,
        False,
        dm.SpecLimits(None, None, "cm/min"),
        None,
    ),
    (
        "AOI",
        "VoidRatio",
        N,
        A,
        SpecItemType.KEY,
        TriggerType.EVENT,
        True,
        dm.SpecLimits(0.0, 25.0, "%"),
        None,
    ),
    ("AOI", "Snapshot", T, A, SpecItemType.OBSERVATION, TriggerType.EVENT, False, None, None),
    (
        "ICT",
        "R1",
        N,
        A,
        SpecItemType.KEY,
        TriggerType.EACH_UNIT,
        False,
        dm.SpecLimits(950.0, 1050.0, "Ohm"),
        None,
    ),
    (
        "ICT",
        "C5",
        N,
        A,
        SpecItemType.OBSERVATION,
        TriggerType.EACH_UNIT,
        False,
        dm.SpecLimits(90.0, 110.0, "nF"),
        None,
    ),
    (
        "ICT",
        "VCC",
        N,
        A,
        SpecItemType.KEY,
        TriggerType.EACH_UNIT,
        True,
        dm.SpecLimits(3.2, 3.4, "V"),
        dm.SpecAlarm(AlarmAction.ALARM_ONLY, 3.0, 3.6),
    ),
]

REFLOW_MAPPING: dict[str, Any] = {
    "eventType": "BATCH",
    "stationCodePath": "payload.oven",
    "carrierCodePath": "payload.carrier",
    "snListPath": "payload.boards[*]",
    "result": {"path": "payload.status", "passValues": ["COMPLETE"], "failValues": ["ABORTED"]},
    "measurements": {
        "itemsPath": "payload.profile[*]",
        "namePath": "name",
        "valuePath": "value",
        "unitPath": "unit",
    },
    "dataSpecMap": {"peak_temp": "PeakTemp", "conveyor_speed": "ConveyorSpeed"},
}
AOI_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.pcb.id",
    "stationCodePath": "payload.station",
    "occurredAtPath": "payload.finishedAt",
    # the inspection program, when the machine names it (the step's recipe interlock)
    "recipePath": "payload.program",
    "result": {"path": "payload.judgement", "passValues": ["OK"], "failValues": ["NG"]},
    "measurements": {
        "itemsPath": "payload.features[*]",
        "namePath": "key",
        "valuePath": "val",
        "unitPath": "uom",
    },
    "dataSpecMap": {"void_pct": "VoidRatio", "img": "Snapshot"},
}
#: IPC-CFX CFX.Production.TestAndInspection.UnitsTested, one message for several boards
ICT_MAPPING: dict[str, Any] = {
    "eventType": "TEST",
    "stationCodePath": "payload.Source",
    "occurredAtPath": "payload.TimeStamp",
    "testResultIdPath": "payload.MessageBody.TransactionId",
    # IPC-CFX TestResult: Error and Aborted are the tester's own faults, not the board's (ERROR)
    "result": {
        "passValues": ["Passed"],
        "failValues": ["Failed"],
        "errorValues": ["Error", "Aborted"],
    },
    "units": {
        "itemsPath": "payload.MessageBody.TestedUnits[*]",
        "snPath": "UnitIdentifier",
        "resultPath": "OverallResult",
        "measurements": {
            "itemsPath": "Tests[*].Measurements[*]",
            "namePath": "MeasurementName",
            "valuePath": "MeasuredValue.Value",
            "unitPath": "MeasuredValue.ValueUnits",
            "judgePath": "Result",
        },
    },
    "dataSpecMap": {"R1_Resistance": "R1", "C5_Capacitance": "C5", "VCC_Rail": "VCC"},
}
STEP_CONFIGS = [
    (10, "PRINTERS", None),
    (20, "REFLOW-OVENS", REFLOW_MAPPING),
    (30, "AOI-MACHINES", AOI_MAPPING),
    (40, "ICT-TESTERS", ICT_MAPPING),
    (50, "PACKING", None),
]


TEST_ROUTING = "PCBA-200"
TEST_WO = "WO-2001"
TEST_RUN = "WO-2001-01"
TEST_UNITS = 6
