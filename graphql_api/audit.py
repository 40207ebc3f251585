"""The audit trail over GraphQL: who did what, when, with which outcome (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry

from domain.audit import AuditEvent as DomainAuditEvent
from domain.ports import AuditFilter
from graphql_api.context import Info
from graphql_api.pagination import Connection, after_time, connection, page_size, time_cursor
from graphql_api.scalars import JSON, aware


@strawberry.type(description="Every mutation, accepted or refused, with its actor and request id.")
class AuditEvent:
    id: strawberry.ID
    at: datetime
    actor: str
    request_id: str
    action: str
    entity_type: str
    entity_key: str | None
    outcome: str
    error_code: str | None
    details: JSON | None
    client_request_id: str | None = strawberry.field(
        default=None, description="The X-Request-ID the client sent, beside the server's own."
    )

    @classmethod
    def of(cls, e: DomainAuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(e.id)),
            at=e.at,
            actor=e.actor,
            request_id=e.request_id,
            action=e.action,
            entity_type=e.entity_type,
            entity_key=e.entity_key,
            outcome=e.outcome.value,
            error_code=e.error_code,
            details=cast(JSON, e.details),
            client_request_id=e.client_request_id,
        )


@strawberry.input
class AuditEventFilter:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_key: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The audit trail, newest first (admin scope).")
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        f = filter or AuditEventFilter()
        where = AuditFilter(
            actor=f.actor,
            action=f.action,
            entity_type=f.entity_type,
            entity_key=f.entity_key,
            outcome=f.outcome,
            request_id=f.request_id,
            since=aware(f.since, "since"),
            until=aware(f.until, "until"),
        )
        page, more = await info.context.store.audit_page(
            where, page_size(info, first), after_time(after)
        )
        return connection(page, more, after, AuditEvent.of, lambda e: time_cursor(e.at, e.id))
