"""`mes cfx consume`'s loop (issue 21): CFX envelopes from an AMQP 1.0 queue into the pipeline.

One message at a time, in order: receive it (adapters.amqp, proton in its own thread), read
its body into envelopes, hand them to the sink (the CFX pipeline, which commits, parks or
stores each as a rejection), and only then accept (settle) it. So:

- a body that cannot be read at all is stored as a rejection (domain/ingest/raw_body.py) and
  then accepted: nothing lost, nothing redelivered for ever;
- a sink that raises (the database is down) leaves its message unsettled: it is released
  (the broker redelivers it), the connection is closed (the messages prefetched behind it go
  back in order) and the consumer waits (capped exponential backoff) before it connects again;
- a broker that goes away (or is not there at start): the same wait, then a new connection;
- `stop` (SIGTERM/SIGINT) is looked at between messages: the message in hand is finished and
  settled first, then the connection is closed;
- a result that carries a `response` envelope (a ValidateUnitsResponse) is sent to the
  message's reply-to address with its correlation id (else its message id) before the
  message is settled; a reply the broker refuses for good (a missing exchange, say) is logged,
  counted and the request settled all the same: retrying it would hold the queue for ever;
- a token revoked while it consumes (an envelope refused with reason TOKEN_REVOKED, which
  stores nothing): that message is released and the consumer stops (TokenRevokedStop), so
  nothing is settled that was not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import structlog

from adapters.amqp import AmqpLink, AmqpMessage, AmqpUnavailable, ReplyRefused, scrub
from domain.actors import Actor, TokenRevoked
from domain.errors import DomainError, ErrorCode
from domain.ingest.raw_body import read_body
from graphql_api import metrics

log = structlog.get_logger("mes.cfx.amqp")

#: how long one receive waits before `stop` is looked at again
POLL_S = 0.5


class EnvelopeSink(Protocol):
    """Where envelopes go: the CFX pipeline (`Services.cfx`, domain.cfx.receive.CfxReceiver).
    It returns one result per envelope, in order, each with `status` (ACCEPTED, DUPLICATE,
    PARKED, REJECTED) and `error` (None, or one with a `code`); once it returned, every
    envelope is committed, parked or stored as a rejection. It raises when it could not."""

    async def receive(self, envelopes: list[Any], actor: Actor) -> list[Any]: ...


#: stores a body that could not be read: (source, body, error, actor)
UnreadableStore = Callable[[str, bytes, DomainError, Actor], Awaitable[Any]]


@dataclass
class Backoff:
    """Capped exponential waits: initial, doubled after each failure up to maximum; reset
    after a success."""

    initial_s: float = 0.5
    maximum_s: float = 30.0
    next_s: float = 0.0

    def __post_init__(self) -> None:
        self.next_s = self.initial_s

    def failed(self) -> float:
        wait, self.next_s = self.next_s, min(self.next_s * 2, self.maximum_s)
        return wait

    def reset(self) -> None:
        self.next_s = self.initial_s


def status_of(result: Any) -> str:
    status = getattr(result, "status", None)
    return str(getattr(status, "value", status))


def code_of(result: Any) -> str:
    error = getattr(result, "error", None)
    code = getattr(error, "code", None) if error is not None else None
    if isinstance(error, dict):
        code = error.get("code")
    return str(getattr(code, "value", code or ""))


def revoked(result: Any) -> bool:
    """Was this envelope refused because the token was revoked meanwhile (nothing stored)?"""
    error = getattr(result, "error", None)
    details = error.get("details") if isinstance(error, dict) else getattr(error, "details", None)
    return isinstance(details, dict) and details.get("reason") == "TOKEN_REVOKED"


def lag_of(envelope: Any, msg: AmqpMessage, now: float) -> float | None:
    """Seconds from the envelope's TimeStamp (else the message's creation time) to now."""
    stamp = envelope.get("TimeStamp") if isinstance(envelope, dict) else None
    if isinstance(stamp, str):
        try:
            at = datetime.fromisoformat(stamp.strip())
            if at.tzinfo is not None:
                return now - at.timestamp()
        except ValueError:
            pass
    return None if msg.created_at is None else now - msg.created_at


class CfxConsumer:
    """Consumes `link` into `sink` as `actor` (one request id per message)."""

    def __init__(
        self,
        link: AmqpLink,
        sink: EnvelopeSink,
        store_unreadable: UnreadableStore,
        actor: Actor,
        max_body_bytes: int,
        backoff: Backoff | None = None,
    ):
        self.link = link
        self.sink = sink
        self.store_unreadable = store_unreadable
        self.actor = actor
        self.max_body_bytes = max_body_bytes
        self.backoff = backoff or Backoff()
        self.source = f"amqp:{link.address}"
        #: connection attempts that failed (the tests watch it)
        self.failed_connects = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: connect, consume, and after any failure wait and connect again."""
        while not stop.is_set():
            try:
                await self.link.connect()
            except AmqpUnavailable as err:
                self.failed_connects += 1
                await self._wait(stop, "amqp.connect_failed", str(err))
                continue
            metrics.CFX_CONNECTED.set(1)
            log.info("amqp.connected", address=self.link.address)
            try:
                await self._consume(stop)
            except AmqpUnavailable as err:
                await self._wait(stop, "amqp.connection_lost", str(err))
            except SinkFailed as err:
                await self._wait(stop, "amqp.sink_failed", str(err.__cause__))
            finally:
                metrics.CFX_CONNECTED.set(0)
                await self.link.close()

    async def _wait(self, stop: asyncio.Event, what: str, why: str) -> None:
        wait = self.backoff.failed()
        log.warning(what, error=why, retry_in_s=wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)

    async def _consume(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            msg = await self.link.receive(POLL_S)
            if msg is None:
                continue
            try:
                await self.handle(msg)
            except (SinkFailed, TokenRevokedStop):
                metrics.CFX_RELEASED.inc()
                await self.link.release()
                raise
            await self.link.accept()
            self.backoff.reset()

    async def handle(self, msg: AmqpMessage) -> None:
        """Read one message and hand it on; SinkFailed when it could not be kept (it must not
        be settled then)."""
        metrics.CFX_CONSUMED.inc()
        actor = replace(
            self.actor,
            request_id=f"amqp-{uuid.uuid4().hex}",
            client_request_id=None if msg.message_id is None else msg.message_id[:200],
        )
        try:
            if msg.body is None:
                raise DomainError(
                    ErrorCode.INGEST_PAYLOAD_INVALID,
                    f"the body is an AMQP {type(msg.other).__name__}, not binary or text",
                    {"field": "body"},
                )
            envelopes = read_body(msg.body, msg.content_encoding, self.max_body_bytes)
        except DomainError as err:
            body = msg.body if msg.body is not None else repr(msg.other).encode()
            try:
                await self.store_unreadable(self.source, body, err, actor)
            except TokenRevoked as revoked_err:
                raise TokenRevokedStop(revoked_err.message) from revoked_err
            except Exception as failure:
                raise SinkFailed() from failure
            metrics.CFX_REJECTED.labels(err.code.value).inc()
            log.info("amqp.unreadable", address=self.link.address, error=err.message)
            return
        if not envelopes:
            return
        try:
            results = await self.sink.receive(envelopes, actor)
        except Exception as failure:
            raise SinkFailed() from failure
        if any(revoked(r) for r in results):
            raise TokenRevokedStop(f"token {actor.name!r} was revoked")
        await self._reply(msg, results)
        now = time.time()
        for envelope, result in zip(envelopes, results, strict=False):
            status = status_of(result)
            if status == "REJECTED":
                metrics.CFX_REJECTED.labels(code_of(result)).inc()
            else:
                metrics.CFX_ACCEPTED.labels(status).inc()
            lag = lag_of(envelope, msg, now)
            if lag is not None:
                metrics.CFX_LAG.observe(max(lag, 0.0))

    async def _reply(self, msg: AmqpMessage, results: list[Any]) -> None:
        """Responses to requests (ValidateUnitsRequest) go to the request's reply-to."""
        for result in results:
            response = getattr(result, "response", None)
            if response is None:
                continue
            if msg.reply_to is None:
                log.warning("amqp.no_reply_to", address=self.link.address)
                continue
            body = json.dumps(response, default=str).encode()
            try:
                await self.link.reply(msg.reply_to, body, msg.correlation_id)
            except ReplyRefused as err:
                metrics.CFX_REPLY_FAILED.inc()
                log.warning(
                    "amqp.reply_refused",
                    address=self.link.address,
                    reply_to=scrub(msg.reply_to),
                    condition=err.condition,
                    error=str(err),
                )


class SinkFailed(Exception):
    """The envelopes of a message could not be kept (the cause is chained): not settled."""


class TokenRevokedStop(Exception):
    """The consumer's token was revoked: its message is released and the consumer stops."""
