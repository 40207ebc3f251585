"""Result and judge vocabularies (DOMAIN.md §3): case-insensitive, with the usual words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.enums import Judge, TrackResult

PASS_WORDS = frozenset({"PASS", "PASSED", "OK", "GOOD", "TRUE"})
FAIL_WORDS = frozenset({"FAIL", "FAILED", "NG", "BAD", "FALSE"})
#: the tester's own failure (fixture fault, operator abort): result ERROR (DOMAIN.md §6)
ERROR_WORDS = frozenset({"ERROR", "ERRORED", "ABORTED"})


def word(value: Any) -> str | None:
    """A scalar as an upper-case word; None for objects, lists and null."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str | int | float):
        return str(value).strip().upper()
    return None


def to_result(
    value: Any,
    pass_values: Iterable[str] = (),
    fail_values: Iterable[str] = (),
    error_values: Iterable[str] = (),
) -> TrackResult | None:
    """PASS/FAIL/ERROR by the mapping's own lists first, then the usual words; None if none."""
    w = word(value)
    if w is None:
        return None
    if w in {p.strip().upper() for p in pass_values}:
        return TrackResult.PASS
    if w in {f.strip().upper() for f in fail_values}:
        return TrackResult.FAIL
    if w in {e.strip().upper() for e in error_values}:
        return TrackResult.ERROR
    if w in PASS_WORDS:
        return TrackResult.PASS
    if w in FAIL_WORDS:
        return TrackResult.FAIL
    if w in ERROR_WORDS:
        return TrackResult.ERROR
    return None


def is_skip(value: Any, skip_values: Iterable[str] = ()) -> bool:
    """Whether the result is one of the mapping's `skipValues` (case-insensitive): the machine
    skipped the board (an X-out), no verdict at all. No built-in words: only the mapping's."""
    w = word(value)
    return w is not None and w in {s.strip().upper() for s in skip_values}


def to_judge(value: Any, pass_values: Iterable[str] = (), fail_values: Iterable[str] = ()) -> Judge:
    """A source's judge word by the result vocabulary: PASS, FAIL, or NA for anything else
    (an unknown judge word is NA, never a refusal; so is an error word: no verdict)."""
    result = to_result(value, pass_values, fail_values)
    if result is TrackResult.PASS:
        return Judge.PASS
    return Judge.FAIL if result is TrackResult.FAIL else Judge.NA
