"""Ports of the live changes: the feed of committed changes and one subscriber's stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.changes import Change


class ChangeStream(Protocol):
    """One subscriber's changes, in commit order, from a bounded queue; iterating raises
    SubscriberTooSlow once it overflowed."""

    def __aiter__(self) -> ChangeStream: ...
    async def __anext__(self) -> Change: ...
    def close(self) -> None:
        """Stop receiving (idempotent)."""
        ...


class ChangeFeed(Protocol):
    """The committed changes of every server process sharing the database (PostgreSQL), or of
    this process (SQLite)."""

    async def subscribe(
        self, max_queue: int, on_overflow: Callable[[], None] | None = None
    ) -> ChangeStream:
        """A new subscriber; `on_overflow` is called once when its queue overflows."""
        ...

    async def aclose(self) -> None:
        """Stop listening (the server shuts down)."""
        ...
