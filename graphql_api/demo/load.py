"""`mes demo`: a small, real factory so GraphiQL has something to explore. Idempotent.

A line with MANUAL, AUTO, BATCH and TEST stations, a routing whose five steps use all four
(with real-looking ingest mappings: the ICT step reads IPC-CFX UnitsTested messages), a
released work order, an authorized run and ten units.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain import master as dm
from domain.actors import Actor
from domain.enums import (
    WorkOrderStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestService
from domain.ports import ReadStore
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command, MessageBus
from graphql_api.demo.cfx import cfx_factory, x_out_story
from graphql_api.demo.events import aoi_event, ict_event
from graphql_api.demo.factory import (
    AOI_MAPPING,
    GROUPS,
    ICT_MAPPING,
    LINE,
    OPERATIONS,
    ROUTING,
    RUN,
    SPECS,
    STATIONS,
    STEP_CONFIGS,
    TEST_ROUTING,
    TEST_RUN,
    TEST_UNITS,
    TEST_WO,
    UNITS,
    WO,
)
from graphql_api.demo.floor import run_the_floor
from graphql_api.demo.interlocks import TEST_AOI_RECIPE, interlock_story
from graphql_api.demo.quality import quality_story


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
    done += await cfx_factory(do, store)
    if ingest is not None:
        done += await _send_events(ingest, actor)
        done += await run_the_floor(bus, store, ingest, actor)
        done += await quality_story(bus, store, ingest, actor)
        done += await interlock_story(ingest, actor)
        done += await x_out_story(do, store, ingest, actor)
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
                    TEST_ROUTING,
                    step_no=step_no,
                    station_group_code=group,
                    ingest_mapping=mapping,
                    # the tester may retest a board once before it is OUT_FAILED
                    max_attempts=2 if step_no == 20 else None,
                    # the AOI must run the top-side program (issue 16's recipe interlock)
                    recipe=TEST_AOI_RECIPE if step_no == 10 else None,
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
