"""JSON documents the domain owns (route snapshots, configs), via dataclasses-json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from dataclasses_json import core

T = TypeVar("T")

# dataclasses-json's helpers, typed here (the library declares no types for them)
_asdict: Callable[[Any, bool], Any] = core._asdict
_decode_dataclass: Callable[[type[Any], dict[str, Any], bool], Any] = core._decode_dataclass


def to_document(obj: Any) -> Any:
    """A dataclass (or a sequence of them) as plain JSON values; enums become their names."""
    if isinstance(obj, list | tuple):
        return [to_document(o) for o in obj]
    return _jsonable(_asdict(obj, False))


def from_document(cls: type[T], doc: dict[str, Any]) -> T:
    return cast(T, _decode_dataclass(cls, doc, False))


def _jsonable(value: Any) -> Any:
    # StrEnum values are str subclasses; make them plain str so every JSON encoder agrees
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
