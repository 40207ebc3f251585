"""The command bus: runs one command's handler in one unit of work and audits the outcome.

Every mutation goes through here, so every mutation, accepted or refused, leaves an audit row
with the actor and the request id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from domain.enums import AuditOutcome
from domain.errors import DomainError, ErrorCode
from domain.master import Station
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.production import AuditEvent
from domain.security import StationBinding, station_refusal
from domain.validation import DEFAULT_MAX_JSON_DEPTH, scrubbed


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
    station = await uow.stations.get(station_code) if station_code else None
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


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable input limits (bad input gets a clear error, never a crash)."""

    max_register_units: int = 10_000
    max_routing_steps: int = 500
    max_page_size: int = 500
    max_payload_bytes: int = 1024 * 1024
    max_ingest_batch: int = 500
    #: a whole HTTP request body (gzip: once inflated)
    max_body_bytes: int = 32 * 1024 * 1024
    max_query_depth: int = 15
    max_aliases: int = 50
    max_query_tokens: int = 5000
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()
    #: a query's cost: the objects it may return, page sizes multiplied along nested lists
    max_query_cost: int = 50_000
    #: what an unpaginated list (a unit's tracks, a track's data values) counts for the cost
    list_cost_estimate: int = 50
    #: a query document's length in UTF-8 bytes (not its variables: the body limit bounds them)
    max_query_bytes: int = 64 * 1024
    #: a request's execution time; 0: no limit
    request_timeout_s: float = 30.0
    #: how deeply a JSON input (payload, meta, a mapping, a JSON value) may nest
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    #: a site's regular expression for serial numbers (a full match), checked on registration
    sn_pattern: str | None = None
    #: changes waiting for one live subscription; past it the client is disconnected (4008)
    subscription_queue: int = 1000
    #: operations one WebSocket connection may run at once
    max_subscriptions_per_connection: int = 20
    #: units one holdUnits may hold (one transaction; past it: VALIDATION_FAILED)
    max_hold_units: int = 10_000


#: the audit trail keeps this much of an entity key (a refused one may be any length)
MAX_AUDIT_KEY = 200


def _key(key: str | None) -> str | None:
    return None if key is None else scrubbed(key)[:MAX_AUDIT_KEY]


class Command:
    """A request to change state. Subclasses are frozen dataclasses."""

    action: ClassVar[str]
    entity_type: ClassVar[str]

    def entity_key(self) -> str | None:
        return None

    #: commands a machine sends for itself: an ingest token writes only for its own sources
    source_bound: ClassVar[bool] = False

    def sender(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class Deps:
    """What handlers may use besides the unit of work."""

    clock: Clock
    limits: Limits
    #: who sends the command (handlers check its station binding)
    actor: Actor | None = None


R = TypeVar("R")
Handler = Callable[[Any, UnitOfWork, Deps], Awaitable[Any]]


class MessageBus:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        limits: Limits,
        handlers: dict[type[Command], Handler],
    ):
        self.uow_factory = uow_factory
        self.deps = Deps(clock=clock, limits=limits)
        self.handlers = handlers

    def _audit(
        self, cmd: Command, actor: Actor, outcome: AuditOutcome, error: DomainError | None
    ) -> AuditEvent:
        return actor.audit(
            self.deps.clock.now(),
            cmd.action,
            cmd.entity_type,
            _key(cmd.entity_key()),
            outcome,
            error.code.value if error else None,
            scrubbed({"message": error.message, "details": error.details}) if error else None,
        )

    async def handle(self, cmd: Command, actor: Actor) -> Any:
        """Run the command; raise DomainError (after auditing the refusal) when it is refused."""
        handler = self.handlers[type(cmd)]
        try:
            if cmd.source_bound and not actor.may_write_for(cmd.sender()):
                raise DomainError(
                    ErrorCode.FORBIDDEN,
                    f"token {actor.name!r} may not write for source {cmd.sender()!r}",
                    {"source": cmd.sender()},
                )
            async with self.uow_factory() as uow:
                await hold_token(uow, actor)
                result = await handler(cmd, uow, replace(self.deps, actor=actor))
                await uow.audit.add(self._audit(cmd, actor, AuditOutcome.OK, None))
                await uow.commit()
                return result
        except DomainError as err:
            # The refused transaction rolled back; the refusal is recorded on its own.
            async with self.uow_factory() as uow:
                await uow.audit.add(self._audit(cmd, actor, AuditOutcome.REFUSED, err))
                await uow.commit()
            raise
