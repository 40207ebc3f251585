"""Ingest mutations and the trace queries over events and rejections."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import strawberry
import structlog

from domain.ingest.pipeline import IngestOutcome
from domain.ingest.records import IngestEnvelope
from domain.ports import EventFilter, RejectionFilter
from domain.validation import storable
from graphql_api.context import Info
from graphql_api.errors import BadInput
from graphql_api.metrics import record_ingest
from graphql_api.pagination import Connection, after_time, connection, page_size, time_cursor
from graphql_api.scalars import UnreadableDateTime, aware, row_id
from graphql_api.types.common import MesError
from graphql_api.types.ingest import (
    IngestEventFilter,
    IngestEventInput,
    IngestRejection,
    IngestRejectionFilter,
    IngestResult,
)
from graphql_api.types.parking import ParkedEvent
from graphql_api.types.tracks import IngestEvent

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
        parked_event=ParkedEvent.of(outcome.parked) if outcome.parked else None,
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
    ) -> Connection[IngestEvent]:
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
        page, more = await info.context.store.events_page(
            where, page_size(info, first), after_time(after)
        )
        return connection(
            page, more, after, IngestEvent.of, lambda e: time_cursor(e.received_at, e.id)
        )

    @strawberry.field(description="Newest first by order received.")
    async def ingest_rejections(
        self,
        info: Info,
        filter: IngestRejectionFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[IngestRejection]:
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
            where, page_size(info, first), after_time(after)
        )
        return connection(
            page, more, after, IngestRejection.of, lambda j: time_cursor(j.received_at, j.id)
        )
