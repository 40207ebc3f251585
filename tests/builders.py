"""Build a small factory through the bus (fast set-up for tests), with unique codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain import master as dm
from domain.actors import Actor
from domain.enums import CollectionMethod, DataType, StationType
from domain.routes import RouteVersion
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command, MessageBus
from tests.conftest import unique

ACTOR = Actor(name="test", request_id="test-request")

AUTO_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.sn",
    "stationCodePath": "payload.station",
    "result": {"path": "payload.result"},
}


@dataclass
class Factory:
    bus: MessageBus
    tag: str = field(default_factory=lambda: unique("F"))

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"

    async def do(self, cmd: Command) -> Any:
        return await self.bus.handle(cmd, ACTOR)

    async def master_data(self) -> None:
        """A line, a MANUAL and an AUTO station in their groups, two operations with specs."""
        c = self.code
        await self.do(md.UpsertLine(dm.Line(c("LINE"), "Line")))
        await self.do(md.UpsertStationGroup(dm.StationGroup(c("PRN-G"), "Printers")))
        await self.do(md.UpsertStationGroup(dm.StationGroup(c("AOI-G"), "AOI")))
        await self.do(
            md.UpsertStation(
                dm.Station(c("PRN-1"), "Printer", StationType.MANUAL, c("LINE"), c("PRN-G"))
            )
        )
        await self.do(
            md.UpsertStation(dm.Station(c("AOI-1"), "AOI", StationType.AUTO, c("LINE"), c("AOI-G")))
        )
        await self.do(md.UpsertOperation(dm.Operation(c("PRINT"), "Print", StationType.MANUAL)))
        await self.do(md.UpsertOperation(dm.Operation(c("AOI"), "AOI", StationType.AUTO)))
        await self.do(
            md.UpsertDataSpec(
                dm.DataCollectionSpec(
                    c("PRINT"),
                    "Pressure",
                    DataType.NUMBER,
                    CollectionMethod.MANUAL,
                    limits=dm.SpecLimits(4.0, 8.0, "kg"),
                )
            )
        )
        await self.do(
            md.UpsertDataSpec(
                dm.DataCollectionSpec(c("AOI"), "VoidRatio", DataType.NUMBER, CollectionMethod.AUTO)
            )
        )

    async def routing(self, compile_it: bool = True) -> RouteVersion | None:
        """Routing {tag}-R: step 10 PRINT (MANUAL, printer group), step 20 AOI (AUTO, mapped)."""
        c = self.code
        steps = (dm.RoutingStep(10, c("PRINT")), dm.RoutingStep(20, c("AOI")))
        await self.do(md.UpsertRouting(dm.Routing(c("R"), "Route", steps=steps)))
        await self.do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(c("R"), step_no=10, station_group_code=c("PRN-G"))
            )
        )
        await self.do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(
                    c("R"), step_no=20, station_group_code=c("AOI-G"), ingest_mapping=AUTO_MAPPING
                )
            )
        )
        if compile_it:
            version: RouteVersion = await self.do(md.CompileRouting(c("R")))
            assert version.is_ready, version.errors
            return version
        return None

    async def released_work_order(self, qty: int = 5) -> str:
        c = self.code
        await self.do(prod.ReceiveWorkOrder(c("WO"), "PROD", qty, c("R")))
        await self.do(prod.ReleaseWorkOrder(c("WO")))
        return c("WO")

    async def run(self, authorize: bool = True, units: int = 0) -> str:
        """master data, a READY routing, a released work order and a run (PREP or AUTHORIZED)."""
        await self.master_data()
        await self.routing()
        wo = await self.released_work_order()
        run = await self.do(prod.CreateRun(wo, self.code("LINE"), 5, run_no=self.code("RUN")))
        if authorize:
            await self.do(prod.AuthorizeRun(run.run_no))
        if units:
            await self.do(prod.RegisterUnits(run.run_no, count=units, sn_prefix=self.code("SN-")))
        return str(run.run_no)
