"""Holding units (DOMAIN.md §6) over the unit of work: the hold every way of holding a unit
opens (holdUnits, a disposeUnit HOLD, an alarm with action HOLD, on ingest or by hand), the
release, and the open holds a UNIT_ON_HOLD refusal names. A unit stays ON_HOLD while any hold
on it is open; the last one to close returns it where it was."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.changes import UnitsChanged
from domain.enums import UnitStatus
from domain.holds import HeldUnit, Hold
from domain.lifecycle import held, released
from domain.ports import UnitOfWork
from domain.runs_and_units import Unit


async def open_hold(
    uow: UnitOfWork, units: Sequence[Unit], reason: str, actor: str, at: datetime
) -> tuple[Hold, list[Unit]]:
    """One hold on these units (each made ON_HOLD, remembering where it was; a held unit stays
    held), in a fixed number of statements. The caller has locked the units."""
    moved = [held(u) for u in units]
    await uow.units.update_many(moved)
    hold = await uow.holds.add(
        Hold(
            reason=reason,
            actor=actor,
            opened_at=at,
            units=tuple(HeldUnit(u.id or 0, u.sn) for u in units),
        )
    )
    uow.publish(UnitsChanged.of(moved))
    return hold, moved


async def release_units(
    uow: UnitOfWork, units: Sequence[Unit], at: datetime, hold_id: int | None = None
) -> list[Unit]:
    """Release these (locked) units from that hold, or from every open hold on them; each one
    no other hold keeps returns to the status it was held from."""
    ids = [u.id or 0 for u in units]
    await uow.holds.release(ids, at, hold_id)
    still = await uow.holds.open_of_units(ids) if hold_id is not None else {}
    moved = [released(u) for u in units if (u.id or 0) not in still]
    await uow.units.update_many(moved)
    uow.publish(UnitsChanged.of(units))
    return [next((m for m in moved if m.sn == u.sn), u) for u in units]


async def open_holds_of(uow: UnitOfWork, units: Sequence[Unit]) -> dict[int, list[Hold]]:
    """The open holds of the ON_HOLD ones among these units (no statement when none is), for
    UNIT_ON_HOLD refusals."""
    ids = [u.id for u in units if u.status is UnitStatus.ON_HOLD and u.id is not None]
    return await uow.holds.open_of_units(ids) if ids else {}
