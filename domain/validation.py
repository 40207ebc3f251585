"""Input rules shared by every use case: codes, serial numbers, quantities, text."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import orjson

from domain.errors import DomainError, ErrorCode

MAX_CODE_LENGTH = 100
#: how deeply a JSON input (a payload, meta, a mapping) may nest: MES_MAX_JSON_DEPTH
DEFAULT_MAX_JSON_DEPTH = 64


#: C0/C1 control characters (tabs and line breaks included): never part of a code or an SN
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: lone surrogates (what a JSON "\ud800" escape decodes to): no UTF-8 encoding, no database
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: what a code may not contain (DOMAIN.md §1): white space, control, format (zero-width,
#: bidi overrides, BOM) and surrogate characters
_NOT_IN_CODES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs"})
_KINDS = {"Cc": "a control", "Cf": "a format (invisible)", "Cs": "a lone surrogate"}


def _refuse(field_name: str, problem: str, **details: Any) -> DomainError:
    return DomainError(
        ErrorCode.VALIDATION_FAILED, f"{field_name} {problem}", {"field": field_name, **details}
    )


def check_code(value: str | None, field_name: str, max_length: int = MAX_CODE_LENGTH) -> str:
    """Codes and SNs (DOMAIN.md §1): case-sensitive, 1–100 characters, NFC-normalised, no
    white space, control or format (zero-width) characters."""
    if value is None:
        raise _refuse(field_name, "is required")
    if not isinstance(value, str) or not value:
        raise _refuse(field_name, "must not be empty")
    if len(value) > max_length:
        raise _refuse(
            field_name,
            f"is longer than {max_length} characters",
            length=len(value),
            max=max_length,
        )
    if value.isascii():  # the usual code: one C-speed test instead of one per character
        if _CONTROL.search(value) or " " in value:
            raise _refuse(field_name, "contains white space or a control character")
        return value
    check_no_nul(value, field_name)
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in _NOT_IN_CODES or char.isspace():
            kind = _KINDS.get(category, "a white space")
            raise _refuse(
                field_name,
                f"contains {kind} character (U+{ord(char):04X}) at {position}",
                character=f"U+{ord(char):04X}",
            )
    if not unicodedata.is_normalized("NFC", value):
        raise _refuse(
            field_name,
            "is not NFC-normalised (send the composed form, e.g. é as one character)",
        )
    return value


def check_sn(value: str | None, field_name: str, pattern: str | None = None) -> str:
    """A serial number: a code, and a full match of the site's MES_SN_PATTERN when it has one."""
    sn = check_code(value, field_name)
    if pattern is not None and re.fullmatch(pattern, sn) is None:
        raise _refuse(field_name, f"{sn!r} does not match the site's serial number pattern")
    return sn


def check_free_text(value: str | None, field_name: str) -> None:
    """Free text kept as sent (a dedupeKey): anything but control characters (and what no
    database stores)."""
    if value is None:
        return
    check_no_nul(value, field_name)
    if _CONTROL.search(value):
        raise _refuse(field_name, "contains a control character")


def check_optional_code(value: str | None, field_name: str) -> str | None:
    return None if value is None else check_code(value, field_name)


def check_name(value: str | None, field_name: str, max_length: int = 500) -> str:
    """Human names: non-blank, bounded, nothing a database cannot store (NUL, surrogates)."""
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
    """What no database stores: NUL (PostgreSQL refuses it) and lone surrogates (no UTF-8
    encoding): both databases refuse them alike, anywhere in a string or a JSON value."""
    found = _unstorable(value, depth=0)
    if found is not None:
        what = "a NUL character" if found == "\x00" else f"a lone surrogate (U+{ord(found):04X})"
        raise _refuse(field_name, f"contains {what}")


def _unstorable(value: Any, depth: int) -> str | None:
    """The first NUL or lone surrogate in a string or a JSON value, if any."""
    if depth == 0 and isinstance(value, dict | list):
        # orjson writes a whole payload ten times faster than a walk visits it, refuses lone
        # surrogates, and writes NUL as \u0000: the walk runs only when something is suspect
        try:
            if b"\\u0000" not in orjson.dumps(value):
                return None
        except TypeError:  # a surrogate, an integer past 64 bits, a non-string key
            pass
    return _walk(value, depth)


def _walk(value: Any, depth: int) -> str | None:
    if depth > 200:
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return "\x00"
        found = None if value.isascii() else _SURROGATE.search(value)
        return found.group() if found else None
    if isinstance(value, dict):
        for k, v in value.items():
            hit = _walk(k, depth + 1) or _walk(v, depth + 1)
            if hit:
                return hit
    elif isinstance(value, list | tuple):
        for v in value:
            hit = _walk(v, depth + 1)
            if hit:
                return hit
    return None


def has_unstorable(value: Any) -> bool:
    """Whether a value holds a NUL or a lone surrogate somewhere (a refused input holding
    one is stored with U+FFFD in its place, and not replayable)."""
    return _unstorable(value, depth=0) is not None


def storable(text: str) -> str:
    """The string with every NUL and lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text.replace("\x00", "\ufffd")
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


def json_depth(value: Any, limit: int) -> int:
    """How deeply a JSON value nests (a scalar is 0), counted no further than limit + 1: a
    hostile value is not walked to its end."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()
    elif kind is list or kind is tuple:
        children = value
    else:
        return 0
    deepest = 1
    if limit < 1:
        return deepest
    for child in children:
        if type(child) in _CONTAINERS:
            below = 1 + json_depth(child, limit - 1)
            if below > deepest:
                deepest = below
                if deepest > limit:
                    break
    return deepest


_CONTAINERS = (dict, list, tuple)


def check_json_input(value: Any, field_name: str, limit: int) -> None:
    """A JSON input that is stored: within the depth limit, nothing a database cannot store."""
    check_json_depth(value, field_name, limit)
    check_no_nul(value, field_name)


def check_values(items: Any, field_name: str, limit: int) -> None:
    """Typed values (`values` dicts of VALUE_FIELDS): their JSON within the depth limit (the
    value itself, not its envelope), nothing a database cannot store."""
    for values in items:
        check_json_input(values.get("valueJson"), f"{field_name}.valueJson", limit)
        check_no_nul(values, field_name)


def check_json_depth(value: Any, field_name: str, limit: int) -> None:
    """JSON nested deeper than MES_MAX_JSON_DEPTH: VALIDATION_FAILED naming the field."""
    if json_depth(value, limit) > limit:
        raise _refuse(field_name, f"nests deeper than {limit} levels", max=limit)


def scrubbed(value: Any, depth: int = 0) -> Any:
    """The value with every NUL and lone surrogate replaced by U+FFFD (what no database stores),
    for records of refused input: the audit trail keeps what was sent, as near as it can."""
    if depth > 200:
        return None
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {scrubbed(k, depth + 1): scrubbed(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(v, depth + 1) for v in value]
    return value


def finite_number(raw: Any) -> float | None:
    """A finite number, or a string that reads as one (not a boolean); else None."""
    number: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    return number if number is not None and math.isfinite(number) else None
