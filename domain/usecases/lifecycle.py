"""disposeUnit: quality's decisions about a unit (DOMAIN.md §6)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain.changes import UnitsChanged
from domain.enums import DispositionAction, TrackResult
from domain.errors import DomainError, ErrorCode
from domain.holding import open_hold
from domain.lifecycle import REWORKS, dispose, leaves_station
from domain.ports import UnitOfWork
from domain.runs_and_units import Disposition, Unit
from domain.usecases.bus import Command, Deps
from domain.usecases.holds import SYSTEM_ACTOR
from domain.validation import check_code, check_name, check_optional_code


@dataclass(frozen=True, slots=True)
class DisposeUnit(Command):
    sn: str
    disposition: DispositionAction
    reason: str
    operator_id: str | None = None
    to_step_no: int | None = None
    action: ClassVar[str] = "disposeUnit"
    entity_type: ClassVar[str] = "Unit"

    def entity_key(self) -> str:
        return self.sn


@dataclass(frozen=True, slots=True)
class Disposed:
    unit: Unit
    disposition: Disposition


async def dispose_unit(cmd: DisposeUnit, uow: UnitOfWork, deps: Deps) -> Disposed:
    """The transitions of domain/lifecycle.py (RETEST and REWORK at most the route's
    maxReworks times per unit). HOLD opens a Hold; RELEASE releases every open hold on the
    unit; SCRAP of a unit in station closes its open track. Audited and listed on the unit's
    dispositions."""
    check_code(cmd.sn, "sn")
    check_name(cmd.reason, "reason", max_length=2000)
    check_optional_code(cmd.operator_id, "operatorId")
    unit = await uow.units.get(cmd.sn, for_update=True)
    if unit is None:
        raise DomainError(ErrorCode.UNIT_NOT_FOUND, f"unit {cmd.sn!r} not found", {"sns": [cmd.sn]})
    run = await uow.runs.get(unit.run_no)
    assert run is not None
    version = (await uow.route_versions.get_many([run.route_version_id]))[run.route_version_id]
    reworks = (
        await uow.units.count_dispositions(unit.id or 0, REWORKS)
        if cmd.disposition in REWORKS
        else 0
    )
    moved = dispose(unit, cmd.disposition, version, cmd.to_step_no, reworks)
    now = deps.clock.now()
    if cmd.disposition is DispositionAction.HOLD:
        actor = deps.actor.name if deps.actor else SYSTEM_ACTOR
        await open_hold(uow, [unit], cmd.reason, actor, now)
    elif cmd.disposition in (DispositionAction.RELEASE, DispositionAction.SCRAP):
        # RELEASE lets go of every open hold on the unit; a scrapped unit is held by none
        await uow.holds.release([unit.id or 0], now)
    if leaves_station(unit, moved):
        await _close_open_track(uow, unit, now)
    if cmd.disposition is not DispositionAction.HOLD:
        await uow.units.update_many([moved])
        uow.publish(UnitsChanged.of([moved]))
        if moved.status is not unit.status or moved.current_step_no != unit.current_step_no:
            # QUEUED again (RETEST, REWORK, RELEASE): its events parked for there (issue 20)
            await deps.redrive(uow, [moved])
    record = await uow.units.add_disposition(
        Disposition(
            unit_id=unit.id or 0,
            action=cmd.disposition,
            reason=cmd.reason,
            at=now,
            from_status=unit.status,
            to_status=moved.status,
            from_step_no=unit.current_step_no,
            to_step_no=moved.current_step_no,
            operator_id=cmd.operator_id,
        )
    )
    return Disposed(moved, record)


async def _close_open_track(uow: UnitOfWork, unit: Unit, at: datetime) -> None:
    """A unit scrapped in station leaves no track open: it is closed with result ERROR (the
    work was interrupted, not judged; DOMAIN §6)."""
    track = await uow.tracks.open_of_unit(unit.id or 0)
    if track is not None:
        await uow.tracks.close(replace(track, out_at=at, result=TrackResult.ERROR))
