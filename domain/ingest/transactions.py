"""Events that pair with another of their machine's transaction (a CFX WorkStarted and its
result: domain/cfx/pairing.py is the one pairing there is). The pipeline knows no message
format: it calls a `Pairing` around each event it judges, and parks an event that must wait
for its transaction's start (domain/ingest/parking.py).

Two events of one transaction may be judged at once on two connections (PostgreSQL), each
unable to see the other's uncommitted writes: a result that waits for its start, parked while
the start is recorded, or a result written without the start's inAt while the start finds no
result to fill. So whatever `record` (or a park) leaves unsettled is settled once more after
its transaction commits (`settle`, in a transaction of its own): of two such events, the
second to commit sees the first's writes there, whichever it is (each writes, commits, then
reads), and the re-drive of a parked event belongs to whoever removes it first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.ingest.records import IngestEnvelope, IngestEvent, PairingKey
from domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Paired:
    """What an accepted event recorded under its key: whether it was the start (the events
    parked for it can run now), and whether the transaction is not yet whole as this
    transaction sees it (to be settled after the commit)."""

    key: PairingKey
    started: bool
    unsettled: bool


class Pairing(Protocol):
    async def context(self, uow: UnitOfWork, env: IngestEnvelope) -> IngestEnvelope | PairingKey:
        """The envelope as its mapping reads it (its start's context added), or the key
        whose start it must wait for (it names no units and that start has not come)."""
        ...

    async def record(
        self, uow: UnitOfWork, env: IngestEnvelope, event: IngestEvent
    ) -> Paired | None:
        """What the accepted event records under its key (None: it pairs with nothing)."""
        ...

    async def settle(self, uow: UnitOfWork, key: PairingKey) -> bool:
        """The key's transaction made whole once more, as committed now (a result's inAt
        filled from its start); whether its start has come (its waiters can be re-driven)."""
        ...


class NoPairing:
    """No event pairs with another: the pipeline without a machine protocol that pairs."""

    async def context(self, uow: UnitOfWork, env: IngestEnvelope) -> IngestEnvelope | PairingKey:
        return env

    async def record(
        self, uow: UnitOfWork, env: IngestEnvelope, event: IngestEvent
    ) -> Paired | None:
        return None

    async def settle(self, uow: UnitOfWork, key: PairingKey) -> bool:
        return False
