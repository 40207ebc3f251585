"""The consumer's link asks for a durable source (adapters/amqp.py `DurableTerminus`), against
the real RabbitMQ 3.x: a queue it creates for `/queue/NAME` (or a bare NAME) is durable, so a
broker restart keeps it and its durable messages; a durable queue declared up front (what the
README recommends) attaches both as `/amq/queue/NAME` and `/queue/NAME`; a transient queue
that is already there refuses `/queue/NAME` (the durabilities differ) at once, saying so, and
still attaches as `/amq/queue/NAME` (which declares nothing)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from proton import Message
from proton.utils import BlockingConnection

from adapters.amqp import AmqpLink, AmqpUnavailable
from tests.amqp.broker import (
    declare_durable,
    delete_queue,
    envelope,
    needs_rabbitmqctl,
    publish,
    queue_durable,
)

pytestmark = pytest.mark.amqp


@pytest.fixture
def name(amqp_url: str) -> Iterator[str]:
    """A queue name nothing has used yet; the queue is deleted after."""
    needs_rabbitmqctl("the queue's durability comes from rabbitmqctl list_queues")
    made = f"mes-test-durable-{uuid.uuid4().hex[:12]}"
    try:
        yield made
    finally:
        delete_queue(made)


async def received(url: str, address: str) -> bytes | None:
    """Attach the consumer's link to `address`, take (accept) one message, close the link (the
    messages it was sent ahead go back to the queue)."""
    link = AmqpLink(url, address, prefetch=5, timeout=5)
    try:
        await link.connect()
        msg = await link.receive(5)
        assert msg is not None, f"nothing came from {address}"
        await link.accept()
        return msg.body
    finally:
        await asyncio.get_running_loop().run_in_executor(None, link.shutdown)


@pytest.mark.parametrize("form", ["/queue/{}", "{}"])
async def test_a_queue_the_consumer_creates_is_durable(amqp_url: str, name: str, form: str) -> None:
    assert queue_durable(name) is None  # not there yet: the consumer's attach declares it
    link = AmqpLink(amqp_url, form.format(name), timeout=5)
    try:
        await link.connect()
        assert queue_durable(name) is True
    finally:
        await asyncio.get_running_loop().run_in_executor(None, link.shutdown)


async def test_a_durable_queue_declared_up_front_attaches_both_ways(
    amqp_url: str, name: str
) -> None:
    existing = declare_durable(name, amqp_url)
    publish(existing, envelope(1), envelope(2), url=amqp_url, durable=True)
    assert await received(amqp_url, existing) is not None
    assert await received(amqp_url, f"/queue/{name}") is not None
    assert queue_durable(name) is True


async def test_a_transient_queue_refuses_the_durable_link_saying_why(
    amqp_url: str, name: str
) -> None:
    conn = BlockingConnection(amqp_url, timeout=5)
    try:  # a link of no durability (proton's default) makes the queue transient
        conn.create_sender(f"/queue/{name}").send(Message(body=b'{"n": 1}'))
    finally:
        conn.close()
    assert queue_durable(name) is False
    with pytest.raises(AmqpUnavailable) as refused:
        await received(amqp_url, f"/queue/{name}")
    assert "PRECONDITION_FAILED" in str(refused.value), refused.value
    assert "'durable'" in str(refused.value), refused.value
    # the existing queue's own address declares nothing: it attaches
    assert await received(amqp_url, f"/amq/queue/{name}") == b'{"n": 1}'


async def test_a_missing_existing_queue_is_refused_saying_why(amqp_url: str, name: str) -> None:
    with pytest.raises(AmqpUnavailable) as refused:
        await received(amqp_url, f"/amq/queue/{name}")
    assert "NOT_FOUND" in str(refused.value), refused.value
