"""Order tolerance (issue 20), the judging side: is an event the step check refused only
early — its units not yet at its step — and which step does it wait for? (Also asked when the
units stand at a step of the event's type whose station constraints the event's station does
not meet: with two steps of one type in a row, SPI then AOI, the AOI's result may come first.)

The event's step is the first step at or after the furthest of its units, in their frozen
version, whose station type is the event's type, whose mapping reads the payload and yields
the event's units, and whose station constraints the event's station meets (type, allowed
stations, group, line; and the recipe interlock). So every unit is at that step or behind it;
an event whose units are past every such step (it is late, or the route has none) stays
STEP_MISMATCH. Choices:

- ALL_OR_NOTHING: one unit behind makes the whole event wait (for the last of its units).
- PARTIAL: the event waits only when every unit not refused for another reason (its state) is
  behind; when some stand at the event's step, today's per-unit refusals hold (the ones behind
  are STEP_MISMATCH rejections, replayable under `dedupeKey#sn`).
- A station that does not exist, or that the sender may not write for, is no step's to decide:
  the first step of the type whose mapping reads the units is taken, and the full judging
  refuses the event (STATION_NOT_FOUND, FORBIDDEN), as it would an event on time.

Which step, here; the other checks (data, required data, limits) then run against that step
as if the units stood there (`Acceptor.judge`): an early event that fails one is refused with
its code, never parked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.actors import Actor
from domain.enums import StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.checks import check_recipe, check_same_units, check_station
from domain.ingest.panel_boards import board_readings
from domain.ingest.resolve import MappingCache, Resolved, Verdict
from domain.ingest.stations import station_named
from domain.mapping.normalized import NormalizedPayload
from domain.master import Station
from domain.ports import UnitOfWork
from domain.routes import RouteStep


def is_early(verdicts: list[Verdict], partial: bool) -> bool:
    """Whether the step check's refusals may mean "not there yet": some unit refused
    STEP_MISMATCH (under PARTIAL: every unit not refused for another reason)."""
    behind = [v for v in verdicts if v.error is not None and _step_mismatch(v.error)]
    if not behind:
        return False
    return not partial or all(v.error is not None for v in verdicts if _may_wait(v))


async def waiting_step(
    uow: UnitOfWork,
    mappings: MappingCache,
    actor: Actor | None,
    root: dict[str, Any],
    station_type: StationType,
    resolved: Resolved,
    verdicts: list[Verdict],
) -> RouteStep | None:
    """The step the event waits for (see the module), or None: it is not early."""
    version = resolved.version
    index = {s.step_no: i for i, s in enumerate(version.steps)}
    positions = [index.get(v.unit.current_step_no or -1) for v in verdicts if _may_wait(v)]
    if not positions or any(p is None for p in positions):
        return None
    fits = _Fits(uow, mappings, actor, root, station_type, resolved)
    for step in version.steps[max(p for p in positions if p is not None) :]:
        fit = await fits(step)
        if fit is None:
            continue
        if isinstance(fit, NormalizedPayload) and await _late(
            fits, version.steps[: min(p for p in positions if p is not None)], fit
        ):
            return None
        return step
    return None


class _Fits:
    """Whether the event is a step's: its mapping reads the event's units, and the event's
    station meets the step's constraints (type, allowed stations, group, line; the recipe)."""

    def __init__(
        self,
        uow: UnitOfWork,
        mappings: MappingCache,
        actor: Actor | None,
        root: dict[str, Any],
        station_type: StationType,
        resolved: Resolved,
    ):
        self.uow, self.mappings, self.actor, self.root = uow, mappings, actor, root
        self.station_type, self.resolved = station_type, resolved
        self.stations: dict[str, Station | None] = {}

    async def __call__(self, step: RouteStep) -> NormalizedPayload | bool | None:
        """The event read by the step (it fits), True when the full judging refuses the event
        whichever step (no such station, or one the sender may not write for), None when it
        does not fit."""
        if step.station_type is not self.station_type:
            return None
        found = self.mappings.get(self.resolved.version, step)
        if found is None:
            return None
        try:
            normalized = found.pick(self.root).normalize(self.root, self.station_type)
            boards = board_readings(normalized.units, self.resolved.units, self.resolved.carried)
            normalized = replace(normalized, units=boards)
            check_same_units(normalized, self.resolved, step)
        except DomainError:
            return None  # this step's mapping does not read the event
        code = normalized.station_code
        if code not in self.stations:
            self.stations[code] = await station_named(self.uow, code)
        station = self.stations[code]
        code = station.code if station is not None else code
        if station is None or (
            self.actor is not None and self.actor.station_refusal(code, station)
        ):
            return True
        if check_station(station, code, step, self.resolved.run) or check_recipe(
            step, normalized.recipe
        ):
            return None
        return normalized


async def _late(fits: _Fits, passed: Sequence[RouteStep], event: NormalizedPayload) -> bool:
    """An event that fits a later step may instead be a late one of a step its units passed
    (a route that tests twice at one station group): it is late when it fits such a step and
    a unit has a track there at that station that ended at or after the event's time. One
    statement per unit and such step, only on this rare path."""
    occurred = event.occurred_at or _sent_time(fits.root)
    if occurred is None:
        return False
    run_no = fits.resolved.run.run_no
    for step in passed:
        if not isinstance(await fits(step), NormalizedPayload):
            continue
        for unit in fits.resolved.units:
            tracks = await fits.uow.tracks.matching(
                run_no, unit.id or 0, step.step_no, event.station_code
            )
            if any(t.out_at is not None and t.out_at >= occurred for t in tracks):
                return True
    return False


def _sent_time(root: dict[str, Any]) -> datetime | None:
    raw = root.get("occurredAt")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _step_mismatch(err: DomainError) -> bool:
    return err.code is ErrorCode.STEP_MISMATCH


def _may_wait(v: Verdict) -> bool:
    """Not refused for another reason than its position."""
    return v.error is None or _step_mismatch(v.error)
