"""Caches keyed by query text, bounded in bytes: what a client sends cannot grow them.

Only query documents up to CACHEABLE_QUERY_BYTES are kept (the service's own queries are a few
hundred bytes to a few KiB; anything longer is parsed and validated every time it comes), and
each cache drops its least recently used entries past its byte budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")

#: longer query documents are never cached
CACHEABLE_QUERY_BYTES = 16 * 1024
#: what a parsed document holds per character of its text (measured with tracemalloc: a
#: token-dense query ~110 bytes per character, a few hundred bytes for a tiny one), rounded up
PARSED_BYTES_PER_CHAR = 128
PARSED_OVERHEAD_BYTES = 4096
#: the parser cache's budget (about 250 documents the size of the bench's deep trace query)
PARSER_CACHE_BYTES = 32 * 1024 * 1024
#: the validation cache's budget (its entries are the query text and a few errors)
VALIDATION_CACHE_BYTES = 8 * 1024 * 1024


def query_bytes(query: str) -> int:
    """A query's length in UTF-8 bytes (str.isascii is O(1): no copy for the usual query)."""
    return len(query) if query.isascii() else len(query.encode("utf-8", "surrogatepass"))


def parsed_size(query: str) -> int:
    """An upper estimate of the memory a query's text and parsed document hold."""
    return PARSED_OVERHEAD_BYTES + PARSED_BYTES_PER_CHAR * len(query)


class QueryCache(Generic[V]):
    """Query text → what was computed from it, least recently used out past `max_bytes`."""

    def __init__(self, max_bytes: int, size_of: Callable[[str, V], int]):
        self.size_of = size_of
        self.entries: LRUCache[str, tuple[V, int]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda entry: entry[1]
        )

    def get(self, query: str) -> V | None:
        found = self.entries.get(query)
        return None if found is None else found[0]

    def put(self, query: str, value: V) -> None:
        if len(query) > CACHEABLE_QUERY_BYTES or query_bytes(query) > CACHEABLE_QUERY_BYTES:
            return
        size = self.size_of(query, value)
        if size <= self.entries.maxsize:
            self.entries[query] = (value, size)

    @property
    def bytes(self) -> int:
        return int(self.entries.currsize)

    def __contains__(self, query: str) -> bool:
        return query in self.entries

    def __len__(self) -> int:
        return len(self.entries)
