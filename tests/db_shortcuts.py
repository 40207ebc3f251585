"""State written straight into the tables, where building it through the API would only slow
a test down."""

from __future__ import annotations

from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services


async def at_reflow(services: Services, sns: list[str]) -> None:
    """The units moved to the exec factory's REFLOW step (20)."""
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(sns)).values(current_step_no=20))
