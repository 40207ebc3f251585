"""The audit trail as the tests read it: one request's rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t


@dataclass(frozen=True)
class Audited:
    action: str
    entity_type: str
    entity_key: str | None
    outcome: str
    error_code: str | None
    actor: str
    details: Any
    client_request_id: str | None = None


async def audit_rows(engine: AsyncEngine, request_id: str) -> list[Audited]:
    a = t.audit_event
    async with engine.connect() as conn:
        found = await conn.execute(
            select(
                a.c.action,
                a.c.entity_type,
                a.c.entity_key,
                a.c.outcome,
                a.c.error_code,
                a.c.actor,
                a.c.details,
                a.c.client_request_id,
            )
            .where(a.c.request_id == request_id)
            .order_by(a.c.id)
        )
        return [Audited(*r) for r in found]
