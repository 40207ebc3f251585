"""The shape of a state machine's table (run_states.py, work_order_states.py): per command,
the statuses it moves from, where it moves to, and the refusal from anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from domain.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class Move(Generic[S]):
    """A command's move: from one of `sources` to `target`. At `target` already nothing
    changes (the command is idempotent); `target` None: a guard, the status stays. From any
    other status the refusal `code`, its `message` formatted with the entity's key and status."""

    sources: frozenset[S]
    target: S | None
    code: ErrorCode
    message: str

    def allows(self, status: S) -> bool:
        return status in self.sources or status == self.target

    def to(self, status: S) -> S:
        """The status after the move (the same one when it is a guard or at its target)."""
        return status if self.target is None else self.target

    def refusal(
        self, key: str, status: S, details: Callable[[], dict[str, Any]]
    ) -> DomainError | None:
        """None when the move is allowed from `status`, else its refusal (`details` built
        only then: ingest asks once per event)."""
        if self.allows(status):
            return None
        message = self.message.format(key=key, status=status.value)
        return DomainError(self.code, message, details())

    def apply(self, entity: E, key: str, status: S, details: Callable[[], dict[str, Any]]) -> E:
        """The entity (a dataclass with a `status`) after the move: itself when the status
        stays; the refusal raised when the move is not allowed."""
        error = self.refusal(key, status, details)
        if error:
            raise error
        target = self.to(status)
        return entity if target is status else replace(entity, status=target)
