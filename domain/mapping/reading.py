"""Reading single values out of a payload for a mapping: the refusal every reading problem
becomes (INGEST_PAYLOAD_INVALID naming the path) and the one-value helpers."""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError, ErrorCode
from domain.mapping.paths import Ancestors, Path
from domain.validation import MAX_CODE_LENGTH


def invalid(message: str, **details: Any) -> DomainError:
    return DomainError(ErrorCode.INGEST_PAYLOAD_INVALID, message, details or None)


def short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 200 else text[:200] + "…"


def as_code(value: Any, what: str, path: str) -> str:
    """A code-like scalar (numbers become strings), 1–100 characters, no outer white space."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{what} at {path} is not a string or number", path=path, value=short(value))
    text = (
        value
        if isinstance(value, str)
        else format(value, "g")
        if isinstance(value, float)
        else str(value)
    )
    if not text or len(text) > MAX_CODE_LENGTH or text != text.strip() or "\x00" in text:
        raise invalid(
            f"{what} at {path} must be 1–{MAX_CODE_LENGTH} characters without outer white space",
            path=path,
            value=short(text),
        )
    return text


def as_operator(value: Any, what: str, path: str) -> str:
    """An operator's id: a string (a badge number sent as a number is a mapping mistake more
    often than an id), 1–100 characters, no outer white space."""
    if not isinstance(value, str):
        raise invalid(f"{what} at {path} is not a string", path=path, value=short(value))
    return as_code(value, what, path)


def one(path: Path, root: Any, what: str) -> Any:
    found = path.values(root)
    if not found:
        raise invalid(f"{what}: path {path.text} yielded no value", path=path.text)
    if len(found) > 1:
        raise invalid(
            f"{what}: path {path.text} yielded {len(found)} values, expected one",
            path=path.text,
            count=len(found),
        )
    return found[0]


def optional_one(path: Path | None, root: Any, what: str, ancestors: Ancestors = ()) -> Any:
    if path is None:
        return None
    found = path.values(root, ancestors)
    if len(found) > 1:
        raise invalid(
            f"{what}: path {path.text} yielded {len(found)} values, expected one",
            path=path.text,
            count=len(found),
        )
    return found[0] if found else None
