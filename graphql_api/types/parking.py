"""Parked events (issue 20 item 4): events that came before their units reached their step."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.enums import IngestEventType
from domain.ingest.records import ParkedEvent as DomainParked
from graphql_api.context import Info

if TYPE_CHECKING:
    from graphql_api.types.runs_and_units import Unit


@strawberry.type(
    description="An event that came before its units reached its step: neither accepted nor "
    "refused yet. It is re-driven when its units reach waitingForStepNo (or, a CFX result "
    "message that names no units, when the WorkStarted of waitingForTransaction arrives), and "
    "becomes a PARKED_EXPIRED rejection at expiresAt (MES_PARK_TTL after it was received)."
)
class ParkedEvent:
    id: strawberry.ID
    source_system: str
    dedupe_key: str
    event_type: IngestEventType
    occurred_at: datetime
    received_at: datetime
    waiting_for_step_no: int | None = strawberry.field(
        description="The step (of the run's frozen route version) its units must reach; null "
        "while it waits for its CFX transaction's start."
    )
    waiting_for_transaction: str | None = strawberry.field(
        description="The CFX TransactionID whose WorkStarted (from sourceSystem) it waits for: "
        "a result message that names no units takes its start's."
    )
    expires_at: datetime
    parked_id: strawberry.Private[int]

    @strawberry.field(description="The units it waits for, in registration order.")
    async def units(
        self, info: Info
    ) -> list[Annotated[Unit, strawberry.lazy("graphql_api.types.runs_and_units")]]:
        from graphql_api.types.runs_and_units import Unit

        found = await info.context.loaders.units_of_parked_event.load(self.parked_id)
        return [Unit.of(u) for u in found]

    @classmethod
    def of(cls, p: DomainParked) -> ParkedEvent:
        return cls(
            id=strawberry.ID(str(p.id)),
            source_system=p.source_system,
            dedupe_key=p.dedupe_key,
            event_type=p.event_type,
            occurred_at=p.occurred_at,
            received_at=p.received_at,
            waiting_for_step_no=p.waiting_for_step_no,
            waiting_for_transaction=p.waiting_for_transaction,
            expires_at=p.expires_at,
            parked_id=p.id or 0,
        )


@strawberry.input
class ParkedEventFilter:
    sn: str | None = strawberry.field(default=None, description="Waiting for this unit.")
    source_system: str | None = None
