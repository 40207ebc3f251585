"""The path language of ingest mappings (DOMAIN.md §3): dot paths with `[*]` and `[n]`.

`payload.items[*].sn` yields every element's `sn`, flattened (nested `[*]` flatten too);
`payload.items[0]` one element; `payload.items[-1]` the last. A missing key, an index out of
range or a `[*]` on something that is not a list yields nothing: evaluation never raises,
whatever the JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_SEGMENT = re.compile(r"^([^.\[\]]+)((?:\[(?:\*|-?[0-9]+)\])*)$")
_BRACKET = re.compile(r"\[(\*|-?[0-9]+)\]")

#: `[*]` in a compiled step
ALL = "*"


class PathSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    #: selectors after the key, in order: ALL or an int index
    selectors: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Path:
    text: str
    steps: tuple[Step, ...]

    @property
    def ends_with_all(self) -> bool:
        last = self.steps[-1].selectors
        return bool(last) and last[-1] == ALL

    def values(self, root: Any) -> list[Any]:
        """Every value the path reaches from root, flattened, in document order."""
        current = [root]
        for step in self.steps:
            nxt: list[Any] = []
            for node in current:
                if isinstance(node, dict) and step.key in node:
                    nxt.append(node[step.key])
            for selector in step.selectors:
                selected: list[Any] = []
                for node in nxt:
                    if not isinstance(node, list):
                        continue
                    if selector == ALL:
                        selected.extend(node)
                    else:
                        assert isinstance(selector, int)
                        if -len(node) <= selector < len(node):
                            selected.append(node[selector])
                nxt = selected
            current = nxt
            if not current:
                break
        return current

    def items(self, root: Any) -> list[Any]:
        """The items of an itemsPath: a path ending in `[*]`, or a path to an array (whose
        elements are the items). A lone object where an array was expected counts as one item
        (XML-to-JSON gateways turn one-element lists into objects)."""
        found = self.values(root)
        if self.ends_with_all:
            return found
        items: list[Any] = []
        for value in found:
            if isinstance(value, list):
                items.extend(value)
            elif value is not None:
                items.append(value)
        return items


@lru_cache(maxsize=4096)
def parse_path(text: str) -> Path:
    """Parse a path (the JSON Schema of the mapping already checked its shape)."""
    if not isinstance(text, str) or not text:
        raise PathSyntaxError("a path must be a non-empty string")
    steps: list[Step] = []
    for raw in text.split("."):
        match = _SEGMENT.match(raw)
        if match is None:
            raise PathSyntaxError(f"bad path segment {raw!r} in {text!r}")
        selectors = tuple(
            ALL if sel == "*" else int(sel) for sel in _BRACKET.findall(match.group(2))
        )
        steps.append(Step(match.group(1), selectors))
    return Path(text, tuple(steps))


def values_at(text: str, root: Any) -> list[Any]:
    return parse_path(text).values(root)
