"""Issue 19 item 2: an event that names a panel's barcode is about the panel's boards. With a
position (`units.positionPath`) the item is the board at that position; without one, the
panel's every board (a panel-level result is each board's result). A barcode is a unit's SN
first, then a panel's: a position sent with a plain unit's SN is ignored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from domain.enums import UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.mapping.normalized import UnitReading
from domain.mapping.reading import invalid
from domain.runs_and_units import Unit


def pick_boards(boards: Sequence[Unit], positions: Mapping[str, set[int | None]]) -> list[Unit]:
    """Of the panels' boards, those the event names: per panel the boards at the positions
    its items give, or all of them where an item gives none. A position the panel does not
    have is refused. Without a position, X_OUT boards are left out (skipped boards are never
    worked); a panel whose every board is X_OUT is refused with UNIT_X_OUT. A board named by its
    position is picked whatever its status: the state check refuses an X_OUT one by name."""
    by_panel: dict[str, dict[int, Unit]] = {}
    for b in boards:
        if b.panel_sn is not None and b.position is not None:
            by_panel.setdefault(b.panel_sn, {})[b.position] = b
    picked: dict[str, Unit] = {}
    for panel_sn, at in by_panel.items():
        wanted = positions.get(panel_sn) or {None}
        if None in wanted:
            live = [b for b in at.values() if b.status is not UnitStatus.X_OUT]
            if not live:
                raise DomainError(
                    ErrorCode.UNIT_X_OUT,
                    f"every board of panel {panel_sn!r} is X_OUT",
                    {"panelSn": panel_sn},
                )
            picked.update((b.sn, b) for b in live)
        for position in sorted(p for p in wanted if p is not None):
            board = at.get(position)
            if board is None:
                raise DomainError(
                    ErrorCode.UNIT_NOT_FOUND,
                    f"panel {panel_sn!r} has no board at position {position} "
                    f"(its positions: 1..{max(at)})",
                    {"panelSn": panel_sn, "position": position},
                )
            picked[board.sn] = board
    return sorted(picked.values(), key=lambda u: u.sn)


def board_readings(
    readings: Sequence[UnitReading], units: Sequence[Unit]
) -> tuple[UnitReading, ...]:
    """The readings with each panel barcode replaced by its boards' SNs (a reading without a
    position stands for every board of the panel among `units`; one whose board is not among
    them is left out). The same board twice is still refused; readings of barcodes that are
    neither stay as read."""
    own = {u.sn for u in units}
    at: dict[tuple[str, int], Unit] = {}
    of_panel: dict[str, list[Unit]] = {}
    for u in units:
        if u.panel_sn is not None and u.position is not None:
            at[(u.panel_sn, u.position)] = u
            of_panel.setdefault(u.panel_sn, []).append(u)
    out: list[UnitReading] = []
    for r in readings:
        if r.sn in own or r.sn not in of_panel:
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
