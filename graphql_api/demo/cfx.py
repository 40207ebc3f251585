"""`mes demo`, fifth part (issue 19): what a machine needs to send the IPC-CFX SDK's published
example messages as published (tests/fixtures/cfx: the `MessageBody` as payload, the `Source`
as sourceSystem) — line SMT-2 with one station per CFX handle, routes whose steps read
UnitsInspected (SPI full and lean, AOI per board and per panel), UnitsTested (ICT, burn-in),
UnitsProcessed (coating; the reflow oven's, which names no units and takes its WorkStarted's)
and the placer's WorkCompleted (CARRIER5566), the route-level
infoMappings for UnitsArrived, UnitsDeparted, WorkStarted and MaterialsInstalled, and the
examples' panels and units registered with the barcodes and positions the examples name.
The demo sends none of them: that is for the user.

And an X-out panel through a whole route: PNL300-X01 (4 boards, position 3 X_OUT at
registration) through SPI, AOI and ICT by events naming the panel without positions; its run
is closed. Idempotent: events are resent under their own keys (DUPLICATE).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain import master as dm
from domain.actors import Actor
from domain.enums import (
    CollectionMethod,
    DataType,
    IngestEventType,
    RunStatus,
    SpecItemType,
    StationType,
    TriggerType,
    WorkOrderStatus,
)
from domain.ingest.pipeline import IngestService
from domain.ingest.records import IngestEnvelope
from domain.panels import PanelSpec
from domain.ports import ReadStore
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.demo.cfx_mappings import (
    AOI_MAPPING,
    BURN_IN_MAPPING,
    COATING_MAPPING,
    ICT_MAPPING,
    INFO_MAPPINGS,
    PLACER_MAPPING,
    SPI_MAPPING,
)
from graphql_api.demo.factory import CET

LINE = "SMT-2"
SPI, AOI, ICT = "Vendor1.SPI.Machine01", "Vendor1.AOI.Machine02", "Vendor2.ICT.Machine03"
BURN_IN, COATER, REFLOW, PLACER = (
    "Vendor3.BurnIn.Machine04",
    "Vendor4.Coater.Machine05",
    "Vendor5.Reflow.Machine06",
    "Vendor6.Placer.Machine07",
)
#: (station code = the machine's CFX handle, its cfxHandle too, name, type, group)
STATIONS = [
    (SPI, "SPI 1 (IPC-CFX)", StationType.AUTO, "CFX-SPI"),
    (AOI, "AOI 2 (IPC-CFX)", StationType.AUTO, "CFX-AOI"),
    (ICT, "ICT 3 (IPC-CFX)", StationType.TEST, "CFX-ICT"),
    (BURN_IN, "Burn-in chamber 4 (IPC-CFX)", StationType.TEST, "CFX-BURN-IN"),
    (COATER, "Conformal coater 5 (IPC-CFX)", StationType.AUTO, "CFX-COATERS"),
    (REFLOW, "Reflow oven 6 (IPC-CFX)", StationType.AUTO, "CFX-REFLOW"),
    (PLACER, "Placer 7 (IPC-CFX)", StationType.AUTO, "CFX-PLACERS"),
]
OPERATIONS = [
    ("SPI", "Solder paste inspection", StationType.AUTO),
    ("AOI-CFX", "Optical inspection (IPC-CFX)", StationType.AUTO),
    ("ICT-CFX", "In-circuit test (IPC-CFX)", StationType.TEST),
    ("BURN-IN", "Burn-in (hot and cold test)", StationType.TEST),
    ("COAT", "Conformal coating", StationType.AUTO),
    ("REFLOW-CFX", "Reflow soldering (IPC-CFX)", StationType.AUTO),
    ("PLACE", "SMT placement (IPC-CFX)", StationType.AUTO),
]
#: R21 and R22 in kOhm: the tester sends 28300 Ohm, converted and judged; R21 is the KEY one
SPECS = [
    dm.DataCollectionSpec(
        "ICT-CFX",
        "R21",
        DataType.NUMBER,
        CollectionMethod.AUTO,
        SpecItemType.KEY,
        TriggerType.EACH_UNIT,
        limits=dm.SpecLimits(28.0, 28.4, "kOhm"),
    ),
    dm.DataCollectionSpec(
        "ICT-CFX",
        "R22",
        DataType.NUMBER,
        CollectionMethod.AUTO,
        SpecItemType.OBSERVATION,
        TriggerType.EACH_UNIT,
        limits=dm.SpecLimits(None, None, "kOhm"),
    ),
]


@dataclass(frozen=True)
class CfxRoute:
    code: str
    name: str
    product: str
    #: (step, operation, station group, mapping, maxAttempts)
    steps: tuple[tuple[int, str, str, dict[str, Any], int | None], ...]


# SPI and AOI allow one re-inspection: the examples fail board 2 of PANEL34543535 at both
PANEL_ROUTE = CfxRoute(
    "CFX-PANEL",
    "Panel: SPI, AOI, ICT (IPC-CFX examples)",
    "BRD-300",
    (
        (10, "SPI", "CFX-SPI", SPI_MAPPING, 2),
        (20, "AOI-CFX", "CFX-AOI", AOI_MAPPING, 2),
        (30, "ICT-CFX", "CFX-ICT", ICT_MAPPING, None),
    ),
)
ROUTES = [
    PANEL_ROUTE,
    CfxRoute(
        "CFX-AOI",
        "Panel AOI (IPC-CFX example)",
        "BRD-310",
        ((10, "AOI-CFX", "CFX-AOI", AOI_MAPPING, None),),
    ),
    CfxRoute(
        "CFX-COAT",
        "Conformal coating (IPC-CFX example)",
        "BRD-320",
        ((10, "COAT", "CFX-COATERS", COATING_MAPPING, None),),
    ),
    CfxRoute(
        "CFX-BURN-IN",
        "Final unit burn-in (IPC-CFX example)",
        "BOX-330",
        ((10, "BURN-IN", "CFX-BURN-IN", BURN_IN_MAPPING, None),),
    ),
    # the oven's UnitsProcessed names no units: it takes its WorkStarted's (parked until then)
    CfxRoute(
        "CFX-REFLOW",
        "Reflow (IPC-CFX example)",
        "BRD-350",
        ((10, "REFLOW-CFX", "CFX-REFLOW", COATING_MAPPING, None),),
    ),
    # the placer's WorkStarted → WorkCompleted (paired natively by TransactionID: issue 21)
    CfxRoute(
        "CFX-PLACE",
        "SMT placement (IPC-CFX example)",
        "BRD-340",
        ((10, "PLACE", "CFX-PLACERS", PLACER_MAPPING, None),),
    ),
]
X_OUT_PANEL = "PNL300-X01"


@dataclass(frozen=True)
class CfxRun:
    wo: str
    routing: str
    run: str
    panels: tuple[PanelSpec, ...] = ()
    sns: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(p.positions for p in self.panels) + len(self.sns)


#: the barcodes as the examples send them: one panel barcode at positions 1 and 2 (ICT, AOI,
#: SPI, coating, the INFO messages; the placer's CARRIER5566 on a route of its own), a
#: whole-panel AOI verdict, boards with their own barcode
RUNS = [
    CfxRun(
        "WO-3001",
        "CFX-PANEL",
        "WO-3001-01",
        (
            PanelSpec("PANEL34543535", 2),
            PanelSpec("PANEL23423432", 2),
        ),
        ("FFSHkkskamJDHS",),
    ),
    CfxRun(
        "WO-3002", "CFX-PANEL", "WO-3002-01", (PanelSpec(X_OUT_PANEL, 4, x_out_positions=(3,)),)
    ),
    CfxRun("WO-3003", "CFX-AOI", "WO-3003-01", (PanelSpec("PN123456789", 2),)),
    CfxRun("WO-3004", "CFX-COAT", "WO-3004-01", (PanelSpec("CARRIER55678", 2),)),
    CfxRun("WO-3005", "CFX-BURN-IN", "WO-3005-01", sns=("UNIT123456789",)),
    CfxRun("WO-3006", "CFX-PLACE", "WO-3006-01", (PanelSpec("CARRIER5566", 2),)),
    CfxRun("WO-3007", "CFX-REFLOW", "WO-3007-01", (PanelSpec("CARRIER7788", 2),)),
]
X_OUT_RUN = RUNS[1].run


#: a `{"format": "CFX"}` step (issue 21): the ICT's names mapped onto its specs
NATIVE = {"format": "CFX"}
NATIVE_ICT = {**NATIVE, "dataSpecMap": ICT_MAPPING["dataSpecMap"]}


def native_station_code(handle: str) -> str:
    """`Vendor1.SPI.Machine01` → `CFX-SPI-01`: a readable code beside the handle."""
    _, kind, machine = handle.split(".")
    return f"CFX-{kind.upper()}-{machine[-2:]}"


def native_routes() -> list[CfxRoute]:
    """The routes with `{"format": "CFX"}` steps: the machines post whole envelopes."""
    return [
        replace(
            route,
            steps=tuple(
                (no, op, group, NATIVE_ICT if mapping is ICT_MAPPING else NATIVE, attempts)
                for no, op, group, mapping, attempts in route.steps
            ),
        )
        for route in ROUTES
    ]


async def cfx_factory(do: Any, store: ReadStore, native: bool = False) -> list[str]:
    """Line SMT-2, its stations, routes, work orders, runs and the examples' units. The demo
    reads the examples' bodies by its own mappings, stations coded by their handles; `native`
    (tests of POST /cfx) gives the stations readable codes and the steps `{"format": "CFX"}`."""
    done: list[str] = []
    routes = native_routes() if native else ROUTES
    await do(md.UpsertLine(dm.Line(LINE, "SMT line 2 (IPC-CFX machines)")))
    for _, _, _, group in STATIONS:
        await do(md.UpsertStationGroup(dm.StationGroup(group, group)))
    for handle, name, stype, group in STATIONS:
        code = native_station_code(handle) if native else handle
        await do(md.UpsertStation(dm.Station(code, name, stype, LINE, group, cfx_handle=handle)))
    for code, name, stype in OPERATIONS:
        await do(md.UpsertOperation(dm.Operation(code, name, stype)))
    for spec in SPECS:
        await do(md.UpsertDataSpec(spec))
    for route in routes:
        steps = tuple(dm.RoutingStep(no, op) for no, op, _, _, _ in route.steps)
        await do(
            md.UpsertRouting(
                dm.Routing(route.code, route.name, "MES", None, route.product, True, steps)
            )
        )
        for no, _, group, mapping, attempts in route.steps:
            config = dm.ExecutionConfig(
                route.code,
                step_no=no,
                station_group_code=group,
                ingest_mapping=mapping,
                max_attempts=attempts,
            )
            await do(md.SetExecutionConfig(config))
        if not native:
            info = dm.ExecutionConfig(route.code, info_mappings=INFO_MAPPINGS)
            await do(md.SetExecutionConfig(info))
        versions = (await store.versions_of_routings([route.code])).get(route.code, [])
        if not any(v.is_ready for v in versions):
            version = await do(md.CompileRouting(route.code))
            if not version.is_ready:
                raise RuntimeError(f"demo routing {route.code} did not compile: {version.errors}")
            done.append(f"compiled {route.code} v{version.version_no}")
    products = {r.code: r.product for r in ROUTES}
    for run in RUNS:
        await do(prod.ReceiveWorkOrder(run.wo, products[run.routing], run.size, run.routing))
        if (await store.work_orders([run.wo]))[run.wo].status is WorkOrderStatus.RECEIVED:
            await do(prod.ReleaseWorkOrder(run.wo))
        if not await store.runs([run.run]):
            await do(prod.CreateRun(run.wo, LINE, run.size, run_no=run.run, shift_code="A"))
            await do(prod.AuthorizeRun(run.run))
        if (await store.unit_counts_of_runs([run.run])).get(run.run, 0) == 0:
            if run.panels:
                await do(prod.RegisterUnits(run.run, panels=run.panels))
            if run.sns:
                await do(prod.RegisterUnits(run.run, sns=run.sns))
            done.append(f"{run.run}: {', '.join([p.panel_sn for p in run.panels] + list(run.sns))}")
    return done


def _event(
    source: str, event_type: IngestEventType, minute: int, payload: dict[str, Any]
) -> IngestEnvelope:
    return IngestEnvelope(
        source_system=source,
        dedupe_key=f"{source}/{X_OUT_PANEL}",
        event_type=event_type,
        occurred_at=datetime(2026, 3, 3, 10, minute, tzinfo=CET),
        payload=payload,
    )


def x_out_events() -> list[IngestEnvelope]:
    """SPI, AOI and ICT for the X-out panel, each naming the panel without positions (CFX
    shapes: UnitsInspected per board and per panel, UnitsTested)."""
    panel = {"UnitIdentifier": X_OUT_PANEL, "OverallResult": "Passed"}
    return [
        _event(
            SPI,
            IngestEventType.AUTO,
            0,
            {"TransactionId": "x-out-spi", "InspectedUnits": [{**panel, "Inspections": []}]},
        ),
        _event(
            AOI,
            IngestEventType.AUTO,
            5,
            {
                "TransactionId": "x-out-aoi",
                "InspectedUnits": [],
                "InspectedPanel": {**panel, "Inspections": []},
            },
        ),
        _event(
            ICT,
            IngestEventType.TEST,
            10,
            {"TransactionId": "x-out-ict", "TestedUnits": [{**panel, "Tests": []}]},
        ),
    ]


async def x_out_story(do: Any, store: ReadStore, ingest: IngestService, actor: Actor) -> list[str]:
    outcomes = [await ingest.ingest(env, actor) for env in x_out_events()]
    statuses = ", ".join(
        o.status.value + (f" {o.error.code.value}" if o.error else "") for o in outcomes
    )
    run = (await store.runs([X_OUT_RUN]))[X_OUT_RUN]
    if run.status is not RunStatus.COMPLETED:
        run = await do(prod.CloseRun(X_OUT_RUN))
    return [
        f"X-out panel {X_OUT_PANEL} (position 3) through SPI, AOI, ICT: {statuses}; "
        f"{X_OUT_RUN} {run.status.value}"
    ]
