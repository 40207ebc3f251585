"""The units a CFX message names (`Units[{UnitIdentifier, PositionNumber}]`), as the machine
labels them: a unit's own barcode, or a panel's barcode with a position (CFX's 0, or none: the
whole panel). Resolved as ingest resolves a barcode: a unit's SN first, then the panel's board
at that position, or every board of the panel without one; a position the panel lacks, or a
barcode that is neither, stays as named (the caller refuses it as UNIT_NOT_FOUND)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.errors import DomainError, ErrorCode


@dataclass(frozen=True, slots=True)
class AskedUnit:
    """One unit a message names: its barcode and, for a panel's board, its position."""

    barcode: str
    position: int | None = None


class Board(Protocol):
    @property
    def sn(self) -> str: ...

    @property
    def position(self) -> int | None: ...


def named_units(body: Any, message: str, *, required: bool = True) -> list[AskedUnit]:
    """The units of `body.Units` (VALIDATION_FAILED, naming `message`, for an item that names
    no barcode or a position that is no whole number from 0; and, when `required`, for a body
    that names none)."""
    if not isinstance(body, dict):
        raise invalid(message, "MessageBody is not an object")
    units = body.get("Units")
    asked: list[AskedUnit] = []
    for i, item in enumerate(units if isinstance(units, list) else ()):
        barcode = item.get("UnitIdentifier") if isinstance(item, dict) else None
        position = item.get("PositionNumber") if isinstance(item, dict) else None
        if not isinstance(barcode, str) or not barcode.strip():
            raise invalid(message, f"Units[{i}].UnitIdentifier is not a barcode")
        if position is not None and (
            isinstance(position, bool) or not isinstance(position, int) or position < 0
        ):
            raise invalid(message, f"Units[{i}].PositionNumber is not a whole number from 0")
        # CFX's 0 (and a missing position) means "no position": the whole unit
        asked.append(AskedUnit(barcode.strip(), position or None))
    if required and not asked:
        raise invalid(message, "the message names no unit (Units)")
    return asked


def boards_named(
    asked: Sequence[AskedUnit],
    units: Collection[str],
    panels: Mapping[str, Sequence[Board]],
) -> dict[AskedUnit, list[str]]:
    """The board SNs each asked barcode that is no unit's (`units`: the SNs known) stands for,
    from its panel's boards (`panels`): the board at the position, or every board in position
    order; a position the panel lacks stays as asked. Barcodes of units, and of no panel, are
    left out (they stand for themselves)."""
    out: dict[AskedUnit, list[str]] = {}
    for a in asked:
        of_panel = panels.get(a.barcode)
        if a.barcode in units or not of_panel:
            continue
        if a.position is None:
            out[a] = [b.sn for b in sorted(of_panel, key=lambda b: b.position or 0)]
        else:
            at = [b.sn for b in of_panel if b.position == a.position]
            out[a] = at or [a.barcode]
    return out


def sns_of(asked: Sequence[AskedUnit], boards: Mapping[AskedUnit, list[str]]) -> list[str]:
    """Every SN the asked units stand for, once each, in the message's order."""
    return list(dict.fromkeys(sn for a in asked for sn in boards.get(a, [a.barcode])))


def invalid(message: str, text: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, f"{message}: {text}")
