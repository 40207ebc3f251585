"""`CFX.Production.UnitsDisqualified` (issue 21): a machine (or its operator) disqualifies units
— abandoned, dropped, damaged — so no later step works on them. The named units become X_OUT
(terminal, as a skipped board of its panel: closeRun counts it finished), each with an X_OUT
disposition whose reason names the message's Source and its `Reason` (and `Comments`).

A unit in station leaves it (its open track closes as ERROR, as a scrap does); an ON_HOLD one
is released from its holds. Units already X_OUT are left as they are; units DONE or SCRAPPED
are skipped, not refused: the message comes after their end (a late or resent message), so
there is nothing left to disqualify, and refusing it would lose the others' X-out. Both are
listed in the event's `normalized`. A named barcode that is no unit (nor a panel's board at
that position) refuses the whole message (UNIT_NOT_FOUND)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.enums import DispositionAction, TrackResult, UnitStatus
from domain.ports import UnitOfWork
from domain.runs_and_units import Disposition, Unit

NAME = "CFX.Production.UnitsDisqualified"
#: a disposition's reason is at most this long
MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class Disqualified:
    """What the message changes: the units made X_OUT and their dispositions; the units it
    leaves (already X_OUT, or DONE / SCRAPPED)."""

    units: tuple[Unit, ...]
    dispositions: tuple[Disposition, ...]
    unchanged: tuple[Unit, ...]


def reason_of(source: str, body: dict[str, Any]) -> str:
    """`disqualified by {Source} ({Reason})`, with the machine's Comments after it."""
    why = body.get("Reason")
    why = why.strip() if isinstance(why, str) and why.strip() else "no reason given"
    comments = body.get("Comments")
    text = f"disqualified by {source} ({why})"
    if isinstance(comments, str) and comments.strip():
        text += f": {comments.strip()}"
    return text[:MAX_REASON]


async def disqualify(uow: UnitOfWork, units: list[Unit], reason: str, at: datetime) -> Disqualified:
    """X_OUT for the units that are not finished (locked by the caller); their open tracks
    closed and holds released here, the units and dispositions returned for the event's
    writes."""
    changed: list[Unit] = []
    dispositions: list[Disposition] = []
    for unit in units:
        if unit.status in (UnitStatus.X_OUT, UnitStatus.DONE, UnitStatus.SCRAPPED):
            continue
        if unit.status is UnitStatus.IN_STATION:
            track = await uow.tracks.open_of_unit(unit.id or 0)
            if track is not None:
                await uow.tracks.close(replace(track, out_at=at, result=TrackResult.ERROR))
        changed.append(replace(unit, status=UnitStatus.X_OUT, held_from=None))
        dispositions.append(
            Disposition(
                unit_id=unit.id or 0,
                action=DispositionAction.X_OUT,
                reason=reason,
                at=at,
                from_status=unit.status,
                to_status=UnitStatus.X_OUT,
                from_step_no=unit.current_step_no,
                to_step_no=unit.current_step_no,
            )
        )
    held = [u.id or 0 for u in units if u.status is UnitStatus.ON_HOLD]
    if held:
        await uow.holds.release(held, at)
    done = {u.sn for u in changed}
    return Disqualified(
        tuple(changed), tuple(dispositions), tuple(u for u in units if u.sn not in done)
    )
