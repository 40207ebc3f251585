"""Real-looking machine messages for the demo: AOI results and IPC-CFX UnitsTested."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.enums import (
    IngestEventType,
)
from domain.ingest.records import IngestEnvelope
from graphql_api.demo.factory import CET


def aoi_event(board: int, judgement: str, void_pct: float) -> IngestEnvelope:
    """An AOI machine's result, shaped like the walkthrough in shared/examples."""
    sn = f"BRD200-{board:06d}"
    return IngestEnvelope(
        source_system="AOI-01",
        dedupe_key=f"AOI-01/2026-03-02/{board:06d}",
        event_type=IngestEventType.AUTO,
        occurred_at=datetime(2026, 3, 2, 8, 15 + board, 3, tzinfo=CET),
        payload={
            "station": "AOI-01",
            "finishedAt": f"2026-03-02T08:{15 + board:02d}:02.480+01:00",
            "pcb": {"id": sn},
            "judgement": judgement,
            "features": [
                {"key": "void_pct", "val": void_pct, "uom": "%"},
                {"key": "img", "val": f"s3://aoi/{board:06d}.png"},
                {"key": "lamp_hours", "val": 5120},
            ],
        },
    )


def ict_event(tx: str, boards: list[tuple[int, str, float, float]]) -> IngestEnvelope:
    """IPC-CFX CFX.Production.TestAndInspection.UnitsTested for several boards at once:
    (board, OverallResult, R1 in Ohm, VCC in V)."""

    def measured(name: str, value: float, unit: str, low: float, high: float) -> dict[str, Any]:
        return {
            "$type": "CFX.Structures.NumericMeasurement, CFX",
            "MeasurementName": name,
            "Result": "Passed" if low <= value <= high else "Failed",
            "MeasuredValue": {"Value": value, "ValueUnits": unit},
        }

    return IngestEnvelope(
        source_system="ICT-01",
        dedupe_key=tx,
        event_type=IngestEventType.TEST,
        occurred_at=datetime(2026, 3, 2, 9, 2, 0, tzinfo=CET),
        payload={
            "MessageName": "CFX.Production.TestAndInspection.UnitsTested",
            "Version": "2.1",
            "TimeStamp": "2026-03-02T09:02:00+01:00",
            "UniqueID": tx,
            "Source": "ICT-01",
            "MessageBody": {
                "TransactionId": tx,
                "TestMethod": "ICT",
                "TestedUnits": [
                    {
                        "UnitIdentifier": f"BRD200-{board:06d}",
                        "UnitPositionNumber": position,
                        "OverallResult": result,
                        "Tests": [
                            {
                                "TestName": "Passives",
                                "Result": result,
                                "Measurements": [
                                    measured("R1_Resistance", r1, "Ohm", 950, 1050),
                                    measured("C5_Capacitance", 100.2, "nF", 90, 110),
                                ],
                            },
                            {
                                "TestName": "Power",
                                "Result": result,
                                "Measurements": [measured("VCC_Rail", vcc, "V", 3.2, 3.4)],
                            },
                        ],
                    }
                    for position, (board, result, r1, vcc) in enumerate(boards, start=1)
                ],
            },
        },
    )
