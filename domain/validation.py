"""Input rules shared by every use case: codes, serial numbers, quantities, text."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import DomainError, ErrorCode

MAX_CODE_LENGTH = 100


#: C0/C1 control characters (tabs and line breaks included): never part of a code or an SN
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_code(value: str | None, field_name: str) -> str:
    """Codes and SNs: case-sensitive, 1–100 characters, no leading/trailing white space, no
    control characters."""
    if value is None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, f"{field_name} is required", {"field": field_name}
        )
    if not isinstance(value, str) or not value:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, f"{field_name} must not be empty", {"field": field_name}
        )
    if len(value) > MAX_CODE_LENGTH:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} is longer than {MAX_CODE_LENGTH} characters",
            {"field": field_name, "length": len(value), "max": MAX_CODE_LENGTH},
        )
    if value != value.strip():
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} has leading or trailing white space",
            {"field": field_name, "value": value},
        )
    check_no_nul(value, field_name)
    if _CONTROL.search(value):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} contains a control character",
            {"field": field_name},
        )
    return value


def check_optional_code(value: str | None, field_name: str) -> str | None:
    return None if value is None else check_code(value, field_name)


def check_name(value: str | None, field_name: str, max_length: int = 500) -> str:
    """Human names: non-blank, bounded, no NUL."""
    if value is None or not value.strip():
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, f"{field_name} must not be blank", {"field": field_name}
        )
    if len(value) > max_length:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} is longer than {max_length} characters",
            {"field": field_name, "length": len(value), "max": max_length},
        )
    check_no_nul(value, field_name)
    return value


def check_positive(value: int, field_name: str, maximum: int | None = None) -> int:
    if value < 1:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, f"{field_name} must be at least 1", {"field": field_name}
        )
    if maximum is not None and value > maximum:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} must be at most {maximum}",
            {"field": field_name, "max": maximum},
        )
    return value


def check_no_nul(value: Any, field_name: str) -> None:
    """PostgreSQL cannot store NUL characters: both databases refuse them alike."""
    if _has_nul(value, depth=0):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"{field_name} contains a NUL character",
            {"field": field_name},
        )


def _has_nul(value: Any, depth: int) -> bool:
    if depth > 200:
        return False
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def scrubbed(value: Any, depth: int = 0) -> Any:
    """The value with every NUL character replaced by U+FFFD (what PostgreSQL cannot store),
    for records of refused input: the audit trail keeps what was sent, as near as it can."""
    if depth > 200:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {scrubbed(k, depth + 1): scrubbed(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(v, depth + 1) for v in value]
    return value
