"""Rows ↔ API tokens and audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from domain.audit import AuditEvent
from domain.enums import (
    AuditOutcome,
)
from domain.security import ApiToken, Scope


def audit_to_values(e: AuditEvent) -> dict[str, Any]:
    return {
        "at": e.at,
        "actor": e.actor,
        "request_id": e.request_id,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_key": e.entity_key,
        "outcome": e.outcome.value,
        "error_code": e.error_code,
        "details": e.details,
        "client_request_id": e.client_request_id,
    }


def audit_from_row(r: Row[Any]) -> AuditEvent:
    return AuditEvent(
        id=r.id,
        at=r.at,
        actor=r.actor,
        request_id=r.request_id,
        action=r.action,
        entity_type=r.entity_type,
        entity_key=r.entity_key,
        outcome=AuditOutcome(r.outcome),
        error_code=r.error_code,
        details=r.details,
        client_request_id=r.client_request_id,
    )


def token_to_values(tk: ApiToken) -> dict[str, Any]:
    return {
        "name": tk.name,
        "lookup": tk.lookup,
        "secret_hash": tk.secret_hash,
        "scopes": sorted(s.value for s in tk.scopes),
        "sources": sorted(tk.sources),
        "stations": sorted(tk.stations) if tk.stations else None,
        "created_at": tk.created_at,
        "revoked_at": tk.revoked_at,
    }


def token_from_row(r: Row[Any]) -> ApiToken:
    return ApiToken(
        id=r.id,
        name=r.name,
        lookup=r.lookup,
        secret_hash=r.secret_hash,
        scopes=frozenset(Scope(s) for s in r.scopes),
        sources=frozenset(r.sources),
        stations=frozenset(r.stations or ()),
        created_at=r.created_at,
        revoked_at=r.revoked_at,
    )
