"""Holds (issue 16): who held which units, why, and when each was let go."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import holds as dh
from graphql_api.context import Info


@strawberry.type(description="One unit of a hold.")
class HeldUnit:
    sn: str = strawberry.field(description="The unit's serial number.")
    released_at: datetime | None = strawberry.field(
        description="When the hold let go of this unit (releaseHold, a disposeUnit RELEASE or "
        "SCRAP); null while it holds it."
    )

    @classmethod
    def of(cls, u: dh.HeldUnit) -> HeldUnit:
        return cls(sn=u.sn, released_at=u.released_at)


@strawberry.type(
    description="A hold: holdUnits, a disposeUnit HOLD, an alarm with action HOLD (reason "
    "ALARM), or a KEY spec judged FAIL after its track passed (reason LATE_KEY_FAIL). A unit "
    "stays ON_HOLD while any hold on it is open."
)
class Hold:
    id: strawberry.ID = strawberry.field(description="releaseHold's holdId.")
    reason: str = strawberry.field(
        description="Why: the reason given, ALARM (an alarm with action HOLD) or LATE_KEY_FAIL "
        "(a KEY spec judged FAIL after its track passed)."
    )
    actor: str = strawberry.field(
        description="Who opened it: the token's name (the sending source system for an "
        "ingest alarm)."
    )
    opened_at: datetime = strawberry.field(description="When it was opened.")
    closed_at: datetime | None = strawberry.field(
        description="When its last unit was released; null while it is open."
    )
    hold_id: strawberry.Private[int]

    @strawberry.field(description="Every unit it held, in SN order, released or not.")
    async def units(self, info: Info) -> list[HeldUnit]:
        found = await info.context.loaders.held_units_of_hold.load(self.hold_id)
        return [HeldUnit.of(u) for u in found]

    @classmethod
    def of(cls, h: dh.Hold) -> Hold:
        return cls(
            id=strawberry.ID(str(h.id)),
            reason=h.reason,
            actor=h.actor,
            opened_at=h.opened_at,
            closed_at=h.closed_at,
            hold_id=h.id or 0,
        )
