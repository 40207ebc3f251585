"""Result and judge vocabularies (DOMAIN.md §3): case-insensitive, with the usual words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.enums import Judge, TrackResult

PASS_WORDS = frozenset({"PASS", "PASSED", "OK", "GOOD", "TRUE"})
FAIL_WORDS = frozenset({"FAIL", "FAILED", "NG", "BAD", "FALSE"})


def word(value: Any) -> str | None:
    """A scalar as an upper-case word; None for objects, lists and null."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str | int | float):
        return str(value).strip().upper()
    return None


def to_result(
    value: Any, pass_values: Iterable[str] = (), fail_values: Iterable[str] = ()
) -> TrackResult | None:
    """PASS/FAIL by the mapping's own lists first, then the usual words; None if neither."""
    w = word(value)
    if w is None:
        return None
    if w in {p.strip().upper() for p in pass_values}:
        return TrackResult.PASS
    if w in {f.strip().upper() for f in fail_values}:
        return TrackResult.FAIL
    if w in PASS_WORDS:
        return TrackResult.PASS
    if w in FAIL_WORDS:
        return TrackResult.FAIL
    return None


def to_judge(value: Any, pass_values: Iterable[str] = (), fail_values: Iterable[str] = ()) -> Judge:
    """A source's judge word by the result vocabulary: PASS, FAIL, or NA for anything else
    (an unknown judge word is NA, never a refusal)."""
    result = to_result(value, pass_values, fail_values)
    if result is None:
        return Judge.NA
    return Judge.PASS if result is TrackResult.PASS else Judge.FAIL
