"""Responses (a ValidateUnitsResponse) against the real RabbitMQ 3.10: a reply-to `/queue/NAME`
(or a bare NAME) reaches the requester's queue whatever its durability (the consumer sends to
`/amq/queue/NAME`: a `/queue/NAME` link of the other durability was refused, and the request
came back for ever); a missing queue is not declared; a reply the broker refuses for good is
counted and its request settled once, so the messages behind it go on."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from tests.amqp.broker import (
    declare_durable,
    declare_transient,
    delete_queue,
    envelope,
    needs_rabbitmqctl,
    publish,
    queue_depth,
    queue_durable,
)
from tests.amqp.recording_consumer import (
    RecordingSink,
    consumer_of,
    consuming,
    queue_bodies,
    sample,
    until,
)

pytestmark = pytest.mark.amqp

RESPONSE = {"MessageName": "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"}


@pytest.fixture
def reply_queue(amqp_url: str) -> Iterator[str]:
    """A reply queue's name nothing has used yet; deleted after."""
    needs_rabbitmqctl("the reply queue's durability and existence come from rabbitmqctl")
    name = f"mes-test-reply-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        delete_queue(name)


async def answered(amqp_url: str, queue: str, reply_to: str) -> list[Any]:
    """Publish one request with `reply_to`, consume it, and return what its reply queue got
    (body, correlation id)."""
    publish(queue, envelope(1), url=amqp_url, reply_to=reply_to, correlation_id="c-1")
    sink = RecordingSink(response=RESPONSE)
    async with consuming(consumer_of(amqp_url, queue, sink)):
        await until(lambda: len(sink.calls) == 1, "the request")
    # the stop finished the request in hand: replied to and settled
    assert await queue_bodies(amqp_url, queue) == []
    replies = await queue_bodies(amqp_url, reply_to)
    return [(json.loads(bytes(m.body)), m.correlation_id) for m in replies]


FORMS: list[Callable[[str], str]] = [lambda name: f"/queue/{name}", lambda name: name]


@pytest.mark.parametrize("form", FORMS, ids=["/queue/NAME", "NAME"])
async def test_a_durable_reply_queue_declared_up_front_gets_the_response(
    amqp_url: str, queue: str, reply_queue: str, form: Callable[[str], str]
) -> None:
    declare_durable(reply_queue, amqp_url)
    assert await answered(amqp_url, queue, form(reply_queue)) == [(RESPONSE, "c-1")]
    assert queue_durable(reply_queue) is True


@pytest.mark.parametrize("form", FORMS, ids=["/queue/NAME", "NAME"])
async def test_a_transient_reply_queue_gets_the_response(
    amqp_url: str, queue: str, reply_queue: str, form: Callable[[str], str]
) -> None:
    declare_transient(reply_queue, amqp_url)
    assert await answered(amqp_url, queue, form(reply_queue)) == [(RESPONSE, "c-1")]
    assert queue_durable(reply_queue) is False


async def requests_then_next(amqp_url: str, queue: str, reply_to: str) -> RecordingSink:
    """A request whose reply goes nowhere, then a message after it: both consumed."""
    publish(queue, envelope(1), url=amqp_url, reply_to=reply_to, correlation_id="c-1")
    publish(queue, envelope(2), url=amqp_url)
    sink = RecordingSink(response=RESPONSE)
    consumer = consumer_of(amqp_url, queue, sink)
    async with consuming(consumer):
        await until(lambda: len(sink.calls) == 2, "the message after the request")
    assert consumer.failed_connects == 0
    # in order, each once: a request given back would have come again before message 2
    assert [call[0]["UniqueID"][-1] for call in sink.calls] == ["1", "2"]
    assert await queue_bodies(amqp_url, queue) == []
    return sink


async def test_a_reply_to_a_missing_queue_is_not_declared_and_its_request_is_settled(
    amqp_url: str, queue: str, reply_queue: str
) -> None:
    """RabbitMQ takes a message to a missing `/amq/queue/NAME` and drops it (no route): the
    requester is gone, and no queue is left behind filling with its responses."""
    await requests_then_next(amqp_url, queue, f"/queue/{reply_queue}")
    assert queue_depth(reply_queue) is None


async def test_a_refused_reply_is_counted_and_its_request_settled_once(
    amqp_url: str, queue: str
) -> None:
    """A reply-to naming a missing exchange: the broker refuses the reply's link (NOT_FOUND,
    ending its session); the request is settled all the same, and the consumer goes on
    (on the same connection) with the next message."""
    failed = sample("mes_cfx_reply_failed_total")
    missing = f"/exchange/mes-test-missing-{uuid.uuid4().hex[:12]}/key"
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await requests_then_next(amqp_url, queue, missing)
    assert sample("mes_cfx_reply_failed_total") - failed == 1
    assert [e["event"] for e in logs].count("amqp.connected") == 1  # no reconnect
    [refused] = [e for e in logs if e["event"] == "amqp.reply_refused"]
    assert (refused["reply_to"], refused["condition"]) == (missing, "amqp:not-found")
    assert "NOT_FOUND" in refused["error"] and "guest:guest" not in refused["error"]
