"""An AMQP 1.0 receiving link (python-qpid-proton's blocking API), driven from asyncio.

proton's BlockingConnection runs its own reactor inside each blocking call; it is not safe to
use from two threads at once. `AmqpLink` therefore makes every proton call in one dedicated
thread (a single-worker executor), one call at a time, and the asyncio side awaits them: the
consumer awaits `receive`, then the database work, then `accept` — so a message is settled in
the thread that owns the connection, and only after its work is done. The receiver's credit
(`prefetch`) lets the broker send the next messages meanwhile; any that are unsettled when the
connection closes are redelivered by the broker.

The receiver asks for a durable source terminus (`DurableTerminus`): RabbitMQ 3.x's AMQP 1.0
plugin declares the queue of a `/queue/NAME` (or bare `NAME`) address with the terminus's
durability, so a queue the consumer creates that way survives a broker restart with its
durable messages (a non-durable terminus made a transient queue: a restart deleted it).

Replies (a ValidateUnitsResponse) go out on a session of their own (`reply`): RabbitMQ refuses
a bad reply address by ending the session, which would take the receiver, and with it the
settlement of the request in hand, along; on its own session a refusal ends only the replies'
(`ReplyRefused`), the request is still settled on the receiver's, and the next reply opens a
new one. A reply to `/queue/NAME` (or a bare NAME) goes to `/amq/queue/NAME` (`reply_address`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from proton import Endpoint, Message, ProtonException, Session, Terminus, Timeout
from proton.reactor import LinkOption
from proton.utils import BlockingConnection, BlockingReceiver, BlockingSender, LinkDetached

T = TypeVar("T")


class AmqpUnavailable(Exception):
    """The broker cannot be reached, refused us, or the connection broke."""


@dataclass(frozen=True, slots=True)
class AmqpMessage:
    """What the consumer reads of a received message."""

    body: bytes | None
    #: the body when it was neither binary nor text (an AMQP value of another type)
    other: Any
    content_encoding: str | None
    #: the message's creation time (seconds since the epoch), when the sender set one
    created_at: float | None
    message_id: str | None
    #: where a request wants its response (a ValidateUnitsRequest), and the id to answer with
    reply_to: str | None = None
    correlation_id: Any = None


class DurableTerminus(LinkOption):
    """A link whose node end (a receiver's source, a sender's target) is durable
    (`configuration`: the consumer does not resume links, so it claims no durable unsettled
    state). RabbitMQ 3.x declares the queue of `/queue/NAME` durable for it, transient for a
    non-durable one; `/amq/queue/NAME` (an existing queue) is never declared, so any
    durability attaches there. A queue that exists with the other durability refuses the
    attach (PRECONDITION_FAILED, ending the session: `SessionEnded`)."""

    def apply(self, link: Any) -> None:
        (link.source if link.is_receiver else link.target).durability = Terminus.CONFIGURATION

    def test(self, link: Any) -> bool:
        return True


class ReplyRefused(Exception):
    """The broker refused a reply for good (it ended the reply's session or detached its link,
    saying why: amqp:not-found, amqp:precondition-failed ...); the connection is still up."""

    def __init__(self, message: str, condition: str | None):
        super().__init__(message)
        self.condition = condition


def reply_address(address: str) -> str:
    """Where a reply to `address` is sent: `/queue/NAME` and a bare NAME (which RabbitMQ reads
    as `/queue/NAME`) become `/amq/queue/NAME`, the existing queue, which RabbitMQ never
    declares, so it attaches whatever the queue's durability (a `/queue/NAME` link is refused
    when the queue exists with the other durability: a durable reply queue refused a reply).
    RabbitMQ 3.10 takes a message to a missing `/amq/queue/NAME` and drops it (no route): the
    requester is gone. Other addresses (`/exchange/...`, `/topic/...`) as they are."""
    if "/" not in address:
        name = address
    elif address.startswith("/queue/"):
        name = address.removeprefix("/queue/")
    else:
        return address
    return f"/amq/queue/{name}" if name and "/" not in name else address


class SessionEnded(ProtonException):
    """The peer ended the session, with its reason (RabbitMQ refuses an attach that way)."""

    def __init__(self, condition: str | None, description: str | None):
        super().__init__(f"the broker ended the session: {condition}: {description}")
        #: the AMQP error condition (amqp:not-found, amqp:precondition-failed, ...)
        self.condition = condition


class _Connection(BlockingConnection):
    """A BlockingConnection that notices the peer ending its session. RabbitMQ's AMQP 1.0
    plugin refuses an attach (the queue of `/queue/NAME` exists with the other durability, a
    missing `/amq/queue/NAME`) by ending the session, not by detaching the link: proton's
    blocking API would wait for the link until its timeout (or for ever, in `receive`) and
    never say why."""

    def on_session_remote_close(self, event: Any) -> None:
        session = event.session
        if session.state & Endpoint.LOCAL_ACTIVE:
            session.close()
            if not self.closing:
                condition = session.remote_condition
                if condition is None:
                    raise SessionEnded(None, "no reason given")
                raise SessionEnded(condition.name, condition.description)


def open_connection(url: str, timeout: float) -> BlockingConnection:
    """A blocking connection that raises `SessionEnded` when the peer ends its session."""
    return _Connection(url, timeout=timeout)


def safe_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


#: a URL's `user:password@` (proton puts the connection's URL, password and all, into its
#: errors: "Connection amqp://user:password@host:5672 disconnected")
_CREDENTIALS = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]*):[^@\s]*@")


def scrub(text: str) -> str:
    """The text without the password of any URL in it (it goes to logs)."""
    return _CREDENTIALS.sub(r"\1:***@", text)


def reason(err: BaseException) -> str:
    """An error's text without the password of any URL in it (it goes to logs)."""
    return scrub(str(err))


def _message(msg: Message) -> AmqpMessage:
    body: Any = msg.body
    data: bytes | None = None
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    created = msg.creation_time
    return AmqpMessage(
        body=data,
        other=None if data is not None else body,
        content_encoding=msg.content_encoding or None,
        created_at=float(created) if created else None,
        message_id=None if msg.id is None else str(msg.id),
        reply_to=msg.reply_to or None,
        correlation_id=msg.correlation_id if msg.correlation_id is not None else msg.id,
    )


class AmqpLink:
    """One connection with one receiver on `address`; `connect` again after a failure."""

    def __init__(self, url: str, address: str, prefetch: int = 20, timeout: float = 10.0):
        self.url = url
        self.address = address
        self.prefetch = prefetch
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="amqp")
        self._conn: BlockingConnection | None = None
        self._receiver: BlockingReceiver | None = None
        #: the replies' own session and its senders, by address (see the module's docstring)
        self._reply_session: Session | None = None
        self._senders: dict[str, BlockingSender] = {}

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def connect(self) -> None:
        await self._call(self._connect)

    async def receive(self, wait_s: float) -> AmqpMessage | None:
        """The next message, or None after `wait_s` without one."""
        return await self._call(self._receive, wait_s)

    async def accept(self) -> None:
        """Settle the last received message: done with, the broker forgets it."""
        await self._call(self._settle, True)

    async def release(self) -> None:
        """Give the last received message back (`released`): the broker redelivers it.
        (Not proton's default `modified` outcome: RabbitMQ 3.x's AMQP 1.0 plugin knows only
        accepted, rejected and released, and ends the session over any other.)"""
        await self._call(self._settle, False)

    async def reply(self, address: str, body: bytes, correlation_id: Any) -> None:
        """Send a response (JSON) to `address` (`reply_address`) on this connection; returns
        once the broker took it. `ReplyRefused` when the broker refused it for good (the link
        to the request stays usable); `AmqpUnavailable` when the connection broke."""
        await self._call(self._reply, address, body, correlation_id)

    async def close(self) -> None:
        await self._call(self._close)

    def shutdown(self) -> None:
        """Close and stop the thread (after the last call)."""
        self._close()
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------ in the link's thread

    def _connect(self) -> None:
        self._close()
        try:
            self._conn = open_connection(self.url, self.timeout)
            self._receiver = self._conn.create_receiver(
                self.address, credit=self.prefetch, options=DurableTerminus()
            )
        except ProtonException as err:
            self._close()
            raise AmqpUnavailable(f"{safe_url(self.url)} {self.address}: {reason(err)}") from err

    def _receive(self, wait_s: float) -> AmqpMessage | None:
        if self._receiver is None:
            raise AmqpUnavailable("not connected")
        try:
            return _message(self._receiver.receive(timeout=wait_s))
        except Timeout:
            return None
        except ProtonException as err:
            raise AmqpUnavailable(f"{self.address}: {reason(err)}") from err

    def _settle(self, accept: bool) -> None:
        if self._receiver is None:
            raise AmqpUnavailable("not connected")
        try:
            if accept:
                self._receiver.accept()
            else:
                self._receiver.release(delivered=False)
            self._flush()
        except ProtonException as err:
            raise AmqpUnavailable(f"{self.address}: {reason(err)}") from err

    def _flush(self) -> None:
        """Send what proton holds (a settlement) now: a BlockingReceiver settles only locally,
        and its `receive` does no I/O while a prefetched message waits, so the broker would
        learn of settlements only once the prefetched messages ran out (after a crash, up to
        `prefetch` messages already kept would come again)."""
        conn = self._conn
        transport = None if conn is None or conn.conn is None else conn.conn.transport
        if conn is None or transport is None:
            raise AmqpUnavailable(f"{self.address}: the connection is gone")

        def written() -> bool:
            return transport.pending() == 0

        conn.wait(written, msg="Settling", timeout=self.timeout)

    def _reply(self, address: str, body: bytes, correlation_id: Any) -> None:
        conn = self._conn
        if conn is None or conn.conn is None:
            raise AmqpUnavailable("not connected")
        target = reply_address(address)
        try:
            sender = self._senders.get(target)
            if sender is None:
                if self._reply_session is None:
                    self._reply_session = conn.conn.session()
                    self._reply_session.open()
                # a Session is a context proton takes (Container._get_session), unannotated
                session: Any = self._reply_session
                link = conn.container.create_sender(session, target)
                sender = self._senders[target] = BlockingSender(conn, link)
            message = Message(body=body, correlation_id=correlation_id)
            message.content_type = "application/json"
            sender.send(message)
        except (SessionEnded, LinkDetached) as err:
            if not self._receiving():  # it was the request's session that ended
                raise AmqpUnavailable(scrub(f"reply to {target}: {err}")) from err
            # refused: the session (or link) is closed; the next reply opens a new session
            self._drop_replies()
            why = scrub(f"reply to {target}: {err}")
            raise ReplyRefused(why, getattr(err, "condition", None)) from err
        except ProtonException as err:
            raise AmqpUnavailable(scrub(f"reply to {target}: {err}")) from err

    def _receiving(self) -> bool:
        """Are the receiver's link and session still open at both ends?"""
        link = None if self._receiver is None else self._receiver.link
        closed = Endpoint.LOCAL_CLOSED | Endpoint.REMOTE_CLOSED
        return link is not None and not (link.state & closed or link.session.state & closed)

    def _drop_replies(self) -> None:
        session, self._reply_session = self._reply_session, None
        self._senders.clear()
        if session is not None and session.state & Endpoint.LOCAL_ACTIVE:
            session.close()

    def _close(self) -> None:
        conn, self._conn, self._receiver = self._conn, None, None
        self._reply_session = None
        self._senders.clear()
        if conn is not None:
            # a broken connection may fail to close: it is gone either way
            with contextlib.suppress(Exception):
                conn.close()
