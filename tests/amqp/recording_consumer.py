"""The consumer of tests/amqp/ under test against the real broker: a sink that records what it
got (and can fail, wait at a gate, or answer with a response), a store of unreadable bodies
that records them, the consumer running until the block ends, and polling with a bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.amqp import AmqpLink
from domain.actors import Actor
from domain.errors import DomainError
from graphql_api import metrics
from graphql_api.cfx_amqp import Backoff, CfxConsumer
from tests.amqp.broker import drain

ACTOR = Actor(name="machine", request_id="test")
WAIT_S = 15.0


def sample(name: str) -> float:
    labels = {"status": "ACCEPTED"} if name == "mes_cfx_accepted_total" else {}
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class Result:
    unique_id: str | None
    status: str
    error: Any = None
    event_id: int | None = None
    response: Any = None


@dataclass
class RecordingSink:
    """Keeps what it got; `fail` makes it raise (a database that is down)."""

    calls: list[list[Any]] = field(default_factory=list)
    fail: bool = False
    gate: asyncio.Event | None = None
    #: the response envelope its results carry (a ValidateUnitsResponse)
    response: Any = None

    async def receive(self, envelopes: list[Any], actor: Actor) -> list[Any]:
        self.calls.append(envelopes)
        assert actor.name == ACTOR.name and actor.request_id.startswith("amqp-")
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("the database is down")
        return [Result(e.get("UniqueID"), "ACCEPTED", response=self.response) for e in envelopes]


@dataclass
class RecordingStore:
    stored: list[tuple[str, bytes, DomainError]] = field(default_factory=list)

    async def __call__(self, source: str, body: bytes, err: DomainError, actor: Actor) -> None:
        self.stored.append((source, body, err))


async def until(check: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def consuming(consumer: CfxConsumer) -> AsyncIterator[asyncio.Event]:
    """The consumer running; on leaving, stopped (its connection closed)."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_S)
        await asyncio.get_running_loop().run_in_executor(None, consumer.link.shutdown)


def consumer_of(
    url: str, address: str, sink: RecordingSink, store: RecordingStore | None = None
) -> CfxConsumer:
    return CfxConsumer(
        AmqpLink(url, address, prefetch=5, timeout=5),
        sink,
        store or RecordingStore(),
        ACTOR,
        max_body_bytes=64 * 1024,
        backoff=Backoff(0.05, 0.2),
    )


async def queue_bodies(url: str, address: str) -> list[Any]:
    return await asyncio.get_running_loop().run_in_executor(None, drain, address, url)
