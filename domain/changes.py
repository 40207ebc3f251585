"""What a committed transaction changed, as live subscribers see it (GraphQL subscriptions).

A use case announces its changes on the unit of work (`uow.publish`); they reach subscribers
only once the transaction commits, never after a rollback. A change names rows, not their
content: a subscriber reads the rows it needs when the change arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.enums import IngestStatus
from domain.runs_and_units import Unit


@dataclass(frozen=True, slots=True)
class IngestCommitted:
    """An ingest that left a new row: an accepted event (ACCEPTED) or a stored refusal
    (REJECTED, a new rejection or another attempt of an open one). DUPLICATEs write nothing
    new and are not announced."""

    status: IngestStatus
    source_system: str
    #: the line of the event's station (unknown for most refusals)
    line_code: str | None = None
    event_id: int | None = None
    rejection_id: int | None = None


@dataclass(frozen=True, slots=True)
class UnitsChanged:
    """These units changed: a track, a status, a disposition, a carrier load, data values."""

    sns: tuple[str, ...]

    @classmethod
    def of(cls, units: Iterable[Unit]) -> UnitsChanged:
        return cls(tuple(u.sn for u in units))


Change = IngestCommitted | UnitsChanged


class SubscriberTooSlow(Exception):
    """A subscriber's queue overflowed: it is dropped rather than buffered without bound."""
