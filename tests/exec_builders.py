"""A factory for manual, BATCH and device-data tests:
PRINT (MANUAL, 10) → REFLOW (BATCH, 20) → AOI (AUTO, 30) → PACK (MANUAL, 40);
`wash_factory` adds a carrier-only WASH (BATCH, 25)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain import master as dm
from domain.actors import Actor
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    LateKeyFailAction,
    SpecItemType,
    StationType,
    TriggerType,
)
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command, MessageBus
from tests.conftest import unique

ACTOR = Actor(name="test", request_id="test-exec")
AT = "2026-03-02T09:00:00+01:00"


def reflow_mapping(partial: bool) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "eventType": "BATCH",
        "stationCodePath": "payload.oven",
        "carrierCodePath": "payload.carrier",
        # the oven's own start time, when it sends one (issue 16): the tracks' inAt
        "startedAtPath": "payload.startedAt",
        "result": {"path": "payload.status", "passValues": ["COMPLETE"], "failValues": ["ABORTED"]},
        "measurements": {
            "itemsPath": "payload.profile[*]",
            "namePath": "name",
            "valuePath": "value",
            "unitPath": "unit",
        },
    }
    if partial:
        mapping["batchPolicy"] = "PARTIAL"
        mapping["units"] = {
            "itemsPath": "payload.boards[*]",
            "snPath": "sn",
            "measurements": {"itemsPath": "readings[*]", "namePath": "name", "valuePath": "value"},
        }
    else:
        mapping["snListPath"] = "payload.boards[*]"
    return mapping


AOI_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.sn",
    "stationCodePath": "payload.station",
    "result": {"path": "payload.result"},
}


@dataclass
class ExecFactory:
    bus: MessageBus
    tag: str = field(default_factory=lambda: unique("X"))
    run_no: str = ""
    sns: list[str] = field(default_factory=list)

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"

    async def do(self, cmd: Command) -> Any:
        return await self.bus.handle(cmd, ACTOR)

    async def build(
        self,
        units: int = 3,
        partial: bool = False,
        on_late_key_fail: LateKeyFailAction | None = None,
    ) -> ExecFactory:
        c = self.code
        await self.do(md.UpsertLine(dm.Line(c("L"), "Line")))
        for group in ("PRN-G", "OVEN-G", "AOI-G", "PACK-G"):
            await self.do(md.UpsertStationGroup(dm.StationGroup(c(group), group)))
        for code, stype, group in (
            ("PRN-1", StationType.MANUAL, "PRN-G"),
            ("PRN-2", StationType.MANUAL, "PRN-G"),
            ("PACK-1", StationType.MANUAL, "PACK-G"),
            ("OVEN-1", StationType.BATCH, "OVEN-G"),
            ("AOI-1", StationType.AUTO, "AOI-G"),
        ):
            await self.do(md.UpsertStation(dm.Station(c(code), code, stype, c("L"), c(group))))
        for op, stype in (
            ("PRINT", StationType.MANUAL),
            ("REFLOW", StationType.BATCH),
            ("AOI", StationType.AUTO),
            ("PACK", StationType.MANUAL),
        ):
            await self.do(md.UpsertOperation(dm.Operation(c(op), op, stype)))
        n, a, m = DataType.NUMBER, CollectionMethod.AUTO, CollectionMethod.MANUAL
        specs = [
            dm.DataCollectionSpec(
                c("PRINT"),
                "Pressure",
                n,
                m,
                SpecItemType.KEY,
                is_required=True,
                limits=dm.SpecLimits(4.0, 8.0, "kg"),
                alarm=dm.SpecAlarm(AlarmAction.HOLD, 2.0, 10.0),
            ),
            dm.DataCollectionSpec(c("PRINT"), "Note", DataType.TEXT, m),
            dm.DataCollectionSpec(
                c("PRINT"), "StencilTemp", n, a, limits=dm.SpecLimits(None, None, "C")
            ),
            dm.DataCollectionSpec(
                c("REFLOW"),
                "PeakTemp",
                n,
                a,
                SpecItemType.KEY,
                TriggerType.EACH_CARRIER,
                is_required=True,
                limits=dm.SpecLimits(235.0, 250.0, "C"),
                alarm=dm.SpecAlarm(AlarmAction.HOLD, 230.0, 255.0),
            ),
            dm.DataCollectionSpec(
                c("REFLOW"), "OvenNote", DataType.TEXT, m, trigger_type=TriggerType.EACH_CARRIER
            ),
        ]
        if partial:
            specs.append(
                dm.DataCollectionSpec(
                    c("REFLOW"), "BoardTemp", n, a, trigger_type=TriggerType.EACH_UNIT
                )
            )
        for spec in specs:
            await self.do(md.UpsertDataSpec(spec))
        steps = tuple(
            dm.RoutingStep(no, c(op))
            for no, op in ((10, "PRINT"), (20, "REFLOW"), (30, "AOI"), (40, "PACK"))
        )
        await self.do(md.UpsertRouting(dm.Routing(c("R"), "Route", steps=steps)))
        if on_late_key_fail is not None:
            await self.do(
                md.SetExecutionConfig(dm.ExecutionConfig(c("R"), on_late_key_fail=on_late_key_fail))
            )
        for cfg in (
            dm.ExecutionConfig(c("R"), step_no=10, station_group_code=c("PRN-G")),
            dm.ExecutionConfig(
                c("R"),
                step_no=20,
                station_group_code=c("OVEN-G"),
                ingest_mapping=reflow_mapping(partial),
            ),
            dm.ExecutionConfig(
                c("R"), step_no=30, station_group_code=c("AOI-G"), ingest_mapping=AOI_MAPPING
            ),
            dm.ExecutionConfig(c("R"), step_no=40, station_group_code=c("PACK-G")),
        ):
            await self.do(md.SetExecutionConfig(cfg))
        version = await self.do(md.CompileRouting(c("R")))
        assert version.is_ready, version.errors
        await self.do(prod.ReceiveWorkOrder(c("WO"), "P", units, c("R")))
        await self.do(prod.ReleaseWorkOrder(c("WO")))
        run = await self.do(prod.CreateRun(c("WO"), c("L"), units, run_no=c("RUN")))
        self.run_no = run.run_no
        await self.do(prod.AuthorizeRun(run.run_no))
        registered = await self.do(prod.RegisterUnits(run.run_no, count=units, sn_prefix=c("SN-")))
        self.sns = [u.sn for u in registered]
        return self

    def reflow_input(
        self,
        sns: list[str] | None,
        carrier: str | None = None,
        peak: float | None = 242.0,
        status: str = "COMPLETE",
        boards: list[dict[str, Any]] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "oven": self.code("OVEN-1"),
            "carrier": carrier or self.code("TRAY-1"),
            "status": status,
            "profile": [] if peak is None else [{"name": "PeakTemp", "value": peak, "unit": "C"}],
        }
        if boards is not None:
            payload["boards"] = boards
        elif sns is not None:
            payload["boards"] = sns
        return {
            "sourceSystem": self.code("OVEN-1"),
            "dedupeKey": key or unique("B"),
            "eventType": "BATCH",
            "occurredAt": AT,
            "payload": payload,
        }


async def wash_factory(bus: MessageBus, units: int) -> ExecFactory:
    """ExecFactory's route with a carrier-only WASH step (BATCH, 25) after REFLOW, on a new
    run: PRINT 10 → REFLOW 20 → WASH 25 → AOI 30 → PACK 40."""
    f = await ExecFactory(bus).build(units=1)
    c = f.code
    await f.do(md.UpsertStationGroup(dm.StationGroup(c("WASH-G"), "WASH-G")))
    await f.do(
        md.UpsertStation(dm.Station(c("WASH-1"), "WASH-1", StationType.BATCH, c("L"), c("WASH-G")))
    )
    await f.do(md.UpsertOperation(dm.Operation(c("WASH"), "WASH", StationType.BATCH)))
    steps = tuple(
        dm.RoutingStep(no, c(op))
        for no, op in ((10, "PRINT"), (20, "REFLOW"), (25, "WASH"), (30, "AOI"), (40, "PACK"))
    )
    await f.do(md.UpsertRouting(dm.Routing(c("R"), "Route", steps=steps)))
    wash_mapping = {
        "eventType": "BATCH",
        "stationCodePath": "payload.washer",
        "carrierCodePath": "payload.carrier",
        "result": {"path": "payload.status", "passValues": ["DONE"]},
    }
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R"), step_no=25, station_group_code=c("WASH-G"), ingest_mapping=wash_mapping
            )
        )
    )
    version = await f.do(md.CompileRouting(c("R")))
    assert version.is_ready, version.errors
    await f.do(prod.ReceiveWorkOrder(c("WO2"), "P", units, c("R")))
    await f.do(prod.ReleaseWorkOrder(c("WO2")))
    run = await f.do(prod.CreateRun(c("WO2"), c("L"), units, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    registered = await f.do(prod.RegisterUnits(run.run_no, count=units, sn_prefix=c("W-")))
    f.run_no, f.sns = run.run_no, [u.sn for u in registered]
    return f


def wash_input(f: ExecFactory, carrier: str) -> dict[str, Any]:
    return {
        "sourceSystem": f.code("WASH-1"),
        "dedupeKey": f.code("WASH-K"),
        "eventType": "BATCH",
        "occurredAt": "2026-03-02T09:30:00Z",
        "payload": {"washer": f.code("WASH-1"), "carrier": carrier, "status": "DONE"},
    }
