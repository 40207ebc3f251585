"""Live changes for subscribers (domain/changes.py): the in-process feed, and on PostgreSQL the
LISTEN side of the NOTIFY that the unit of work sends inside its transaction.

PostgreSQL: a unit of work sends `pg_notify` in the statement that writes its last deferred
rows (adapters/uow.py), so the notification leaves at commit and never for a rollback, and
reaches every server process on the database. Each process holds ONE listening connection
(PgFeed) and fans what arrives out to its subscribers. SQLite: the unit of work hands its
changes to this process's LocalFeed after commit; other processes never see them.

A notification names rows (ids, SNs) and the fields subscribers filter on, never their
content: it stays far below PostgreSQL's 8000-byte limit, and a subscriber reads what it
shows from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import asyncpg
import orjson
import structlog
from sqlalchemy.engine import make_url

from domain.changes import Change, IngestCommitted, SubscriberTooSlow, UnitsChanged
from domain.enums import IngestStatus

log = structlog.get_logger("mes.changes")

CHANNEL = "mes_changes"
#: PostgreSQL refuses a payload of 8000 bytes or more
MAX_PAYLOAD_BYTES = 7900
#: one statement for any number of notifications (one text[] parameter)
NOTIFY_SQL = f"SELECT pg_notify('{CHANNEL}', p) FROM unnest($1::text[]) AS p"


# ------------------------------------------------------------------ the wire format


def encode(changes: Iterable[Change]) -> list[str]:
    """The NOTIFY payloads of these changes: one per ingest, SN lists split to fit."""
    out: list[str] = []
    for change in changes:
        if isinstance(change, IngestCommitted):
            item: dict[str, Any] = {"t": "i", "s": change.status.value, "src": change.source_system}
            if change.line_code is not None:
                item["l"] = change.line_code
            if change.event_id is not None:
                item["e"] = change.event_id
            if change.rejection_id is not None:
                item["r"] = change.rejection_id
            out.append(orjson.dumps(item).decode())
        else:
            out.extend(_unit_payloads(change.sns))
    return out


def _unit_payloads(sns: Sequence[str]) -> list[str]:
    out: list[str] = []
    chunk: list[str] = []
    size = 20  # {"t":"u","sn":[]}
    for sn in sns:
        grown = len(orjson.dumps(sn)) + 1
        if chunk and size + grown > MAX_PAYLOAD_BYTES:
            out.append(orjson.dumps({"t": "u", "sn": chunk}).decode())
            chunk, size = [], 20
        chunk.append(sn)
        size += grown
    if chunk:
        out.append(orjson.dumps({"t": "u", "sn": chunk}).decode())
    return out


def decode(payload: str) -> Change | None:
    """The change of one payload; None for what this version does not know."""
    try:
        item = orjson.loads(payload)
        if item["t"] == "i":
            return IngestCommitted(
                IngestStatus(item["s"]),
                item["src"],
                item.get("l"),
                event_id=item.get("e"),
                rejection_id=item.get("r"),
            )
        if item["t"] == "u":
            return UnitsChanged(tuple(item["sn"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        pass
    log.warning("changes.unreadable_notification", payload=payload[:200])
    return None


# ------------------------------------------------------------------ subscribers in this process


class _Stream:
    """One subscriber: a bounded queue. Past `max_queue` waiting changes it is dropped (its
    queue emptied, `on_overflow` called once) and iterating raises SubscriberTooSlow."""

    def __init__(
        self, feed: LocalFeed, max_queue: int, on_overflow: Callable[[], None] | None
    ) -> None:
        self.feed = feed
        self.max_queue = max(1, max_queue)
        self.on_overflow = on_overflow
        # one slot more than max_queue: the overflow mark always fits
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(self.max_queue + 1)
        self.overflowed = False

    def offer(self, change: Change) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() < self.max_queue:
            self.queue.put_nowait(change)
            return
        self.overflowed = True
        while not self.queue.empty():  # a dropped subscriber holds nothing
            self.queue.get_nowait()
        self.queue.put_nowait(None)
        self.close()
        if self.on_overflow is not None:
            self.on_overflow()

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> Change:
        change = await self.queue.get()
        if change is None:
            raise SubscriberTooSlow(f"more than {self.max_queue} changes waited for it")
        return change

    def close(self) -> None:
        self.feed._streams.discard(self)


class LocalFeed:
    """Changes of this process's commits to this process's subscribers (SQLite)."""

    def __init__(self) -> None:
        self._streams: set[_Stream] = set()

    @property
    def subscribers(self) -> int:
        return len(self._streams)

    async def subscribe(
        self, max_queue: int, on_overflow: Callable[[], None] | None = None
    ) -> _Stream:
        stream = _Stream(self, max_queue, on_overflow)
        self._streams.add(stream)
        return stream

    def publish(self, changes: Iterable[Change]) -> None:
        """Never blocks: a subscriber that cannot keep up is dropped."""
        for change in changes:
            for stream in list(self._streams):
                stream.offer(change)

    async def aclose(self) -> None:
        self._streams.clear()


# ------------------------------------------------------------------ PostgreSQL: LISTEN


class PgFeed(LocalFeed):
    """One LISTEN connection per process, opened with the first subscriber, reopened when it
    drops (logged; what was committed while it was down is not delivered)."""

    #: how long a subscriber waits for the listening connection before it is refused
    CONNECT_TIMEOUT_S = 10.0
    #: how often an idle listening connection is checked (a dead peer sends no FIN)
    CHECK_EVERY_S = 30.0

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.dsn = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._task: asyncio.Task[None] | None = None
        self._listening: asyncio.Event | None = None
        self._connected = asyncio.Event()
        #: how often the listening connection was opened (reopened after a drop)
        self.connects = 0

    async def subscribe(
        self, max_queue: int, on_overflow: Callable[[], None] | None = None
    ) -> _Stream:
        if self._task is None or self._task.done():
            self._listening = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="mes-changes-listener")
        assert self._listening is not None
        try:
            await asyncio.wait_for(self._listening.wait(), self.CONNECT_TIMEOUT_S)
        except TimeoutError as err:
            raise ConnectionError("live events: the LISTEN connection is not open") from err
        return await super().subscribe(max_queue, on_overflow)

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        change = decode(payload)
        if change is not None:
            self.publish((change,))

    async def _run(self) -> None:
        delay = 0.5
        assert self._listening is not None
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=self.CONNECT_TIMEOUT_S)
                lost = asyncio.Event()
                conn.add_termination_listener(functools.partial(_set, lost))
                await conn.add_listener(CHANNEL, self._received)
                self.connects += 1
                self._connected.set()
                self._listening.set()
                log.info("changes.listening", channel=CHANNEL, connects=self.connects)
                delay = 0.5
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.CHECK_EVERY_S)
                    if not lost.is_set():
                        await conn.fetchval("SELECT 1", timeout=self.CONNECT_TIMEOUT_S)
                raise ConnectionError("the listening connection was terminated")
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self._listening.clear()
                log.warning(
                    "changes.listen_lost",
                    error=f"{type(err).__name__}: {err}"[:300],
                    retry_in_s=delay,
                )
                await _closed(conn)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                await _closed(conn)

    async def opened(self, times: int) -> None:
        """Until the listening connection was opened `times` times (tests, operators)."""
        while self.connects < times:
            self._connected.clear()
            await self._connected.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await super().aclose()


def _set(event: asyncio.Event, _conn: object) -> None:
    event.set()


async def _closed(conn: asyncpg.Connection | None) -> None:
    if conn is not None and not conn.is_closed():
        with contextlib.suppress(Exception):
            await conn.close(timeout=2)


def feed_for(database_url: str) -> LocalFeed:
    """PgFeed on PostgreSQL, LocalFeed (this process only) on SQLite."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return PgFeed(database_url)
    return LocalFeed()
