"""Scalars of the contract: DateTime (offset required, returned in UTC) and JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from graphql_api.errors import BadInput

__all__ = ["JSON", "DateTime", "UnreadableDateTime", "aware", "parse_datetime", "row_id"]

#: ids are 64-bit integers in both databases
MAX_ROW_ID = 2**63 - 1


class UnreadableDateTime(str):
    """A DateTime input that is not ISO-8601 at all, or not an instant this service can hold.
    It is let through the scalar so that one bad item of an `ingestEvents` batch fails alone;
    every other input refuses it (`aware`)."""

    reason = "is not an ISO-8601 date-time"


def _unreadable(text: str, reason: str | None = None) -> UnreadableDateTime:
    found = UnreadableDateTime(text[:100])
    if reason is not None:
        found.reason = reason
    return found


def parse_datetime(value: Any) -> datetime | UnreadableDateTime:
    """ISO-8601. Naive times pass the scalar (an ingest item must reach the use case, which
    refuses it); every other DateTime input goes through `aware`, which refuses them. A time
    whose UTC instant falls off the calendar (0001-01-01T00:00:00+05:00) is unreadable: it
    could be neither stored nor compared."""
    if not isinstance(value, str):
        return _unreadable(repr(value))
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.utcoffset() is not None:
            parsed.astimezone(UTC)
    except ValueError:
        return _unreadable(value)
    except OverflowError:
        return _unreadable(value, "is outside the years 1–9999 once converted to UTC")
    return parsed


def aware(value: Any, field: str) -> datetime | None:
    """A DateTime input that must carry a UTC offset (the contract refuses naive times)."""
    if value is None:
        return None
    if isinstance(value, UnreadableDateTime):
        raise BadInput(f"{field}: {str(value)!r} {value.reason}")
    if not isinstance(value, datetime):
        raise BadInput(f"{field}: {str(value)[:100]!r} is not an ISO-8601 date-time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadInput(f"{field}: {value.isoformat()} has no UTC offset (naive times are refused)")
    return value


def row_id(value: str, field: str) -> int:
    """An `ID` argument of a mutation: a decimal integer a row can have (1 to 2^63-1), else a
    request error naming the field (not a database error on PostgreSQL's bigint)."""
    text = str(value)
    if len(text) <= 20 and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ROW_ID:
        return int(text)
    raise BadInput(f"{field}: {text[:40]!r} is not an id (an integer from 1 to {MAX_ROW_ID})")


def serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: Used through StrawberryConfig.scalar_map for every `datetime` field and argument.
DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date-time with a UTC offset; returned in UTC.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
