"""Who sends a request: the actor, the audit rows it leaves, and the checks of its token and
station bindings that every write makes in the writing transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.audit import AuditEvent
from domain.enums import AuditOutcome
from domain.errors import DomainError, ErrorCode
from domain.ingest.stations import station_named
from domain.master import Station
from domain.ports import UnitOfWork
from domain.security import Principal, Scope, StationBinding, station_refusal


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sends the request (a token's name, or 'anonymous') and the request's id."""

    name: str
    request_id: str
    #: the sources it may write for (an ingest token's); None: any source
    sources: frozenset[str] | None = None
    #: the station bindings every write must satisfy: the token's own (none: unbound) and,
    #: on a replay, the original sender's
    bindings: tuple[StationBinding, ...] = ()
    #: the token whose input this is, kept on the rejections it leaves (None: auth off)
    token_name: str | None = None
    #: the token it acts by (None: a CLI command, or a server without auth): each write checks
    #: that it is still active, in the writing transaction (see `hold_token`)
    token_id: int | None = None
    #: the X-Request-ID the client sent, kept beside (never instead of) the server's own
    client_request_id: str | None = None

    @classmethod
    def of(
        cls, principal: Principal, request_id: str, client_request_id: str | None = None
    ) -> Actor:
        """The actor a principal acts as: an admin writes for any source, a token's sources
        and station binding bind the others."""
        binding = principal.binding
        return cls(
            name=principal.name,
            request_id=request_id,
            sources=None if Scope.ADMIN in principal.scopes else principal.sources,
            bindings=() if binding is None else (binding,),
            token_name=principal.name if principal.from_token else None,
            token_id=principal.token_id,
            client_request_id=client_request_id,
        )

    def audit(
        self,
        at: datetime,
        action: str,
        entity_type: str,
        entity_key: str | None,
        outcome: AuditOutcome,
        error_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """An audit row of this actor's (its name and both request ids)."""
        return AuditEvent(
            at=at,
            actor=self.name,
            request_id=self.request_id,
            client_request_id=self.client_request_id,
            action=action,
            entity_type=entity_type,
            entity_key=entity_key,
            outcome=outcome,
            error_code=error_code,
            details=details,
        )

    def may_write_for(self, source: str | None) -> bool:
        return self.sources is None or (source is not None and source in self.sources)

    def station_refusal(
        self, station_code: str | None, station: Station | None
    ) -> DomainError | None:
        """FORBIDDEN (with the station in details) unless it may write for that station."""
        return station_refusal(self.name, self.bindings, station_code, station)


async def check_station_binding(
    actor: Actor | None, uow: UnitOfWork, station_code: str | None
) -> None:
    """Raise FORBIDDEN unless the actor may write for this station; the station is looked up
    only for a bound actor (its group may be in the binding)."""
    if actor is None or not actor.bindings:
        return
    station = await station_named(uow, station_code)
    refusal = actor.station_refusal(station_code, station)
    if refusal is not None:
        raise refusal


class TokenRevoked(DomainError):
    """The actor's token was revoked while its request ran (FORBIDDEN): nothing is written
    but the audit row."""

    def __init__(self, actor: Actor):
        super().__init__(
            ErrorCode.FORBIDDEN,
            f"token {actor.name!r} was revoked",
            {"token": actor.name, "reason": "TOKEN_REVOKED"},
        )


async def hold_token(uow: UnitOfWork, actor: Actor) -> None:
    """Revocation holds for every write committed after it: the token is checked inside the
    writing transaction and held there (a revoke waits for that transaction to end)."""
    if actor.token_id is not None and not await uow.tokens.hold(actor.token_id):
        raise TokenRevoked(actor)
