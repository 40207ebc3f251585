"""The path language of ingest mappings (DOMAIN.md §3): dot paths with `[*]` and `[n]`.

`payload.items[*].sn` yields every element's `sn`, flattened (nested `[*]` flatten too);
`payload.items[0]` one element; `payload.items[-1]` the last. A missing key, an index out of
range or a `[*]` on something that is not a list yields nothing: evaluation never raises,
whatever the JSON.

Inside an item, `^.` climbs one `[*]` level: with itemsPath `Tests[*].Measurements[*]`, a
measurement's `^.TestName` is its test's name and `^.^.` the item the itemsPath started from.
`items_in` keeps each item's ancestors (one per `[*]` level) so relative paths can climb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_SEGMENT = re.compile(r"^([^.\[\]]+)((?:\[(?:\*|-?[0-9]+)\])*)$")
_BRACKET = re.compile(r"\[(\*|-?[0-9]+)\]")
#: the prefix of a relative path that climbs one `[*]` level
UP = "^."

#: `[*]` in a compiled step
ALL = "*"


class PathSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    #: selectors after the key, in order: ALL or an int index
    selectors: tuple[str | int, ...]


#: an item's ancestors, outermost first: the start of its itemsPath, then one per `[*]` level
Ancestors = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    steps: tuple[Step, ...]
    #: how many `^.` levels the path climbs before its steps
    up: int = 0

    @property
    def levels(self) -> int:
        """How many ancestors an item of this itemsPath has (each `[*]` is one level; the
        elements of an array named without `[*]` are one level under it)."""
        alls = sum(sel == ALL for step in self.steps for sel in step.selectors)
        return alls if self.ends_with_all else alls + 1

    @property
    def ends_with_all(self) -> bool:
        last = self.steps[-1].selectors
        return bool(last) and last[-1] == ALL

    def values(self, root: Any, ancestors: Ancestors = ()) -> list[Any]:
        """Every value the path reaches from root (or from an ancestor of root when the path
        climbs with `^.`; nothing when it climbs higher than there are levels), flattened, in
        document order."""
        if self.up:
            if self.up > len(ancestors):
                return []
            root = ancestors[-self.up]
        # the hot path (four paths per measurement): plain loops, no ancestors to carry
        current = [root]
        for step in self.steps:
            nxt: list[Any] = []
            for node in current:
                if isinstance(node, dict) and step.key in node:
                    nxt.append(node[step.key])
            for selector in step.selectors:
                selected: list[Any] = []
                for node in nxt:
                    selected += _select(node, selector)
                nxt = selected
            current = nxt
            if not current:
                break
        return current

    def items(self, root: Any) -> list[Any]:
        """The items of an itemsPath: a path ending in `[*]`, or a path to an array (whose
        elements are the items). A lone object where an array was expected counts as one item
        (XML-to-JSON gateways turn one-element lists into objects)."""
        return [item for item, _ in self.items_in(root)]

    def items_in(self, root: Any) -> list[tuple[Any, Ancestors]]:
        """The items, as `items`, each with its ancestors (for `^.` paths inside the item)."""
        # each node travels with its ancestors and the element the last `[*]` picked
        current: list[tuple[Any, Ancestors, Any]] = [(root, (), root)]
        for step in self.steps:
            key = step.key
            current = [
                (node[key], chain, anchor)
                for node, chain, anchor in current
                if isinstance(node, dict) and key in node
            ]
            for selector in step.selectors:
                current = [
                    (e, (*chain, anchor), e) if selector == ALL else (e, chain, anchor)
                    for node, chain, anchor in current
                    for e in _select(node, selector)
                ]
            if not current:
                break
        if self.ends_with_all:
            return [(node, chain) for node, chain, _ in current]
        items: list[tuple[Any, Ancestors]] = []
        for value, chain, anchor in current:
            if isinstance(value, list):
                items += [(e, (*chain, anchor)) for e in value]
            elif value is not None:
                items.append((value, (*chain, anchor)))
        return items


def _select(node: Any, selector: str | int) -> list[Any]:
    """What one `[*]` or `[n]` picks from a node: nothing unless it is a list."""
    if not isinstance(node, list):
        return []
    if selector == ALL:
        return node
    assert isinstance(selector, int)
    return [node[selector]] if -len(node) <= selector < len(node) else []


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse a path (the JSON Schema of the mapping already checked its shape)."""
    if not isinstance(text, str) or not text:
        raise PathSyntaxError("a path must be a non-empty string")
    up = 0
    while text.startswith(UP, up * len(UP)):
        up += 1
    rest = text[up * len(UP) :]
    steps: list[Step] = []
    for raw in rest.split("."):
        match = _SEGMENT.match(raw)
        if match is None:
            raise PathSyntaxError(f"bad path segment {raw!r} in {text!r}")
        selectors = tuple(
            ALL if sel == "*" else int(sel) for sel in _BRACKET.findall(match.group(2))
        )
        steps.append(Step(match.group(1), selectors))
    return Path(text, tuple(steps), up)


def values_at(text: str, root: Any) -> list[Any]:
    return parse_path(text).values(root)
