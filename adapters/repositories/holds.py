"""Holds and the units they hold (issue 16)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    insert,
    select,
    update,
)

from adapters import rows
from adapters import tables as t
from adapters.repositories.base import SqlRepository, chunks
from domain.holds import Hold


class SqlHoldRepository(SqlRepository):
    """Holds and the units they hold (issue 16): writes in a fixed number of statements."""

    async def add(self, hold: Hold) -> Hold:
        new_id = (
            await self._exec(
                insert(t.hold).returning(t.hold.c.id),
                {
                    "reason": hold.reason,
                    "actor": hold.actor,
                    "opened_at": hold.opened_at,
                    "closed_at": hold.closed_at,
                },
            )
        ).scalar_one()
        if hold.units:
            await self._exec(
                insert(t.hold_unit),
                [
                    {"hold_id": new_id, "unit_id": u.unit_id, "sn": u.sn, "released_at": None}
                    for u in hold.units
                ],
            )
        return replace(hold, id=new_id)

    async def get(self, hold_id: int, *, for_update: bool = False) -> Hold | None:
        r = await self._one(select(t.hold).where(t.hold.c.id == hold_id), for_update=for_update)
        if r is None:
            return None
        units = await self._exec(
            select(t.hold_unit).where(t.hold_unit.c.hold_id == hold_id).order_by(t.hold_unit.c.sn)
        )
        return replace(
            rows.hold_from_row(r), units=tuple(rows.held_unit_from_row(u) for u in units)
        )

    async def open_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        found: dict[int, list[Hold]] = {}
        for part in chunks(sorted(set(unit_ids))):
            stmt = (
                select(t.hold, t.hold_unit.c.unit_id, t.hold_unit.c.sn, t.hold_unit.c.released_at)
                .join(t.hold_unit, t.hold_unit.c.hold_id == t.hold.c.id)
                .where(t.hold_unit.c.unit_id.in_(part), t.hold_unit.c.released_at.is_(None))
                .order_by(t.hold.c.id)
            )
            for r in await self._exec(stmt):
                hold = replace(rows.hold_from_row(r), units=(rows.held_unit_from_row(r),))
                found.setdefault(r.unit_id, []).append(hold)
        return found

    async def release(
        self, unit_ids: Sequence[int], at: datetime, hold_id: int | None = None
    ) -> None:
        hu = t.hold_unit
        touched: set[int] = set()
        for part in chunks(sorted(set(unit_ids))):
            where: list[ColumnElement[bool]] = [
                hu.c.unit_id.in_(part),
                hu.c.released_at.is_(None),
            ]
            if hold_id is not None:
                where.append(hu.c.hold_id == hold_id)
            result = await self._exec(
                update(hu).where(*where).values(released_at=at).returning(hu.c.hold_id)
            )
            touched.update(result.scalars())
        if touched:
            # each hold row locked (in id order) before it is judged: two releases of one
            # hold's units at once must not both see the other's unit still open
            await self._exec(
                select(t.hold.c.id)
                .where(t.hold.c.id.in_(sorted(touched)))
                .order_by(t.hold.c.id)
                .with_for_update()
            )
        still_open = (
            select(hu.c.hold_id)
            .where(hu.c.hold_id == t.hold.c.id, hu.c.released_at.is_(None))
            .exists()
        )
        for part in chunks(sorted(touched)):
            await self._exec(
                update(t.hold)
                .where(t.hold.c.id.in_(part), t.hold.c.closed_at.is_(None), ~still_open)
                .values(closed_at=at)
            )
