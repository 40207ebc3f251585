"""Keyset pages over GraphQL: one cursor codec and one generic connection.

A cursor is an opaque base64 text of the position of the page's last row: `<received at>|<id>`
for the listings read newest first, `unit:<id>` for a run's units in registration order. A
malformed cursor is a request error. `Connection[Node]` and `Edge[Node]` are named by Strawberry
`NodeConnection` and `NodeEdge` (the contract's names).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

import strawberry

from graphql_api.errors import BadInput
from graphql_api.scalars import MAX_ROW_ID

if TYPE_CHECKING:
    from graphql_api.context import Info

T = TypeVar("T")
Row = TypeVar("Row")
Position = TypeVar("Position")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def connection(
    page: Sequence[Row],
    more: bool,
    after: str | None,
    node: Callable[[Row], T],
    cursor: Callable[[Row], str],
) -> Connection[T]:
    """One page as a connection; an empty page keeps the cursor it was asked after."""
    edges = [Edge(node=node(r), cursor=cursor(r)) for r in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else after),
    )


def page_size(info: Info, first: int | None, default: int = 50) -> int:
    """`first` (or the default) within the configured page size, else a request error."""
    limit = info.context.limits.max_page_size
    value = default if first is None else first
    if not 0 <= value <= limit:
        raise BadInput(f"first must be between 0 and {limit}")
    return value


# ------------------------------------------------------------ the cursor codec


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str | None, parse: Callable[[str], Position]) -> Position | None:
    """The position inside a cursor (None without one); a malformed cursor is a request error."""
    if cursor is None:
        return None
    try:
        return parse(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, OverflowError) as err:  # UnicodeError, binascii.Error: ValueErrors
        raise BadInput(f"after: invalid cursor {cursor[:100]!r}") from err


def _row_id(text: str) -> int:
    key = int(text)
    if not 0 <= key <= MAX_ROW_ID:
        raise ValueError(text)
    return key


def _time_and_id(text: str) -> tuple[datetime, int]:
    at_text, _, key = text.partition("|")
    at = datetime.fromisoformat(at_text)
    # a cursor this service made has an aware time and a 64-bit key; anything else would
    # fail in the comparison or the database, not in the client's hands
    if at.utcoffset() is None:
        raise ValueError(at_text)
    at.astimezone(UTC)  # OverflowError at the calendar's edges
    return at, _row_id(key)


def _unit_id(text: str) -> int:
    prefix, _, key = text.partition(":")
    if prefix != "unit":
        raise ValueError(prefix)
    return _row_id(key)


def time_cursor(at: datetime, key: int | None) -> str:
    """The cursor of a row in a newest-first listing."""
    return _encode(f"{at.isoformat()}|{key or 0}")


def after_time(cursor: str | None) -> tuple[datetime, int] | None:
    return _decode(cursor, _time_and_id)


def unit_cursor(key: int | None) -> str:
    """The cursor of a unit in a run's registration order."""
    return _encode(f"unit:{key or 0}")


def after_unit(cursor: str | None) -> int | None:
    return _decode(cursor, _unit_id)
