"""The command bus: runs one command's handler in one unit of work and audits the outcome.

Every mutation goes through here, so every mutation, accepted or refused, leaves an audit row
with the actor and the request id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from domain.actors import Actor, hold_token
from domain.audit import AuditEvent
from domain.enums import AuditOutcome
from domain.errors import DomainError, ErrorCode
from domain.limits import Limits
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.runs_and_units import Unit
from domain.validation import scrubbed

if TYPE_CHECKING:
    from domain.ingest.parking import Redriver

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
    #: re-drives parked events when a handler brings units to a step (issue 20)
    redriver: Redriver | None = None

    async def redrive(self, uow: UnitOfWork, units: Sequence[Unit]) -> int:
        """The events parked for these units (as the handler moved them) at their steps run
        again in the handler's transaction (domain/ingest/parking.py); how many."""
        if self.redriver is None or self.actor is None:
            return 0
        return await self.redriver.redrive(uow, units, self.actor)


R = TypeVar("R")
Handler = Callable[[Any, UnitOfWork, Deps], Awaitable[Any]]


class MessageBus:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        limits: Limits,
        handlers: dict[type[Command], Handler],
        redriver: Redriver | None = None,
    ):
        self.uow_factory = uow_factory
        self.deps = Deps(clock=clock, limits=limits, redriver=redriver)
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

    async def run_in(self, cmd: Command, uow: UnitOfWork, actor: Actor) -> Any:
        """Run the command in the caller's transaction, audited OK there (the caller commits,
        and records a refusal: a CFX message whose meaning is a command is one event with it,
        domain/cfx/handlers.py)."""
        if cmd.source_bound and not actor.may_write_for(cmd.sender()):
            raise DomainError(
                ErrorCode.FORBIDDEN,
                f"token {actor.name!r} may not write for source {cmd.sender()!r}",
                {"source": cmd.sender()},
            )
        await hold_token(uow, actor)
        result = await self.handlers[type(cmd)](cmd, uow, replace(self.deps, actor=actor))
        await uow.audit.add(self._audit(cmd, actor, AuditOutcome.OK, None))
        return result

    async def handle(self, cmd: Command, actor: Actor) -> Any:
        """Run the command; raise DomainError (after auditing the refusal) when it is refused."""
        try:
            async with self.uow_factory() as uow:
                result = await self.run_in(cmd, uow, actor)
                await uow.commit()
                return result
        except DomainError as err:
            # The refused transaction rolled back; the refusal is recorded on its own.
            async with self.uow_factory() as uow:
                await uow.audit.add(self._audit(cmd, actor, AuditOutcome.REFUSED, err))
                await uow.commit()
            raise
