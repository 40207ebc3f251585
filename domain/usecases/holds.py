"""Holds (DOMAIN.md §6, issue 16 item 1): the use cases holdUnits and releaseHold. The writes
every way of holding a unit shares (a disposeUnit HOLD, an alarm with action HOLD) are in
domain/holding.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.actors import Actor
from domain.audit import AuditEvent
from domain.enums import AuditOutcome
from domain.errors import DomainError, ErrorCode
from domain.holding import open_hold, release_units
from domain.holds import Hold
from domain.lifecycle import can_be_held
from domain.ports import UnitOfWork
from domain.runs_and_units import Unit
from domain.usecases.bus import Command, Deps
from domain.validation import check_code, check_name

#: who holds when no actor is known (a CLI command)
SYSTEM_ACTOR = "system"


def _unit_audits(
    deps: Deps, action: str, units: Sequence[Unit], details: dict[str, Any]
) -> list[AuditEvent]:
    actor = deps.actor or Actor(SYSTEM_ACTOR, "")
    now = deps.clock.now()
    return [actor.audit(now, action, "Unit", u.sn, AuditOutcome.OK, None, details) for u in units]


@dataclass(frozen=True, slots=True)
class UnitFilter:
    """Which units: these SNs, the units of this run, or both (the SNs of that run)."""

    sns: tuple[str, ...] | None = None
    run_no: str | None = None


@dataclass(frozen=True, slots=True)
class HoldUnits(Command):
    filter: UnitFilter
    reason: str
    action: ClassVar[str] = "holdUnits"
    entity_type: ClassVar[str] = "Hold"

    def entity_key(self) -> str | None:
        if self.filter.run_no is not None:
            return self.filter.run_no
        return ",".join((self.filter.sns or ())[:5]) or None


async def hold_units(cmd: HoldUnits, uow: UnitOfWork, deps: Deps) -> Hold:
    """Hold every matching unit that is not SCRAPPED, in one transaction and a bounded number
    of statements (at most `max_hold_units` units); each unit audited."""
    reason = check_name(cmd.reason, "reason", max_length=2000)
    f = cmd.filter
    limit = deps.limits.max_hold_units
    if f.sns is None and f.run_no is None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, "filter: give sns, runNo or both", {"field": "filter"}
        )
    sns: list[str] = []
    if f.sns is not None:
        sns = sorted({check_code(sn, "sns") for sn in f.sns})
        if not sns:
            raise DomainError(ErrorCode.VALIDATION_FAILED, "filter.sns is empty", {"field": "sns"})
        _check_count(len(sns), limit)
    if f.run_no is not None:
        check_code(f.run_no, "runNo")
        if await uow.runs.get(f.run_no) is None:
            raise DomainError(
                ErrorCode.RUN_NOT_FOUND, f"run {f.run_no!r} not found", {"runNo": f.run_no}
            )
        if f.sns is None:
            sns = await uow.units.sns_of_run(f.run_no, limit + 1)
            _check_count(len(sns), limit)
    # the units locked in SN order, as ingest locks them: a hold and an event for one unit are
    # serialized, so neither loses the other's write
    units = await uow.units.get_many(sns, for_update=True)
    if f.sns is not None:
        missing = sorted(set(sns) - {u.sn for u in units})
        if missing:
            raise DomainError(
                ErrorCode.UNIT_NOT_FOUND,
                f"units not found: {', '.join(missing[:20])}",
                {"sns": missing},
            )
    targets = [u for u in units if can_be_held(u) and (f.run_no is None or u.run_no == f.run_no)]
    if not targets:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "the filter matches no unit that is not SCRAPPED",
            {"field": "filter", "sns": list(f.sns) if f.sns else None, "runNo": f.run_no},
        )
    actor = deps.actor.name if deps.actor else SYSTEM_ACTOR
    hold, _ = await open_hold(uow, targets, reason, actor, deps.clock.now())
    await uow.audit.add_many(_unit_audits(deps, "holdUnits", targets, {"holdId": str(hold.id)}))
    return hold


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"holdUnits holds at most {limit} units at once (MES_MAX_HOLD_UNITS); the filter "
            "matches more: narrow it",
            {"field": "filter", "max": limit},
        )


@dataclass(frozen=True, slots=True)
class ReleaseHold(Command):
    hold_id: int
    sns: tuple[str, ...] | None = None
    action: ClassVar[str] = "releaseHold"
    entity_type: ClassVar[str] = "Hold"

    def entity_key(self) -> str:
        return str(self.hold_id)


async def release_hold(cmd: ReleaseHold, uow: UnitOfWork, deps: Deps) -> Hold:
    """Release all the hold's units, or these of them; the hold closes with its last unit.
    Releasing a unit the hold let go of already changes nothing."""
    hold = await uow.holds.get(cmd.hold_id)
    if hold is None:
        raise DomainError(
            ErrorCode.HOLD_NOT_FOUND, f"hold {cmd.hold_id} not found", {"holdId": str(cmd.hold_id)}
        )
    if cmd.sns is not None:
        wanted = {check_code(sn, "sns") for sn in cmd.sns}
        strangers = sorted(wanted - {u.sn for u in hold.units})
        if strangers:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"hold {hold.id} does not hold {', '.join(strangers[:20])}",
                {"field": "sns", "holdId": str(hold.id), "sns": strangers},
            )
    else:
        wanted = {u.sn for u in hold.units}
    ids = [u.unit_id for u in hold.units if u.is_open and u.sn in wanted]
    if ids:
        # units first, then the hold row (release locks it): the order every writer keeps
        units = await uow.units.get_many_by_id(ids, for_update=True)
        released = await release_units(uow, units, deps.clock.now(), hold.id)
        # those QUEUED again: their events parked for where they stand (issue 20)
        await deps.redrive(uow, released)
        await uow.audit.add_many(_unit_audits(deps, "releaseHold", units, {"holdId": str(hold.id)}))
    after = await uow.holds.get(cmd.hold_id)
    assert after is not None
    return after
