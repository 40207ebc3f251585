"""The CFX consumer under faults (issue 21), on SQLite and PostgreSQL: 1,000 envelopes (10% of them sent
twice, some SPI/AOI pairs out of order, some refused on purpose; some messages gzip, some
arrays) published to a fresh queue and consumed by the real `mes cfx consume` process, which
is killed (-9) mid-stream and restarted, and whose broker is stopped and started again
(`rabbitmqctl stop_app; start_app`) while messages are in flight. Afterwards every distinct
envelope is exactly once an accepted event or a rejection (none left parked), a resend made
no second event, the early AOI results were parked and re-driven, the queue is empty.

The factory: a database of its own (a SQLite file, or a PostgreSQL database made for the
test and dropped after) with one route, SPI then AOI (two AUTO steps whose
stations know their CFX handles, `{"format": "CFX"}`), and 400 units; the envelopes are the
published UnitsInspected (SPI, lean) example's shape, one per unit and step."""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.amqp import AmqpLink
from adapters.settings import Settings
from domain import master as dm
from domain.actors import Actor
from domain.enums import StationType, WorkOrderStatus
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import bootstrap
from tests.amqp.broker import (
    declare_durable,
    delete_queue,
    drain,
    needs_rabbitmqctl,
    publish,
    queue_depth,
    start_app,
    stop_app,
)
from tests.conftest import make_token
from tests.pg import fresh_database

pytestmark = pytest.mark.amqp

CFX = Path(__file__).parents[1] / "fixtures" / "cfx"
EXAMPLE = "CFX.Production.TestAndInspection.UnitsInspected.spi-lean.json"
SPI, AOI = "Fault.SPI.Machine01", "Fault.AOI.Machine02"
LINE, ROUTE, WO, RUN = "FLT-LINE", "FLT-ROUTE", "FLT-WO", "FLT-RUN"
UNITS, OUT_OF_ORDER, REFUSED, DUPLICATES = 400, 50, 100, 100
#: one run's bound (it takes 25-35 s here, on either database): the file stays under 3 minutes
DEADLINE_S = 60.0
NATIVE = {"format": "CFX"}


@dataclass
class Plan:
    """What is sent, in order, and what each distinct envelope must end as."""

    #: the AMQP messages' bodies, in order (an envelope, an array of them, gzip bytes)
    messages: list[Any] = field(default_factory=list)
    #: (source, UniqueID) of those that must be accepted events
    accepted: set[tuple[str, str]] = field(default_factory=set)
    #: (source, UniqueID) of those that must be rejections (an unknown unit)
    refused: set[tuple[str, str]] = field(default_factory=set)
    #: (source, UniqueID) of the AOI results sent before their board's SPI result
    early: set[tuple[str, str]] = field(default_factory=set)
    sent: int = 0


def inspected(source: str, sn: str, at_s: int) -> dict[str, Any]:
    """The published example (SPI, lean) for one board, as `source` sends it."""
    env = json.loads((CFX / EXAMPLE).read_text())
    env["Source"] = source
    env["UniqueID"] = str(uuid.uuid4())
    env["TimeStamp"] = time.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00", time.gmtime(at_s))
    [board] = env["MessageBody"]["InspectedUnits"]
    board["UnitIdentifier"] = sn
    return dict(env)


def plan(sns: list[str], seed: int = 21) -> Plan:
    rng = random.Random(seed)
    start = int(time.time()) - 3600
    out = Plan()
    stream: list[tuple[float, dict[str, Any]]] = []
    early = set(rng.sample(range(len(sns)), OUT_OF_ORDER))
    for i, sn in enumerate(sns):
        spi, aoi = inspected(SPI, sn, start + i), inspected(AOI, sn, start + i + 60)
        out.accepted |= {(SPI, spi["UniqueID"]), (AOI, aoi["UniqueID"])}
        if i in early:  # the AOI's result first: right before its SPI's, or well before
            out.early.add((AOI, aoi["UniqueID"]))
            stream += [(i, aoi), (i + rng.choice([0.1, rng.uniform(1, 40)]), spi)]
        else:
            stream += [(i, spi), (i + rng.uniform(0.1, 30), aoi)]
    for n in range(REFUSED):
        bad = inspected(SPI, f"FLT-UNKNOWN-{n:04d}", start + n)
        out.refused.add((SPI, bad["UniqueID"]))
        stream.append((rng.uniform(0, len(sns)), bad))
    envelopes = [env for _, env in sorted(stream, key=lambda pair: pair[0])]
    for _ in range(DUPLICATES):  # the same envelope again: right after it, or later
        at = rng.randrange(len(envelopes))
        again = at + 1 if rng.random() < 0.5 else rng.randint(at + 1, len(envelopes))
        envelopes.insert(again, copy.deepcopy(envelopes[at]))
    out.sent = len(envelopes)
    while envelopes:
        size = 1 if rng.random() < 0.6 else rng.randint(2, 5)
        batch, envelopes = envelopes[:size], envelopes[size:]
        body: Any = batch[0] if size == 1 and rng.random() < 0.7 else batch
        out.messages.append(
            gzip.compress(json.dumps(body).encode()) if rng.random() < 0.3 else body
        )
    return out


@dataclass(frozen=True)
class Factory:
    url: str
    engine: AsyncEngine
    sns: list[str]
    #: an ingest token's secret for both machines
    secret: str


@pytest.fixture
async def factory(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Factory]:
    """A database of its own (a SQLite file the consumer process opens too, or a PostgreSQL
    database): the SPI → AOI route, its stations, 400 units."""
    pg_url = request.getfixturevalue("pg_url") if backend != "sqlite" else None
    async with fresh_database(backend, tmp_path, pg_url, "mes_fault") as (url, engine):
        services = bootstrap(Settings(database_url=url), engine=engine)
        actor = Actor(name="test", request_id="cfx-fault")

        async def do(cmd: Any) -> Any:
            return await services.bus.handle(cmd, actor)

        await do(md.UpsertLine(dm.Line(LINE, "Fault line")))
        for op, handle in (("F-SPI", SPI), ("F-AOI", AOI)):
            await do(md.UpsertStationGroup(dm.StationGroup(op, op)))
            await do(md.UpsertOperation(dm.Operation(op, op, StationType.AUTO)))
            station = dm.Station(op, op, StationType.AUTO, LINE, op, cfx_handle=handle)
            await do(md.UpsertStation(station))
        steps = (dm.RoutingStep(10, "F-SPI"), dm.RoutingStep(20, "F-AOI"))
        await do(md.UpsertRouting(dm.Routing(ROUTE, ROUTE, "MES", None, "FLT-BRD", True, steps)))
        for no, group in ((10, "F-SPI"), (20, "F-AOI")):
            config = dm.ExecutionConfig(
                ROUTE, step_no=no, station_group_code=group, ingest_mapping=NATIVE
            )
            await do(md.SetExecutionConfig(config))
        version = await do(md.CompileRouting(ROUTE))
        assert version.is_ready, version.errors
        await do(prod.ReceiveWorkOrder(WO, "FLT-BRD", UNITS, ROUTE))
        if (await services.store.work_orders([WO]))[WO].status is WorkOrderStatus.RECEIVED:
            await do(prod.ReleaseWorkOrder(WO))
        await do(prod.CreateRun(WO, LINE, UNITS, run_no=RUN, shift_code="A"))
        await do(prod.AuthorizeRun(RUN))
        sns = [f"FLT-{n:05d}" for n in range(UNITS)]
        await do(prod.RegisterUnits(RUN, sns=tuple(sns)))
        secret = await make_token(services, "ingest", f"{SPI},{AOI}")
        yield Factory(url, engine, sns, secret)


@dataclass(frozen=True)
class Stored:
    events: list[tuple[str, str]]
    #: the events accepted by a re-drive (acceptedAt set)
    redriven: list[tuple[str, str]]
    rejections: list[tuple[str, str, str]]
    parked: list[tuple[str, str]]

    @property
    def keys(self) -> int:
        return len(self.events) + len(self.rejections) + len(self.parked)


async def stored(engine: AsyncEngine) -> Stored:
    async with engine.connect() as conn:

        async def rows(sql: str) -> list[Any]:
            return list((await conn.execute(text(sql))).all())

        events = await rows(
            "SELECT source_system, dedupe_key, accepted_at IS NOT NULL FROM ingest_event"
        )
        rejections = await rows(
            "SELECT source_system, dedupe_key, error_code FROM ingest_rejection"
        )
        parked = await rows("SELECT source_system, dedupe_key FROM parked_event")
    return Stored(
        [(s, k) for s, k, _ in events],
        [(s, k) for s, k, again in events if again],
        [(s, k, c) for s, k, c in rejections],
        [(s, k) for s, k in parked],
    )


class Consumer:
    """`mes cfx consume` as a process (its output in `log`)."""

    def __init__(self, url: str, address: str, database_url: str, secret: str, log: Path):
        self.command = [
            sys.executable, "-c", "from graphql_api.cli import main; main()",
            "cfx", "consume", "--url", url, "--address", address,
            "--database-url", database_url, "--prefetch", "20",
        ]  # fmt: skip
        self.env = {**os.environ, "MES_CFX_TOKEN": secret}
        self.log = log
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        root = Path(__file__).parents[2]
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=root
            )
        self.procs.append(proc)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.procs[-1]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def running(self) -> None:
        assert self.proc.poll() is None, f"the consumer ended:\n{self.output()}"

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def queue(amqp_url: str) -> Iterator[str]:
    """A fresh durable queue (a transient one would be gone, with its messages, after the
    broker's restart: tests/amqp/broker.py `declare_durable`), as the existing queue's address
    `/amq/queue/NAME`; deleted after."""
    name = f"mes-test-fault-{uuid.uuid4().hex[:12]}"
    try:
        yield declare_durable(name, amqp_url)
    finally:
        delete_queue(name)


@pytest.fixture
def consumer(amqp_url: str, queue: str, factory: Factory, tmp_path: Path) -> Iterator[Consumer]:
    made = Consumer(amqp_url, queue, factory.url, factory.secret, tmp_path / "consumer.log")
    try:
        yield made
    finally:
        made.kill_all()


@pytest.fixture
def restartable() -> Iterator[None]:
    """The broker may be stopped here (root, rabbitmqctl); it is running again afterwards
    (before the queue is deleted: request this fixture after `queue`)."""
    needs_rabbitmqctl("the fault test stops and starts the broker")
    try:
        yield
    finally:
        start_app()  # idempotent: running again even when the test failed while it was stopped


async def until(engine: AsyncEngine, consumer: Consumer, deadline: float, keys: int) -> Stored:
    """Poll until at least `keys` distinct envelopes are stored (events, rejections, parked)."""
    while True:
        now = await stored(engine)
        if now.keys >= keys:
            return now
        consumer.running()
        assert time.monotonic() < deadline, f"{now.keys} of {keys} stored:\n{consumer.output()}"
        await asyncio.sleep(0.05)


async def test_killed_consumer_and_restarted_broker_keep_each_envelope_once(
    queue: str, restartable: None, factory: Factory, consumer: Consumer, amqp_url: str
) -> None:
    began = time.monotonic()
    deadline = began + DEADLINE_S
    sent = plan(factory.sns)
    distinct = len(sent.accepted) + len(sent.refused)
    assert (sent.sent, distinct) == (UNITS * 2 + REFUSED + DUPLICATES, UNITS * 2 + REFUSED)
    half = len(sent.messages) // 2
    name = queue.removeprefix("/amq/queue/")
    # persistent, in a durable queue: a broker that stops keeps them
    publish(queue, *sent.messages[:half], url=amqp_url, durable=True)
    consumer.start()
    publish(queue, *sent.messages[half:], url=amqp_url, durable=True)  # while it consumes

    # kill -9 mid-stream: what it took and did not settle comes back
    await until(factory.engine, consumer, deadline, distinct // 3)
    assert (queue_depth(name) or 0) > 0, "nothing left in flight to kill the consumer over"
    consumer.proc.send_signal(signal.SIGKILL)
    consumer.proc.wait(10)
    consumer.start()

    # the broker goes away and comes back: the consumer reconnects by itself
    await until(factory.engine, consumer, deadline, 2 * distinct // 3)
    assert (queue_depth(name) or 0) > 0, "nothing left in flight to restart the broker over"
    stop_app()
    await asyncio.sleep(1.0)
    consumer.running()
    start_app()

    # let it drain: every distinct envelope kept, nothing parked, the queue empty
    while True:
        now = await stored(factory.engine)
        depth = queue_depth(name)
        if now.keys == distinct and not now.parked and depth == 0:
            break
        consumer.running()
        assert time.monotonic() < deadline, (
            f"{len(now.events)} events, {len(now.rejections)} rejections, {len(now.parked)} "
            f"parked of {distinct}; {depth} in the queue:\n{consumer.output()}"
        )
        await asyncio.sleep(0.1)
    consumer.proc.send_signal(signal.SIGTERM)
    assert consumer.proc.wait(20) == 0, consumer.output()
    assert drain(queue, amqp_url) == []
    runtime = time.monotonic() - began

    # each distinct envelope exactly once: an accepted event or a rejection, never both
    assert sorted(now.events) == sorted(sent.accepted)  # no second event for a resend
    assert sorted((s, k) for s, k, _ in now.rejections) == sorted(sent.refused)
    assert {code for _, _, code in now.rejections} == {"UNIT_NOT_FOUND"}
    assert now.parked == []
    # the AOI results sent before their SPI's were parked, then re-driven and accepted
    assert sorted(now.redriven) == sorted(sent.early)
    async with factory.engine.connect() as conn:
        tracks = (await conn.execute(text(
            "SELECT step_no, count(*) FROM track GROUP BY step_no ORDER BY step_no"
        ))).all()  # fmt: skip
    assert [tuple(t) for t in tracks] == [(10, UNITS), (20, UNITS)]
    log = consumer.log.read_text(errors="replace")
    assert "amqp.connection_lost" in log or "amqp.connect_failed" in log, consumer.output()
    password = urlsplit(amqp_url).password
    assert password is None or f":{password}@" not in log, "the broker's password was logged"
    print(
        f"fault run: {runtime:.1f} s, {sent.sent} envelopes in {len(sent.messages)} messages: "
        f"{len(now.events)} events ({len(now.redriven)} re-driven), "
        f"{len(now.rejections)} rejections"
    )


async def test_a_settlement_reaches_the_broker_at_once(queue: str, amqp_url: str) -> None:
    """proton's BlockingReceiver settles only locally, and does no I/O while a prefetched
    message waits: the link sends each settlement before it returns (else a consumer killed
    after keeping messages would get up to `prefetch` of them again)."""
    needs_rabbitmqctl("the broker's count of unsettled messages comes from rabbitmqctl")
    name = queue.removeprefix("/amq/queue/")
    publish(queue, *[{"n": n} for n in range(30)], url=amqp_url)
    link = AmqpLink(amqp_url, queue, prefetch=20, timeout=5)
    try:
        await link.connect()
        for _ in range(3):
            assert await link.receive(5) is not None
            await link.accept()
        for _ in range(100):  # the broker counts them within a few ms
            if queue_depth(name) == 27:
                break
            await asyncio.sleep(0.05)
        assert queue_depth(name) == 27  # 3 settled; 17 prefetched and 10 waiting remain
    finally:
        await asyncio.get_running_loop().run_in_executor(None, link.shutdown)
