"""The audit trail: one row per mutation, refused ones too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import AuditOutcome


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """Who did what, when, with which outcome: every mutation, accepted or refused."""

    at: datetime
    actor: str
    request_id: str
    action: str
    entity_type: str
    entity_key: str | None
    outcome: AuditOutcome
    error_code: str | None = None
    details: dict[str, Any] | None = field(default=None, hash=False)
    #: the X-Request-ID the client sent (request_id is always the server's own)
    client_request_id: str | None = None
    id: int | None = None
