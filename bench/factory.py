"""The benchmark's factory: master data through the service's own use cases, units (and, for
the scale runs, their history) bulk-loaded with PostgreSQL COPY. Nothing here is measured.

Route BR: 10 AOI (AUTO, one spec) → 20 ICT (TEST, 100 NUMBER specs with limits) → 30 PACK.
Route DR: twelve TEST steps of one operation with 170 specs: a unit walking it is the deep
unit of the trace (12 tracks, 2,040 values), built by real ingest events."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from domain import master as dm
from domain.actors import Actor
from domain.enums import CollectionMethod, DataType, SpecItemType, StationType
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command
from graphql_api.bootstrap import bootstrap

ACTOR = Actor(name="bench", request_id="bench-setup")
TEST_SPECS = 100
DEEP_SPECS = 170
DEEP_STEPS = 12
HISTORY_VALUES = 20  # values per history unit (1M units → 20M values)
T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)

AUTO_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.sn",
    "stationCodePath": "payload.station",
    "result": {"path": "payload.result", "passValues": ["PASS"], "failValues": ["FAIL"]},
    "measurements": {"itemsPath": "payload.values[*]", "namePath": "name", "valuePath": "value"},
}
TEST_MAPPING: dict[str, Any] = {
    **AUTO_MAPPING,
    "eventType": "TEST",
    "testResultIdPath": "payload.testId",
}


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Factory:
    """What the load produced: the codes and which units each scenario may use."""

    url: str
    tag: str
    run_no: str
    deep_run_no: str
    auto_sns: list[str]  # at step 10, never touched: for the service and the floor
    test_sns: list[str]  # at step 20
    deep_sn: str
    units: int
    values: int

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"


async def recreate(url: str) -> None:
    """Drop and create the database of the URL (through the `postgres` database), migrate."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def load(url: str, units: int, auto: int, test: int, history: bool = True) -> Factory:
    """Master data, two authorized runs, `units` units of which `auto` wait at step 10 and
    `test` at step 20; the rest carry a history (an AUTO event, its track and
    HISTORY_VALUES values each) so the tables have the size of `units` boards' production."""
    assert auto + test <= units, "more scenario units than units"
    tag = f"B{uuid.uuid4().hex[:6]}"
    services = bootstrap(Settings(database_url=url))
    c = lambda name: f"{tag}-{name}"  # noqa: E731

    async def do(cmd: Command) -> Any:
        return await services.bus.handle(cmd, ACTOR)

    try:
        await do(md.UpsertLine(dm.Line(c("L"), "Bench line")))
        for group in ("AOI-G", "ICT-G", "PACK-G", "DEEP-G"):
            await do(md.UpsertStationGroup(dm.StationGroup(c(group), group)))
        for station, stype, group in (
            ("AOI-1", StationType.AUTO, "AOI-G"),
            ("ICT-1", StationType.TEST, "ICT-G"),
            ("PACK-1", StationType.MANUAL, "PACK-G"),
            ("DEEP-1", StationType.TEST, "DEEP-G"),
        ):
            await do(md.UpsertStation(dm.Station(c(station), station, stype, c("L"), c(group))))
        for op, stype in (
            ("AOI", StationType.AUTO),
            ("ICT", StationType.TEST),
            ("PACK", StationType.MANUAL),
            ("DEEP", StationType.TEST),
        ):
            await do(md.UpsertOperation(dm.Operation(c(op), op, stype)))
        a, n = CollectionMethod.AUTO, DataType.NUMBER
        specs = [
            dm.DataCollectionSpec(
                c("AOI"), "VoidRatio", n, a, SpecItemType.KEY, limits=dm.SpecLimits(0, 25, "%")
            )
        ]
        specs += [
            dm.DataCollectionSpec(c("ICT"), f"M{i:03d}", n, a, limits=dm.SpecLimits(0, 10, "V"))
            for i in range(TEST_SPECS)
        ]
        specs += [
            dm.DataCollectionSpec(c("DEEP"), f"D{i:03d}", n, a, limits=dm.SpecLimits(0, 10, "V"))
            for i in range(DEEP_SPECS)
        ]
        for spec in specs:
            await do(md.UpsertDataSpec(spec))
        steps = (
            dm.RoutingStep(10, c("AOI")),
            dm.RoutingStep(20, c("ICT")),
            dm.RoutingStep(30, c("PACK")),
        )
        await do(md.UpsertRouting(dm.Routing(c("R"), "Bench route", steps=steps)))
        for cfg in (
            dm.ExecutionConfig(
                c("R"), step_no=10, station_group_code=c("AOI-G"), ingest_mapping=AUTO_MAPPING
            ),
            dm.ExecutionConfig(
                c("R"), step_no=20, station_group_code=c("ICT-G"), ingest_mapping=TEST_MAPPING
            ),
            dm.ExecutionConfig(c("R"), step_no=30, station_group_code=c("PACK-G")),
        ):
            await do(md.SetExecutionConfig(cfg))
        deep_steps = tuple(dm.RoutingStep(10 * (i + 1), c("DEEP")) for i in range(DEEP_STEPS))
        await do(md.UpsertRouting(dm.Routing(c("DR"), "Deep route", steps=deep_steps)))
        await do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(
                    c("DR"),
                    operation_code=c("DEEP"),
                    station_group_code=c("DEEP-G"),
                    ingest_mapping=TEST_MAPPING,
                )
            )
        )
        for routing in ("R", "DR"):
            version = await do(md.CompileRouting(c(routing)))
            assert version.is_ready, version.errors
        await do(prod.ReceiveWorkOrder(c("WO"), "PCBA-B", units, c("R")))
        await do(prod.ReleaseWorkOrder(c("WO")))
        run = await do(prod.CreateRun(c("WO"), c("L"), units, run_no=c("RUN")))
        await do(prod.AuthorizeRun(run.run_no))
        await do(prod.ReceiveWorkOrder(c("DWO"), "PCBA-D", 1, c("DR")))
        await do(prod.ReleaseWorkOrder(c("DWO")))
        deep_run = await do(prod.CreateRun(c("DWO"), c("L"), 1, run_no=c("DRUN")))
        await do(prod.AuthorizeRun(deep_run.run_no))
        [deep] = await do(prod.RegisterUnits(deep_run.run_no, sns=(c("DEEP-0001"),)))
    finally:
        await services.close()

    sns = [f"{tag}-{i:07d}" for i in range(units)]
    # the history units registered first: the run's first page (bench/page.py) is theirs
    past = len(sns) - auto - test
    auto_sns, test_sns = sns[past : past + auto], sns[past + auto :]
    values = await _copy_units(url, tag, run.run_no, c("WO"), sns, past, auto, history=history)
    return Factory(
        url=url,
        tag=tag,
        run_no=run.run_no,
        deep_run_no=deep_run.run_no,
        auto_sns=auto_sns,
        test_sns=test_sns,
        deep_sn=deep.sn,
        units=units + 1,
        values=values,
    )


async def _copy_units(
    url: str,
    tag: str,
    run_no: str,
    wo_no: str,
    sns: list[str],
    past: int,
    auto: int,
    history: bool,
) -> int:
    """COPY the units in the order of `sns`: `past` history units (at step 20), `auto` at step
    10, the rest at step 20; history units also get an event, a track and their values."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_records_to_table(
            "unit",
            columns=["sn", "wo_no", "run_no", "status", "current_step_no", "created_at"],
            records=(
                (sn, wo_no, run_no, "QUEUED", 10 if past <= i < past + auto else 20, T0)
                for i, sn in enumerate(sns)
            ),
        )
        if not history or not past:
            return 0
        ids = dict(await conn.fetch("SELECT sn, id FROM unit WHERE run_no = $1", run_no))
        base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM ingest_event")) + 1
        track_base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM track")) + 1
        source, station = f"{tag}-AOI-1", f"{tag}-AOI-1"
        written = 0
        for chunk_start in range(0, past, 50_000):
            chunk = sns[chunk_start : min(past, chunk_start + 50_000)]
            first, tfirst = base + chunk_start, track_base + chunk_start
            await conn.copy_records_to_table(
                "ingest_event",
                columns=[
                    "id",
                    "source_system",
                    "dedupe_key",
                    "input_hash",
                    "event_type",
                    "occurred_at",
                    "received_at",
                    "run_no",
                    "step_no",
                    "station_code",
                    "line_code",
                    "sn",
                    "sn_list",
                    "result",
                    "payload",
                ],
                records=(
                    (
                        first + k,
                        source,
                        f"H-{sn}",
                        f"{first + k:064x}",
                        "AUTO",
                        T0 + timedelta(seconds=first + k),
                        T0 + timedelta(seconds=first + k),
                        run_no,
                        10,
                        station,
                        f"{tag}-L",
                        sn,
                        orjson.dumps([sn]).decode(),
                        "PASS",
                        orjson.dumps({"sn": sn, "station": station, "result": "PASS"}).decode(),
                    )
                    for k, sn in enumerate(chunk)
                ),
            )
            await conn.copy_records_to_table(
                "ingest_event_unit",
                columns=["event_id", "unit_id"],
                records=((first + k, ids[sn]) for k, sn in enumerate(chunk)),
            )
            await conn.copy_records_to_table(
                "track",
                columns=[
                    "id",
                    "unit_id",
                    "run_no",
                    "step_no",
                    "attempt",
                    "operation_code",
                    "station_code",
                    "source",
                    "in_at",
                    "out_at",
                    "result",
                    "ingest_event_id",
                ],
                records=(
                    (
                        tfirst + k,
                        ids[sn],
                        run_no,
                        10,
                        1,
                        f"{tag}-AOI",
                        station,
                        "AUTO",
                        T0,
                        T0,
                        "PASS",
                        first + k,
                    )
                    for k, sn in enumerate(chunk)
                ),
            )
            await conn.copy_records_to_table(
                "data_value",
                columns=[
                    "track_id",
                    "spec_name",
                    "data_type",
                    "value_number",
                    "judge",
                    "alarmed",
                    "source",
                    "collected_at",
                    "ingest_event_id",
                ],
                records=_history_values(first, tfirst, len(chunk)),
            )
            written += len(chunk) * HISTORY_VALUES
        # the sequences go on after the ids COPY wrote
        for table in ("ingest_event", "track"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
        return written
    finally:
        await conn.close()


def _history_values(first: int, tfirst: int, count: int) -> Iterator[tuple[Any, ...]]:
    names = ["VoidRatio"] + [f"H{i:02d}" for i in range(HISTORY_VALUES - 1)]
    for k, (i, name) in itertools.product(range(count), enumerate(names)):
        yield (tfirst + k, name, "NUMBER", float(i % 10), "PASS", False, "AUTO", T0, first + k)
