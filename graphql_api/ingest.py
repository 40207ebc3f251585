"""Ingest mutations and the trace queries over events and rejections."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import strawberry
import structlog

from domain.execution import IngestEnvelope
from domain.ingest.pipeline import IngestOutcome
from domain.ports import EventFilter, RejectionFilter
from domain.validation import storable
from graphql_api.context import Info
from graphql_api.errors import BadInput
from graphql_api.metrics import record_ingest
from graphql_api.scalars import MAX_ROW_ID, UnreadableDateTime, aware, row_id
from graphql_api.types.common import MesError, PageInfo
from graphql_api.types.execution import IngestEvent
from graphql_api.types.ingest import (
    IngestEventConnection,
    IngestEventEdge,
    IngestEventFilter,
    IngestEventInput,
    IngestRejection,
    IngestRejectionConnection,
    IngestRejectionEdge,
    IngestRejectionFilter,
    IngestResult,
)

log = structlog.get_logger("mes.ingest")


def envelope(item: IngestEventInput) -> IngestEnvelope:
    """The use case judges every field: a naive or unreadable occurredAt reaches it and is
    refused for this item alone."""
    occurred: Any = item.occurred_at
    error = None
    if isinstance(occurred, UnreadableDateTime):
        error = f"occurredAt {str(occurred)!r} {occurred.reason}"
        occurred = None
    try:
        size = len(orjson.dumps(item.payload))
    except TypeError:  # integers past 64 bits (or past orjson's depth, or a lone surrogate)
        try:
            text = json.dumps(item.payload, ensure_ascii=False, default=str)
            size = len(text.encode("utf-8", "surrogatepass"))
        except RecursionError:
            size = 0  # nested past any limit: the use case refuses it for its depth
    return IngestEnvelope(
        source_system=item.source_system,
        dedupe_key=item.dedupe_key,
        event_type=item.event_type,
        occurred_at=occurred,
        payload=item.payload,
        run_no=item.run_no,
        meta=item.meta,
        payload_bytes=size,
        occurred_at_error=error,
    )


def result_of(outcome: IngestOutcome) -> IngestResult:
    return IngestResult(
        status=outcome.status,
        event=IngestEvent.of(outcome.event) if outcome.event else None,
        error=MesError.of(outcome.error) if outcome.error else None,
        rejection=IngestRejection.of(outcome.rejection) if outcome.rejection else None,
    )


async def _ingest_one(info: Info, item: IngestEventInput) -> IngestResult:
    started = time.perf_counter()
    outcome = await info.context.ingest.ingest(envelope(item), info.context.actor)
    record_ingest(item.source_system, outcome, time.perf_counter() - started)
    log.info(
        "ingest",
        status=outcome.status.value,
        code=outcome.error.code.value if outcome.error else None,
        source_system=storable(item.source_system[:100]),
        dedupe_key=storable(item.dedupe_key[:200]),
        event_id=outcome.event.id if outcome.event else None,
    )
    return result_of(outcome)


def _cursor(at: datetime, key: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{key}".encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None:
        return None
    try:
        text, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        at, number = datetime.fromisoformat(text), int(key)
        # a cursor this service made has an aware time and a 64-bit key; anything else would
        # fail in the comparison or the database, not in the client's hands
        if at.utcoffset() is None or not 0 <= number <= MAX_ROW_ID:
            raise ValueError
        at.astimezone(UTC)  # OverflowError at the calendar's edges
        return at, number
    except (ValueError, OverflowError) as err:  # UnicodeError, binascii.Error: ValueErrors
        raise BadInput(f"after: invalid cursor {cursor[:100]!r}") from err


def _first(info: Info, first: int | None) -> int:
    limit = info.context.limits.max_page_size
    value = 50 if first is None else first
    if not 0 <= value <= limit:
        raise BadInput(f"first must be between 0 and {limit}")
    return value


@strawberry.type
class IngestMutation:
    @strawberry.mutation
    async def ingest_event(self, info: Info, input: IngestEventInput) -> IngestResult:
        return await _ingest_one(info, input)

    @strawberry.mutation(
        description="Each item is judged and committed on its own; results come back in input "
        "order."
    )
    async def ingest_events(self, info: Info, inputs: list[IngestEventInput]) -> list[IngestResult]:
        limit = info.context.limits.max_ingest_batch
        if len(inputs) > limit:
            raise BadInput(
                f"ingestEvents takes at most {limit} events per request, not {len(inputs)}"
            )
        # in order: two items for one unit apply in the order they were sent
        return [await _ingest_one(info, item) for item in inputs]

    @strawberry.mutation(description="Runs a stored rejection again against today's configuration.")
    async def replay_rejection(self, info: Info, id: strawberry.ID) -> IngestResult:
        rejection_id = row_id(id, "id")
        return result_of(await info.context.ingest.replay(rejection_id, info.context.actor))


@strawberry.type
class IngestQuery:
    @strawberry.field(description="By id, or by sourceSystem and dedupeKey.")
    async def ingest_event(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        source_system: str | None = None,
        dedupe_key: str | None = None,
    ) -> IngestEvent | None:
        if id is not None:
            try:
                key = row_id(id, "id")
            except BadInput:
                return None  # no row has such an id
            found = await info.context.loaders.event.load(key)
        elif source_system is not None and dedupe_key is not None:
            found = await info.context.store.event_by_key(source_system, dedupe_key)
        else:
            raise BadInput("give id, or sourceSystem and dedupeKey")
        return IngestEvent.of(found) if found else None

    @strawberry.field(description="Newest first by order received.")
    async def ingest_events(
        self,
        info: Info,
        filter: IngestEventFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> IngestEventConnection:
        f = filter or IngestEventFilter()
        where = EventFilter(
            source_system=f.source_system,
            event_type=f.event_type,
            run_no=f.run_no,
            sn=f.sn,
            station_code=f.station_code,
            carrier_code=f.carrier_code,
            occurred_from=aware(f.occurred_from, "occurredFrom"),
            occurred_to=aware(f.occurred_to, "occurredTo"),
        )
        page, more = await info.context.store.events_page(where, _first(info, first), _after(after))
        edges = [
            IngestEventEdge(node=IngestEvent.of(e), cursor=_cursor(e.received_at, e.id or 0))
            for e in page
        ]
        return IngestEventConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else after),
        )

    @strawberry.field(description="Newest first by order received.")
    async def ingest_rejections(
        self,
        info: Info,
        filter: IngestRejectionFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> IngestRejectionConnection:
        f = filter or IngestRejectionFilter()
        where = RejectionFilter(
            source_system=f.source_system,
            sn=f.sn,
            code=f.code,
            unresolved_only=bool(f.unresolved_only),
            received_from=aware(f.received_from, "receivedFrom"),
            received_to=aware(f.received_to, "receivedTo"),
        )
        page, more = await info.context.store.rejections_page(
            where, _first(info, first), _after(after)
        )
        edges = [
            IngestRejectionEdge(
                node=IngestRejection.of(j), cursor=_cursor(j.received_at, j.id or 0)
            )
            for j in page
        ]
        return IngestRejectionConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else after),
        )
