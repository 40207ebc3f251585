"""Panels (issue 19 item 1): one barcode over several boards at positions 1..n; each board is a
unit of its own, with the panel's barcode and its position."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError, ErrorCode
from domain.validation import check_code, check_positive, check_sn

#: a panel's positions; real SMT panels hold tens of boards, this keeps one request bounded
MAX_PANEL_POSITIONS = 1000
DEFAULT_SN_PATTERN = "{panel}-{position}"


@dataclass(frozen=True, slots=True)
class Panel:
    panel_sn: str
    positions: int
    run_no: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """A panel as registerUnits receives it: `sns` are the boards' own labels by position
    (None where a board has none); the rest are named by `sn_pattern`."""

    panel_sn: str
    positions: int
    sns: tuple[str | None, ...] | None = None
    sn_pattern: str | None = None
    x_out_positions: tuple[int, ...] | None = None


def panel_boards(spec: PanelSpec, site_sn_pattern: str | None) -> list[tuple[int, str]]:
    """The panel's boards as (position, SN), position order. Refuses what cannot be a panel."""
    check_code(spec.panel_sn, "panels.panelSn")
    check_positive(spec.positions, "panels.positions", maximum=MAX_PANEL_POSITIONS)
    x_out_positions(spec)
    if spec.sns is not None and len(spec.sns) != spec.positions:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"panel {spec.panel_sn!r}: sns must give one entry per position ({spec.positions})",
            {"field": "panels.sns", "panelSn": spec.panel_sn},
        )
    pattern = DEFAULT_SN_PATTERN if spec.sn_pattern is None else spec.sn_pattern
    if "{position}" not in pattern:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "snPattern must contain {position}: every board needs its own SN",
            {"field": "panels.snPattern"},
        )
    boards: list[tuple[int, str]] = []
    for position in range(1, spec.positions + 1):
        own = spec.sns[position - 1] if spec.sns is not None else None
        sn = own if own is not None else _named(pattern, spec.panel_sn, position)
        boards.append((position, check_sn(sn, "panels.sns", site_sn_pattern)))
    return boards


def x_out_positions(spec: PanelSpec) -> frozenset[int]:
    """The positions registered X_OUT (skipped boards): each a position of the panel, once."""
    given = spec.x_out_positions or ()
    wrong = sorted({p for p in given if not 1 <= p <= spec.positions})
    repeated = sorted(p for p, n in Counter(given).items() if n > 1)
    if wrong or repeated:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"panel {spec.panel_sn!r}: xOutPositions must be distinct positions "
            f"1..{spec.positions}",
            {
                "field": "panels.xOutPositions",
                "panelSn": spec.panel_sn,
                "positions": wrong or repeated,
            },
        )
    return frozenset(given)


def _named(pattern: str, panel_sn: str, position: int) -> str:
    # str.replace, not str.format: a pattern is data, and braces elsewhere stay literal
    return pattern.replace("{panel}", panel_sn).replace("{position}", str(position))


def check_barcodes_distinct(panel_sns: list[str], board_sns: list[str]) -> None:
    """Within one registration: each barcode names one thing (a panel or a board), once."""
    repeated = sorted(sn for sn, n in Counter(panel_sns + board_sns).items() if n > 1)
    if repeated:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"barcodes repeat: {', '.join(repeated[:10])}",
            {"field": "panels", "repeated": repeated[:100]},
        )
