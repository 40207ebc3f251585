"""Live events over WebSocket (graphql-transport-ws): committed ingests and unit changes.

A subscription reads the committed changes of the ChangeFeed (adapters/changes.py) from a
bounded queue and, for each change it wants, reads the rows it shows (one batch read each):
the same IngestResult an ingest mutation answers, the same Unit the `unit` query answers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import strawberry
import structlog

from domain.changes import Change, IngestCommitted, SubscriberTooSlow, UnitsChanged
from domain.enums import IngestStatus
from domain.errors import DomainError
from domain.ingest.pipeline import IngestOutcome
from domain.ports import ChangeStream
from graphql_api.context import Info
from graphql_api.ingest import result_of
from graphql_api.loaders import Loaders
from graphql_api.metrics import SUBSCRIBERS
from graphql_api.types.ingest import IngestResult
from graphql_api.types.runs_and_units import Unit
from graphql_api.websocket import FORBIDDEN

log = structlog.get_logger("mes.subscriptions")

#: how often an open subscription checks that its token is still active
TOKEN_RECHECK_S = 60.0


@strawberry.input(description="Every field given must match; DUPLICATEs are never streamed.")
class IngestEventStreamFilter:
    line_code: str | None = strawberry.field(
        default=None,
        description="The line of the event's station; refusals before a station was found "
        "have none and never match.",
    )
    source_system: str | None = None
    status: IngestStatus | None = None


def _matches(f: IngestEventStreamFilter, c: IngestCommitted) -> bool:
    return (
        (f.line_code is None or f.line_code == c.line_code)
        and (f.source_system is None or f.source_system == c.source_system)
        and (f.status is None or f.status is c.status)
    )


async def _result(info: Info, c: IngestCommitted) -> IngestResult | None:
    store = info.context.store
    if c.event_id is not None:
        event = (await store.events([c.event_id])).get(c.event_id)
        return result_of(IngestOutcome(IngestStatus.ACCEPTED, event=event)) if event else None
    if c.rejection_id is not None:
        j = (await store.rejections([c.rejection_id])).get(c.rejection_id)
        if j is None:
            return None
        error = DomainError(j.error_code, j.error_message, j.error_details)
        return result_of(IngestOutcome(IngestStatus.REJECTED, error=error, rejection=j))
    return None


async def _changes(info: Info) -> AsyncGenerator[Change, None]:
    """The committed changes, for one subscription. Past MES_SUBSCRIPTION_QUEUE waiting
    changes the connection is closed (4008, websocket.py), and a token revoked meanwhile
    closes it too (4403)."""
    ctx = info.context
    if ctx.feed is None or ctx.connection is None:
        raise RuntimeError("live events are served over WebSocket only")
    limit = ctx.limits.subscription_queue
    stream: ChangeStream = await ctx.feed.subscribe(limit)
    SUBSCRIBERS.inc()
    checked = time.monotonic()
    try:
        while True:
            try:
                change = await anext(stream)
            except SubscriberTooSlow:
                await ctx.connection.too_slow(f"more than {limit} events waited")
                return
            if time.monotonic() - checked > TOKEN_RECHECK_S:
                checked = time.monotonic()
                if not await ctx.token_active():
                    log.info("subscription.token_revoked", actor=ctx.actor.name)
                    await ctx.connection.close(FORBIDDEN, "Forbidden: the token was revoked")
                    return
            yield change
    finally:
        stream.close()
        SUBSCRIBERS.dec()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every accepted and refused ingest as it is committed (on PostgreSQL from "
        "every server process, on SQLite from this one), each as the ingest mutations answer "
        "it. DUPLICATEs write nothing new and are not streamed; nor are FORBIDDEN refusals "
        "(no rejection is stored for them)."
    )
    async def ingest_events(
        self, info: Info, filter: IngestEventStreamFilter | None = None
    ) -> AsyncGenerator[IngestResult, None]:
        f = filter or IngestEventStreamFilter()
        async for change in _changes(info):
            if isinstance(change, IngestCommitted) and _matches(f, change):
                info.context.loaders = Loaders(info.context.store)  # fresh reads for each item
                result = await _result(info, change)
                if result is not None:
                    yield result

    @strawberry.subscription(
        description="The unit after each committed change of it: a track, a state change, a "
        "disposition, a carrier load, data values of its tracks."
    )
    async def unit_updated(self, info: Info, sn: str) -> AsyncGenerator[Unit, None]:
        async for change in _changes(info):
            if isinstance(change, UnitsChanged) and sn in change.sns:
                info.context.loaders = Loaders(info.context.store)
                found = (await info.context.store.units([sn])).get(sn)
                if found is not None:
                    yield Unit.of(found)
