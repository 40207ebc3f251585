"""A factory for ingest tests: route AOI (AUTO, 10) → ICT (TEST, 20) → PACK (MANUAL, 30).

The step after AUTO is TEST, so a second AUTO event for a unit that already moved on is a
STEP_MISMATCH (the concurrency tests rely on that)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain import master as dm
from domain.actors import Actor
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    IngestEventType,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.ingest.records import IngestEnvelope
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command, MessageBus
from tests.conftest import unique

ACTOR = Actor(name="test", request_id="test-ingest")
AT = "2026-03-02T08:15:03+01:00"

AOI_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.pcb.id",
    "stationCodePath": "payload.station",
    "result": {"path": "payload.judgement", "passValues": ["OK"], "failValues": ["NG"]},
    "measurements": {
        "itemsPath": "payload.features[*]",
        "namePath": "key",
        "valuePath": "val",
        "unitPath": "uom",
        "judgePath": "judge",
    },
    "dataSpecMap": {"void_pct": "VoidRatio", "img": "Snapshot", "op_note": "OperatorNote"},
}
#: AOI's mapping reading the program the machine ran (RECIPE_MISMATCH)
PROGRAMMED = {**AOI_MAPPING, "recipePath": "payload.program"}
#: AOI's mapping reading when the machine started and ended
TIMED = {**AOI_MAPPING, "startedAtPath": "payload.startedAt", "occurredAtPath": "payload.endedAt"}
ICT_MAPPING: dict[str, Any] = {
    "eventType": "TEST",
    "stationCodePath": "payload.Source",
    "testResultIdPath": "payload.MessageBody.TransactionId",
    "result": {"passValues": ["Passed"], "failValues": ["Failed"]},
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
}


@dataclass
class IngestFactory:
    bus: MessageBus
    tag: str = field(default_factory=lambda: unique("I"))
    run_no: str = ""
    sns: list[str] = field(default_factory=list)

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"

    async def do(self, cmd: Command) -> Any:
        return await self.bus.handle(cmd, ACTOR)

    async def build(
        self,
        units: int = 3,
        authorize: bool = True,
        aoi_hold: bool = False,
        ict_partial: bool = False,
        aoi_mapping: dict[str, Any] | None = None,
        aoi_recipe: str | None = None,
        r1_limits: dm.SpecLimits | None = None,
        aoi_required: bool = True,
    ) -> IngestFactory:
        c = self.code
        await self.do(md.UpsertLine(dm.Line(c("L"), "Line")))
        for group in ("AOI-G", "ICT-G", "PACK-G", "OTHER-G"):
            await self.do(md.UpsertStationGroup(dm.StationGroup(c(group), group)))
        stations = [
            ("AOI-1", StationType.AUTO, "AOI-G"),
            ("AOI-9", StationType.AUTO, "OTHER-G"),
            ("ICT-1", StationType.TEST, "ICT-G"),
            ("PACK-1", StationType.MANUAL, "PACK-G"),
        ]
        for code, stype, group in stations:
            await self.do(md.UpsertStation(dm.Station(c(code), code, stype, c("L"), c(group))))
        for op, stype in (
            ("AOI", StationType.AUTO),
            ("ICT", StationType.TEST),
            ("PACK", StationType.MANUAL),
        ):
            await self.do(md.UpsertOperation(dm.Operation(c(op), op, stype)))
        n, a, m = DataType.NUMBER, CollectionMethod.AUTO, CollectionMethod.MANUAL
        specs = [
            dm.DataCollectionSpec(
                c("AOI"),
                "VoidRatio",
                n,
                a,
                SpecItemType.KEY,
                is_required=aoi_required,
                limits=dm.SpecLimits(0.0, 25.0, "%"),
                alarm=dm.SpecAlarm(
                    AlarmAction.HOLD if aoi_hold else AlarmAction.ALARM_ONLY, None, 40.0
                ),
            ),
            dm.DataCollectionSpec(c("AOI"), "Snapshot", DataType.TEXT, a),
            dm.DataCollectionSpec(c("AOI"), "OperatorNote", DataType.TEXT, m),
            dm.DataCollectionSpec(
                c("ICT"),
                "R1",
                n,
                a,
                SpecItemType.KEY,
                TriggerType.EACH_UNIT,
                limits=r1_limits or dm.SpecLimits(950.0, 1050.0, "Ohm"),
            ),
            dm.DataCollectionSpec(
                c("ICT"),
                "VCC",
                n,
                a,
                SpecItemType.OBSERVATION,
                TriggerType.EACH_UNIT,
                is_required=True,
                limits=dm.SpecLimits(3.2, 3.4, "V"),
            ),
        ]
        for spec in specs:
            await self.do(md.UpsertDataSpec(spec))
        steps = (
            dm.RoutingStep(10, c("AOI")),
            dm.RoutingStep(20, c("ICT")),
            dm.RoutingStep(30, c("PACK")),
        )
        await self.do(md.UpsertRouting(dm.Routing(c("R"), "Route", steps=steps)))
        configs = [
            dm.ExecutionConfig(
                c("R"),
                step_no=10,
                station_group_code=c("AOI-G"),
                ingest_mapping=aoi_mapping or AOI_MAPPING,
                recipe=aoi_recipe,
            ),
            dm.ExecutionConfig(
                c("R"),
                step_no=20,
                station_group_code=c("ICT-G"),
                ingest_mapping=ICT_MAPPING | ({"batchPolicy": "PARTIAL"} if ict_partial else {}),
            ),
            dm.ExecutionConfig(c("R"), step_no=30, station_group_code=c("PACK-G")),
        ]
        for cfg in configs:
            await self.do(md.SetExecutionConfig(cfg))
        version = await self.do(md.CompileRouting(c("R")))
        assert version.is_ready, version.errors
        await self.do(prod.ReceiveWorkOrder(c("WO"), "P", units, c("R")))
        await self.do(prod.ReleaseWorkOrder(c("WO")))
        run = await self.do(prod.CreateRun(c("WO"), c("L"), units, run_no=c("RUN")))
        self.run_no = run.run_no
        if authorize:
            await self.do(prod.AuthorizeRun(run.run_no))
        registered = await self.do(prod.RegisterUnits(run.run_no, count=units, sn_prefix=c("SN-")))
        self.sns = [u.sn for u in registered]
        return self

    # ------------------------------------------------------------ events

    def aoi_payload(
        self,
        sn: str,
        judgement: str = "OK",
        void: Any = 12.5,
        station: str | None = None,
        extra: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        features: list[dict[str, Any]] = []
        if void is not None:
            features.append({"key": "void_pct", "val": void, "uom": "%"})
        features.append({"key": "img", "val": f"s3://aoi/{sn}.png"})
        features.append({"key": "lamp_hours", "val": 5120})
        return {
            "station": station or self.code("AOI-1"),
            "pcb": {"id": sn},
            "judgement": judgement,
            "features": features + (extra or []),
        }

    def aoi_input(self, sn: str, key: str | None = None, **kw: Any) -> dict[str, Any]:
        """An ingestEvent input (GraphQL variables shape)."""
        return {
            "sourceSystem": self.code("AOI-1"),
            "dedupeKey": key or unique("K"),
            "eventType": "AUTO",
            "occurredAt": AT,
            "payload": self.aoi_payload(sn, **kw),
        }

    def ict_payload(
        self,
        boards: list[tuple[str, str, float, float | None]],
        tx: str = "TX",
        r1_unit: str = "Ohm",
    ) -> dict[str, Any]:
        """(sn, OverallResult, R1, VCC or None) per board; R1 in `r1_unit`."""

        def measurements(r1: float, vcc: float | None) -> list[dict[str, Any]]:
            out = [
                {
                    "MeasurementName": "R1",
                    "Result": "Passed",
                    "MeasuredValue": {"Value": r1, "ValueUnits": r1_unit},
                }
            ]
            if vcc is not None:
                out.append(
                    {"MeasurementName": "VCC", "MeasuredValue": {"Value": vcc, "ValueUnits": "V"}}
                )
            return out

        return {
            "Source": self.code("ICT-1"),
            "MessageBody": {
                "TransactionId": tx,
                "TestedUnits": [
                    {
                        "UnitIdentifier": sn,
                        "OverallResult": result,
                        "Tests": [{"Measurements": measurements(r1, vcc)}],
                    }
                    for sn, result, r1, vcc in boards
                ],
            },
        }

    def ict_input(
        self,
        boards: list[tuple[str, str, float, float | None]],
        key: str | None = None,
        r1_unit: str = "Ohm",
    ) -> dict[str, Any]:
        key = key or unique("K")
        return {
            "sourceSystem": self.code("ICT-1"),
            "dedupeKey": key,
            "eventType": "TEST",
            "occurredAt": AT,
            "payload": self.ict_payload(boards, tx=key, r1_unit=r1_unit),
        }

    def envelope(self, data: dict[str, Any]) -> IngestEnvelope:
        """The same input as the use case sees it (for tests that bypass HTTP)."""
        return envelope(data)

    async def with_retest(self, max_attempts: int) -> None:
        """maxAttempts at the ICT step (step scope), recompiled, and a new run RUN2 of three
        units RT-… (run_no and sns then name them)."""
        c = self.code
        ict = dm.ExecutionConfig(
            c("R"),
            step_no=20,
            station_group_code=c("ICT-G"),
            ingest_mapping=ICT_MAPPING,
            max_attempts=max_attempts,
        )
        await self.do(md.SetExecutionConfig(ict))
        version = await self.do(md.CompileRouting(c("R")))
        assert version.is_ready and version.steps[1].max_attempts == max_attempts
        run = await self.do(prod.CreateRun(c("WO"), c("L"), 3, run_no=c("RUN2")))
        await self.do(prod.AuthorizeRun(run.run_no))
        self.run_no = run.run_no
        units = await self.do(prod.RegisterUnits(run.run_no, count=3, sn_prefix=c("RT-")))
        self.sns = [u.sn for u in units]


def envelope(data: dict[str, Any]) -> IngestEnvelope:
    """An ingestEvent input (GraphQL variables shape) as the use case sees it."""
    import json

    return IngestEnvelope(
        source_system=data["sourceSystem"],
        dedupe_key=data["dedupeKey"],
        event_type=IngestEventType(data["eventType"]),
        occurred_at=datetime.fromisoformat(data["occurredAt"]).astimezone(UTC),
        payload=data["payload"],
        run_no=data.get("runNo"),
        payload_bytes=len(json.dumps(data["payload"], default=str).encode()),
    )
