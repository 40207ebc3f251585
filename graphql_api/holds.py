"""holdUnits, releaseHold and the holds list over GraphQL (issue 16)."""

from __future__ import annotations

import strawberry

from domain.usecases import holds as ho
from graphql_api.context import Info
from graphql_api.errors import BadInput
from graphql_api.mutations import run_command
from graphql_api.scalars import row_id
from graphql_api.types.common import MesError
from graphql_api.types.holds import Hold


@strawberry.input(description="Which units: these SNs, the units of this run, or both.")
class UnitFilter:
    sns: list[str] | None = strawberry.field(
        default=None, description="These units (each must exist: else UNIT_NOT_FOUND)."
    )
    run_no: str | None = strawberry.field(
        default=None, description="The units of this run (with sns: those of them in it)."
    )


@strawberry.type
class HoldPayload:
    hold: Hold | None = strawberry.field(default=None, description="The hold; null if refused.")
    error: MesError | None = strawberry.field(default=None, description="Why it was refused.")


@strawberry.type
class HoldsMutation:
    @strawberry.mutation(
        description="Holds every unit the filter matches that is not SCRAPPED (containment: "
        "QUEUED, IN_STATION, OUT_FAILED and DONE units alike), in one transaction; at most "
        "MES_MAX_HOLD_UNITS units."
    )
    async def hold_units(self, info: Info, filter: UnitFilter, reason: str) -> HoldPayload:
        cmd = ho.HoldUnits(
            ho.UnitFilter(
                sns=None if filter.sns is None else tuple(filter.sns), run_no=filter.run_no
            ),
            reason,
        )
        return await run_command(info, cmd, lambda h: HoldPayload(hold=Hold.of(h)), HoldPayload)

    @strawberry.mutation(
        description="Releases all the hold's units, or these of them; a unit no other hold "
        "keeps returns to the status and step it was held from. The hold closes with its last "
        "unit."
    )
    async def release_hold(
        self, info: Info, hold_id: strawberry.ID, sns: list[str] | None = None
    ) -> HoldPayload:
        cmd = ho.ReleaseHold(row_id(hold_id, "holdId"), None if sns is None else tuple(sns))
        return await run_command(info, cmd, lambda h: HoldPayload(hold=Hold.of(h)), HoldPayload)


@strawberry.type
class HoldsQuery:
    @strawberry.field(description="Holds, newest first: open ones, closed ones, or both (null).")
    async def holds(
        self, info: Info, open: bool | None = None, first: int | None = 100
    ) -> list[Hold]:
        limit = info.context.limits.max_page_size
        first = 100 if first is None else first
        if not 0 <= first <= limit:
            raise BadInput(f"first must be between 0 and {limit}")
        return [Hold.of(h) for h in await info.context.store.holds(open, first)]
