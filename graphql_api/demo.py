"""`mes demo`: a small, real factory so GraphiQL has something to explore. Idempotent.

A line with MANUAL, AUTO, BATCH and TEST stations, a routing whose five steps use all four
(with real-looking ingest mappings: the ICT step reads IPC-CFX UnitsTested messages), a
released work order, an authorized run and ten units.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from domain import master as dm
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    IngestEventType,
    SpecItemType,
    StationType,
    TriggerType,
    WorkOrderStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.execution import IngestEnvelope
from domain.ingest.pipeline import IngestService
from domain.ports import ReadStore
from domain.usecases import master_data as md
from domain.usecases import production as prod
from domain.usecases.bus import Actor, Command, MessageBus
from graphql_api.demo_floor import run_the_floor

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
    "result": {"passValues": ["Passed"], "failValues": ["Failed", "Error", "Aborted"]},
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


async def load_demo(
    bus: MessageBus,
    store: ReadStore,
    ingest: IngestService | None = None,
    actor: Actor | None = None,
) -> list[str]:
    """Load (or refresh) the demo factory; returns what was done, line by line."""
    actor = actor or Actor(name="demo", request_id="mes-demo")
    assert actor is not None
    done: list[str] = []

    async def do(cmd: Command) -> Any:
        return await bus.handle(cmd, actor)

    await do(md.UpsertLine(dm.Line(LINE, "SMT line 1")))
    for code, name in GROUPS.items():
        await do(md.UpsertStationGroup(dm.StationGroup(code, name)))
    for code, name, stype, group in STATIONS:
        await do(md.UpsertStation(dm.Station(code, name, stype, LINE, group)))
    for code, name, stype in OPERATIONS:
        await do(md.UpsertOperation(dm.Operation(code, name, stype)))
    for op, name, dtype, method, item, trigger, required, limits, alarm in SPECS:
        await do(
            md.UpsertDataSpec(
                dm.DataCollectionSpec(
                    operation_code=op,
                    name=name,
                    data_type=dtype,
                    method=method,
                    item_type=item,
                    trigger_type=trigger,
                    is_required=required,
                    limits=limits,
                    alarm=alarm,
                )
            )
        )
    steps = tuple(
        dm.RoutingStep(no, op[0]) for no, op in zip((10, 20, 30, 40, 50), OPERATIONS, strict=True)
    )
    await do(
        md.UpsertRouting(
            dm.Routing(ROUTING, "Controller board PCBA", "MES", None, "BRD-100", True, steps)
        )
    )
    for step_no, group, mapping in STEP_CONFIGS:
        await do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(
                    routing_code=ROUTING,
                    step_no=step_no,
                    station_group_code=group,
                    ingest_mapping=mapping,
                    max_attempts=2 if step_no == 40 else None,
                )
            )
        )
    done.append(f"master data: line {LINE}, {len(STATIONS)} stations, routing {ROUTING}")

    versions = (await store.versions_of_routings([ROUTING])).get(ROUTING, [])
    if not any(v.is_ready for v in versions):
        version = await do(md.CompileRouting(ROUTING))
        done.append(f"compiled {ROUTING} v{version.version_no}: {version.status.value}")
        if not version.is_ready:
            raise RuntimeError(f"demo routing did not compile: {version.errors}")

    await do(prod.ReceiveWorkOrder(WO, "BRD-100", UNITS, ROUTING))
    if (await store.work_orders([WO]))[WO].status is WorkOrderStatus.RECEIVED:
        await do(prod.ReleaseWorkOrder(WO))
    try:
        await do(prod.CreateRun(WO, LINE, UNITS, run_no=RUN, shift_code="A"))
        done.append(f"run {RUN} created")
    except DomainError as err:
        if err.code is not ErrorCode.RUN_ALREADY_EXISTS:
            raise
        done.append(f"run {RUN} exists")
    try:
        await do(prod.AuthorizeRun(RUN))
    except DomainError as err:  # a run that already moved on stays as it is
        if err.code is not ErrorCode.RUN_NOT_READY:
            raise
    if (await store.unit_counts_of_runs([RUN])).get(RUN, 0) == 0:
        units = await do(prod.RegisterUnits(RUN, count=UNITS, sn_prefix="BRD100-"))
        done.append(f"{len(units)} units registered: {units[0].sn} … {units[-1].sn}")
    done += await _test_line(do, store)
    if ingest is not None:
        done += await _send_events(ingest, actor)
        done += await run_the_floor(bus, store, ingest, actor)
    return done


async def _test_line(do: Any, store: ReadStore) -> list[str]:
    """A second product, assembled elsewhere and only inspected and tested here:
    AOI → ICT → pack, so machine events can flow before manual and BATCH steps exist."""
    steps = (dm.RoutingStep(10, "AOI"), dm.RoutingStep(20, "ICT"), dm.RoutingStep(30, "PACK"))
    await do(
        md.UpsertRouting(
            dm.Routing(
                TEST_ROUTING,
                "Sensor board, inspect and test",
                "ERP",
                "SAP-4711",
                "BRD-200",
                True,
                steps,
            )
        )
    )
    for step_no, group, mapping in (
        (10, "AOI-MACHINES", AOI_MAPPING),
        (20, "ICT-TESTERS", ICT_MAPPING),
        (30, "PACKING", None),
    ):
        await do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(
                    TEST_ROUTING, step_no=step_no, station_group_code=group, ingest_mapping=mapping
                )
            )
        )
    done = []
    versions = (await store.versions_of_routings([TEST_ROUTING])).get(TEST_ROUTING, [])
    if not any(v.is_ready for v in versions):
        version = await do(md.CompileRouting(TEST_ROUTING))
        done.append(f"compiled {TEST_ROUTING} v{version.version_no}: {version.status.value}")
    await do(prod.ReceiveWorkOrder(TEST_WO, "BRD-200", TEST_UNITS, TEST_ROUTING))
    if (await store.work_orders([TEST_WO]))[TEST_WO].status is WorkOrderStatus.RECEIVED:
        await do(prod.ReleaseWorkOrder(TEST_WO))
    if not (await store.runs([TEST_RUN])):
        await do(prod.CreateRun(TEST_WO, LINE, TEST_UNITS, run_no=TEST_RUN, shift_code="A"))
        await do(prod.AuthorizeRun(TEST_RUN))
        done.append(f"run {TEST_RUN} created and authorized")
    if (await store.unit_counts_of_runs([TEST_RUN])).get(TEST_RUN, 0) == 0:
        units = await do(prod.RegisterUnits(TEST_RUN, count=TEST_UNITS, sn_prefix="BRD200-"))
        done.append(f"{len(units)} units registered: {units[0].sn} … {units[-1].sn}")
    return done


async def _send_events(ingest: IngestService, actor: Actor) -> list[str]:
    """Real-looking machine events through the pipeline (idempotent: resent, they are
    DUPLICATEs), so the trace in GraphiQL is rich."""
    events = [
        aoi_event(1, "OK", 12.5),
        aoi_event(2, "OK", 8.0),
        aoi_event(3, "ok", 31.0),  # over the 25 % limit: our limits say FAIL whatever it said
        aoi_event(4, "OK", 10.1),
        ict_event("ICT-01-TX-0001", [(1, "Passed", 1001.5, 3.31), (2, "Passed", 998.0, 3.29)]),
        ict_event("ICT-01-TX-0002", [(4, "Failed", 1207.0, 3.30)]),
        # a board the plant never registered: refused and kept as a rejection
        replace(
            aoi_event(9, "OK", 5.0),
            payload={**aoi_event(9, "OK", 5.0).payload, "pcb": {"id": "BRD200-999999"}},
        ),
    ]
    summary: dict[str, int] = {}
    for env in events:
        outcome = await ingest.ingest(env, actor)
        label = outcome.status.value + (f" {outcome.error.code.value}" if outcome.error else "")
        summary[label] = summary.get(label, 0) + 1
    return ["events: " + ", ".join(f"{n} {label}" for label, n in sorted(summary.items()))]
