"""API tokens and the audit trail."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Table,
)

from adapters.tables.base import CODE, ENUM, metadata
from adapters.types import BigId, Json, SafeString, SafeText, UtcDateTime

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", SafeString(200), nullable=False),
    Column("request_id", SafeString(200), nullable=False),
    Column("action", SafeString(100), nullable=False),
    Column("entity_type", SafeString(100), nullable=False),
    Column("entity_key", SafeText),
    Column("outcome", ENUM, nullable=False),
    Column("error_code", SafeString(50)),
    Column("details", Json),
    # the X-Request-ID the client sent, kept beside (never instead of) the server's own
    Column("client_request_id", SafeString(200)),
)
Index("ix_audit_event_at", audit_event.c.at)
Index("ix_audit_event_entity", audit_event.c.entity_type, audit_event.c.entity_key)

api_token = Table(
    "api_token",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # unique among active tokens only (the index below): a revoked token's name can be reused
    Column("name", CODE, nullable=False),
    # the secret's first characters, to find the row; the secret itself is only ever hashed
    Column("lookup", SafeString(40), nullable=False, unique=True),
    Column("secret_hash", SafeString(64), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("sources", Json, nullable=False),
    # the stations (codes, and `group:CODE`) it may write for; NULL: none named
    Column("stations", Json),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)
# one active token per name; revoked ones keep theirs (`mes token rotate`, a name reused)
Index(
    "uq_api_token_active_name",
    api_token.c.name,
    unique=True,
    postgresql_where=api_token.c.revoked_at.is_(None),
    sqlite_where=api_token.c.revoked_at.is_(None),
)
