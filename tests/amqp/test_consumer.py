"""`mes cfx consume`'s loop against the real broker (RabbitMQ's AMQP 1.0 plugin): envelopes
reach the sink in order and their message is settled after; an unreadable body is stored as a
rejection and settled; a sink that raises leaves its message to the next consumer; a broker
that is not there yet is retried with backoff; a stop finishes the message in hand."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import uuid
from typing import Any

import pytest

from domain.actors import Actor, TokenRevoked
from domain.enums import IngestEventType
from domain.errors import DomainError, ErrorCode
from domain.ingest.raw_body import record_unreadable
from domain.ports import RejectionFilter
from domain.usecases.tokens import RevokeToken
from graphql_api.bootstrap import Services
from graphql_api.cfx_amqp import TokenRevokedStop
from graphql_api.cli_cfx import token_actor
from tests.amqp.broker import declare_transient, delete_queue, envelope, free_port, gzipped, publish
from tests.amqp.recording_consumer import (
    WAIT_S,
    RecordingSink,
    RecordingStore,
    Result,
    consumer_of,
    consuming,
    queue_bodies,
    sample,
    until,
)
from tests.conftest import make_token, unique

pytestmark = pytest.mark.amqp


async def test_envelopes_reach_the_sink_in_order_and_their_messages_are_settled(
    amqp_url: str, queue: str
) -> None:
    consumed, accepted = sample("mes_cfx_consumed_total"), sample("mes_cfx_accepted_total")
    publish(queue, envelope(1), [envelope(2), envelope(3)], url=amqp_url)
    publish(queue, gzipped([envelope(4)]), gzipped(envelope(5)), url=amqp_url)
    sink = RecordingSink()
    async with consuming(consumer_of(amqp_url, queue, sink)):
        await until(lambda: len(sink.calls) == 4, "four messages")
    ids = [[e["UniqueID"][-1] for e in call] for call in sink.calls]
    assert ids == [["1"], ["2", "3"], ["4"], ["5"]]
    assert await queue_bodies(amqp_url, queue) == []  # all settled: none comes back
    assert sample("mes_cfx_consumed_total") - consumed == 4
    assert sample("mes_cfx_accepted_total") - accepted == 5


async def test_an_unreadable_body_is_stored_and_settled(amqp_url: str, queue: str) -> None:
    publish(queue, b"not json at all", b"\x1f\x8bnot gzip", b"42", envelope(9), url=amqp_url)
    sink, store = RecordingSink(), RecordingStore()
    async with consuming(consumer_of(amqp_url, queue, sink, store)):
        await until(lambda: len(sink.calls) == 1, "the good message after the bad ones")
    assert [(s, b) for s, b, _ in store.stored] == [
        (f"amqp:{queue}", b"not json at all"),
        (f"amqp:{queue}", b"\x1f\x8bnot gzip"),
        (f"amqp:{queue}", b"42"),
    ]
    messages = [e.message for _, _, e in store.stored]
    assert "not JSON" in messages[0] and "gzip" in messages[1] and "JSON int" in messages[2]
    assert {e.code.value for _, _, e in store.stored} == {"INGEST_PAYLOAD_INVALID"}
    assert await queue_bodies(amqp_url, queue) == []


async def test_a_sink_that_raises_leaves_the_message_to_the_next_consumer(
    amqp_url: str, queue: str
) -> None:
    publish(queue, envelope(1), url=amqp_url)
    failing = RecordingSink(fail=True)
    first = consumer_of(amqp_url, queue, failing)
    async with consuming(first):
        await until(lambda: len(failing.calls) >= 1, "the failing sink's call")
        await until(lambda: first.backoff.next_s > first.backoff.initial_s, "a backoff")
    sink = RecordingSink()
    async with consuming(consumer_of(amqp_url, queue, sink)):
        await until(lambda: len(sink.calls) == 1, "the redelivery")
    assert sink.calls[0][0]["UniqueID"].endswith("1")
    assert await queue_bodies(amqp_url, queue) == []


async def test_a_stop_finishes_the_message_in_hand(amqp_url: str, queue: str) -> None:
    publish(queue, envelope(1), url=amqp_url)
    gate = asyncio.Event()
    sink = RecordingSink(gate=gate)
    consumer = consumer_of(amqp_url, queue, sink)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await until(lambda: len(sink.calls) == 1, "the message")
    stop.set()  # SIGTERM while the pipeline works on it
    await asyncio.sleep(0.1)
    assert not task.done()
    gate.set()
    await asyncio.wait_for(task, WAIT_S)
    await asyncio.get_running_loop().run_in_executor(None, consumer.link.shutdown)
    assert await queue_bodies(amqp_url, queue) == []  # settled before the connection closed


class Proxy:
    """A TCP proxy to the broker on `port`, listening once `start`ed; `cut` breaks every
    connection through it (the broker going away, as the consumer sees it)."""

    def __init__(self, port: int, broker_port: int):
        self.port, self.broker_port = port, broker_port
        self.server: asyncio.Server | None = None
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def proxied(amqp_url: str) -> tuple[str, Proxy]:
    port = free_port()
    proxy = Proxy(port, int(amqp_url.rsplit(":", 1)[1]))
    return amqp_url.rsplit(":", 1)[0] + f":{port}", proxy


async def test_a_broker_not_there_at_start_is_retried_with_backoff(
    amqp_url: str, queue: str
) -> None:
    """The consumer starts against a port nobody listens on (connection refused); once a
    proxy to the broker listens there, it connects and consumes."""
    url, proxy = proxied(amqp_url)
    publish(queue, envelope(1), url=amqp_url)
    sink = RecordingSink()
    consumer = consumer_of(url, queue, sink)
    try:
        async with consuming(consumer):
            await until(lambda: consumer.failed_connects >= 3, "three refused connections")
            assert consumer.backoff.next_s == 0.2  # 0.05, 0.1, 0.2: doubled, then capped
            await proxy.start()
            await until(lambda: len(sink.calls) == 1, "the message once the broker is there")
    finally:
        proxy.close()
    assert consumer.backoff.next_s == consumer.backoff.initial_s  # reset by a success


async def test_a_broken_connection_is_made_again(amqp_url: str, queue: str) -> None:
    url, proxy = proxied(amqp_url)
    await proxy.start()
    publish(queue, envelope(1), url=amqp_url)
    sink = RecordingSink()
    consumer = consumer_of(url, queue, sink)
    try:
        async with consuming(consumer):
            await until(lambda: len(sink.calls) == 1, "the first message")
            await asyncio.sleep(0.1)  # settled
            proxy.cut()
            publish(queue, envelope(2), url=amqp_url)
            await until(lambda: len(sink.calls) == 2, "the message after the break")
    finally:
        proxy.close()
    assert proxy.connections == 2
    assert [c[0]["UniqueID"][-1] for c in sink.calls] == ["1", "2"]
    assert await queue_bodies(amqp_url, queue) == []


async def test_unreadable_bodies_become_rejections_in_the_database(
    amqp_url: str, queue: str, services: Services
) -> None:
    """Through the broker into the real rejection storage (both databases): not replayable,
    the body kept, its SHA-256 the key; the same body again is another attempt of it."""
    ingest = services.ingest

    async def store(source: str, body: bytes, err: DomainError, actor: Actor) -> None:
        await record_unreadable(ingest.uow_factory, ingest.clock, source, body, err, actor, 1000)

    bad, nul = b'{"MessageName": ', b"\x00\x01binary"
    publish(queue, bad, nul, bad, envelope(1), url=amqp_url)
    sink = RecordingSink()
    consumer = consumer_of(amqp_url, queue, sink)
    consumer.store_unreadable = store
    async with consuming(consumer):
        await until(lambda: len(sink.calls) == 1, "the good message after the bad ones")
    assert await queue_bodies(amqp_url, queue) == []
    page, _ = await services.store.rejections_page(
        RejectionFilter(source_system=f"amqp:{queue}"), 10, None
    )
    by_key = {r.dedupe_key: r for r in page}
    assert set(by_key) == {hashlib.sha256(bad).hexdigest(), hashlib.sha256(nul).hexdigest()}
    text = by_key[hashlib.sha256(bad).hexdigest()]
    assert (text.attempts, text.replayable, text.event_type) == (2, False, IngestEventType.INFO)
    assert text.error_code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert "not JSON" in text.error_message
    assert text.input["payload"] == {"text": bad.decode(), "bytes": len(bad), "gzip": False}
    binary = by_key[hashlib.sha256(nul).hexdigest()]
    assert binary.input["payload"]["base64"] == base64.b64encode(nul).decode()
    assert not binary.replayable


async def test_a_revoked_token_stops_the_consumer_and_gives_its_message_back(
    amqp_url: str, queue: str
) -> None:
    class RevokedSink(RecordingSink):
        async def receive(self, envelopes: list[Any], actor: Actor) -> list[Any]:
            self.calls.append(envelopes)
            error = {"code": "FORBIDDEN", "details": {"reason": "TOKEN_REVOKED"}}
            return [Result(e.get("UniqueID"), "REJECTED", error) for e in envelopes]

    publish(queue, envelope(1), url=amqp_url)
    sink = RevokedSink()
    consumer = consumer_of(amqp_url, queue, sink)
    with pytest.raises(TokenRevokedStop, match="was revoked"):
        await asyncio.wait_for(consumer.run(asyncio.Event()), WAIT_S)
    await asyncio.get_running_loop().run_in_executor(None, consumer.link.shutdown)
    assert len(sink.calls) == 1
    assert len(await queue_bodies(amqp_url, queue)) == 1  # not settled: still there


async def test_a_revoked_token_stores_no_unreadable_body(services: Services) -> None:
    secret = await make_token(services, scopes="ingest", sources="Vendor.Model.1")
    actor = await token_actor(services.store, secret)
    assert actor.token_name is not None
    await services.bus.handle(RevokeToken(actor.token_name), Actor("test", "revoke"))
    ingest, source = services.ingest, unique("amqp:/queue/q")
    err = DomainError(ErrorCode.INGEST_PAYLOAD_INVALID, "the body is not JSON")
    with pytest.raises(TokenRevoked):
        await record_unreadable(ingest.uow_factory, ingest.clock, source, b"x", err, actor, 100)
    page, _ = await services.store.rejections_page(RejectionFilter(source_system=source), 10, None)
    assert page == []


async def test_a_response_goes_to_the_reply_to_address_with_the_correlation_id(
    amqp_url: str, queue: str
) -> None:
    reply_queue = f"mes-test-reply-{uuid.uuid4().hex[:12]}"
    response = {"MessageName": "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"}
    declare_transient(reply_queue, amqp_url)  # the requester's queue, there before it asks
    publish(
        queue, envelope(1), url=amqp_url, reply_to=f"/queue/{reply_queue}", correlation_id="c-7"
    )
    sink = RecordingSink(response=response)
    try:
        async with consuming(consumer_of(amqp_url, queue, sink)):
            await until(lambda: len(sink.calls) == 1, "the request")
        replies = await queue_bodies(amqp_url, f"/queue/{reply_queue}")
    finally:
        delete_queue(reply_queue)
    assert [(json.loads(bytes(m.body)), m.correlation_id) for m in replies] == [(response, "c-7")]
    assert await queue_bodies(amqp_url, queue) == []
