"""Ports of the audit trail and API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.audit import AuditEvent
from domain.security import ApiToken


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...
    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        """In one statement whatever the count."""
        ...


class TokenRepository(Protocol):
    async def add(self, token: ApiToken) -> ApiToken:
        """The token with its id; KeyTaken while another token of its name is active."""
        ...

    async def get(self, name: str) -> ApiToken | None:
        """The token of that name: the active one, else the last one revoked (a revoked
        token's name may be given to a new token)."""
        ...

    async def all(self) -> list[ApiToken]:
        """Every token, revoked ones too, by name and then age."""
        ...

    async def revoke(self, name: str, at: datetime) -> bool:
        """Revoke the active token of that name (False: none is active)."""
        ...

    async def hold(self, token_id: int) -> bool:
        """Whether the token is active, and held so until the transaction ends: a revoke
        committed before is seen, a later one waits for this transaction (PostgreSQL: FOR
        SHARE on its row; SQLite serializes writers)."""
        ...
