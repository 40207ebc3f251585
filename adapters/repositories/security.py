"""API tokens and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    insert,
    select,
    update,
)

from adapters import rows
from adapters import tables as t
from adapters.repositories.base import SqlRepository
from domain.audit import AuditEvent
from domain.errors import KeyTaken
from domain.security import ApiToken


class SqlAuditRepository(SqlRepository):
    async def add(self, event: AuditEvent) -> None:
        await self._exec(insert(t.audit_event), rows.audit_to_values(event))

    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        await self._exec(insert(t.audit_event), [rows.audit_to_values(e) for e in events])


class SqlTokenRepository(SqlRepository):
    async def add(self, token: ApiToken) -> ApiToken:
        existing = await self.get(token.name)
        if existing is not None and existing.active:
            raise KeyTaken([token.name])
        new_id = (
            await self._exec(
                insert(t.api_token).returning(t.api_token.c.id), rows.token_to_values(token)
            )
        ).scalar_one()
        return replace(token, id=new_id)

    async def get(self, name: str) -> ApiToken | None:
        # the active token is the newest of its name: a name is reused only once revoked
        r = await self._one(
            select(t.api_token)
            .where(t.api_token.c.name == name)
            .order_by(t.api_token.c.id.desc())
            .limit(1)
        )
        return rows.token_from_row(r) if r else None

    async def all(self) -> list[ApiToken]:
        result = await self._exec(
            select(t.api_token).order_by(t.api_token.c.name, t.api_token.c.id)
        )
        return [rows.token_from_row(r) for r in result]

    async def hold(self, token_id: int) -> bool:
        active = await self._one(
            select(t.api_token.c.id).where(
                t.api_token.c.id == token_id, t.api_token.c.revoked_at.is_(None)
            )
        )
        return active is not None

    async def revoke(self, name: str, at: datetime) -> bool:
        result = await self._exec(
            update(t.api_token)
            .where(t.api_token.c.name == name, t.api_token.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)
