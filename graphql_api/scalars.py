"""Scalars of the contract: DateTime (offset required, returned in UTC) and JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

__all__ = ["JSON", "DateTime", "parse_datetime"]


def parse_datetime(value: Any) -> datetime:
    """ISO-8601 with a UTC offset; a naive time is refused (the contract rejects them)."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValueError(f"DateTime {value!r} is not ISO-8601") from err
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"DateTime {value!r} has no UTC offset (naive times are refused)")
    return parsed


def serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: Used through StrawberryConfig.scalar_map for every `datetime` field and argument.
DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date-time with a UTC offset; returned in UTC.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
