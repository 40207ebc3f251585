"""Issue 19 item 2: an event that names a panel's barcode is about the panel's boards. With a
position (`units.positionPath`) the item is the board at that position; without one, the
panel's every board (a panel-level result is each board's result). X_OUT boards are left out
either way. A barcode is a unit's SN first, then a panel's: a position sent with a plain unit's
SN is ignored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from domain.enums import UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.mapping.normalized import UnitReading
from domain.mapping.reading import invalid
from domain.runs_and_units import Unit


def pick_boards(
    boards: Sequence[Unit], positions: Mapping[str, set[int | None]]
) -> tuple[list[Unit], list[Unit]]:
    """Of the panels' boards, those the event names: per panel the boards at the positions
    its items give, or all of them where an item gives none; and the X_OUT boards it named,
    left out (skipped boards are never worked, whether the event names them by position or
    names their panel). A position the panel does not have is refused; an event that names
    only X_OUT boards is refused with UNIT_X_OUT."""
    by_panel: dict[str, dict[int, Unit]] = {}
    for b in boards:
        if b.panel_sn is not None and b.position is not None:
            by_panel.setdefault(b.panel_sn, {})[b.position] = b
    named: dict[str, Unit] = {}
    for panel_sn, at in by_panel.items():
        wanted = positions.get(panel_sn) or {None}
        if None in wanted:
            named.update((b.sn, b) for b in at.values())
        for position in sorted(p for p in wanted if p is not None):
            board = at.get(position)
            if board is None:
                raise DomainError(
                    ErrorCode.UNIT_NOT_FOUND,
                    f"panel {panel_sn!r} has no board at position {position} "
                    f"(its positions: 1..{max(at)})",
                    {"panelSn": panel_sn, "position": position},
                )
            named[board.sn] = board
    picked = sorted(
        (b for b in named.values() if b.status is not UnitStatus.X_OUT), key=lambda u: u.sn
    )
    x_outs = sorted((b for b in named.values() if b.status is UnitStatus.X_OUT), key=lambda u: u.sn)
    if x_outs and not picked:
        panels = sorted({b.panel_sn or "" for b in x_outs})
        raise DomainError(
            ErrorCode.UNIT_X_OUT,
            f"every board the event names on panel(s) {', '.join(panels)} is X_OUT",
            {"panelSns": panels, "sns": [b.sn for b in x_outs][:100]},
        )
    return picked, x_outs


def board_readings(
    readings: Sequence[UnitReading],
    units: Sequence[Unit],
    carried: Mapping[str, Sequence[str]] | None = None,
) -> tuple[UnitReading, ...]:
    """The readings with each panel barcode replaced by its boards' SNs (a reading without a
    position stands for every board of the panel among `units`; one whose board is not among
    them is left out), and each carrier name in `carried` by its units' (a position ignored).
    The same board twice is still refused; readings of barcodes that are none of these stay
    as read."""
    own = {u.sn for u in units}
    carried = carried or {}
    at: dict[tuple[str, int], Unit] = {}
    of_panel: dict[str, list[Unit]] = {}
    for u in units:
        if u.panel_sn is not None and u.position is not None:
            at[(u.panel_sn, u.position)] = u
            of_panel.setdefault(u.panel_sn, []).append(u)
    out: list[UnitReading] = []
    for r in readings:
        if r.sn in carried and r.sn not in own:
            out += [replace(r, sn=sn, position=None) for sn in carried[r.sn] if sn in own]
        elif r.sn in own or r.sn not in of_panel:
            out.append(replace(r, position=None))
        elif r.position is None:
            out += [replace(r, sn=b.sn) for b in of_panel[r.sn]]
        else:
            board = at.get((r.sn, r.position))
            # step 3 refused positions the panel lacks; a board missing here is one the event
            # is not about now (a PARTIAL replay of another board)
            if board is not None:
                out.append(replace(r, sn=board.sn, position=None))
    seen: set[str] = set()
    for r in out:
        if r.sn in seen:
            raise invalid(f"unit {r.sn} is reported twice in one event", sn=r.sn)
        seen.add(r.sn)
    return tuple(out)
