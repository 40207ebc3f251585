"""Structured logs (structlog) on stderr: console for people (coloured only on a terminal),
JSON for machines (MES_LOG_JSON=1)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
import structlog

from domain.validation import storable


def configure_logging(json: bool = False, level: int = logging.INFO) -> None:
    """Log lines go to stderr, beside uvicorn's; colour codes only when stderr is a terminal
    (and NO_COLOR is unset): a file or a pipe gets plain text."""
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _writable,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_orjson_dumps)
        if json
        else structlog.dev.ConsoleRenderer(colors=_colours(sys.stderr))
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # sys.stderr as it is when a logger is made (a test's capture, a redirected stream)
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=True,
    )


def _colours(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def _writable(logger: Any, method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Values a client sent (a source system, a key) may hold lone surrogates, which no
    stream can encode: they are logged as U+FFFD, and the line is written all the same."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isascii():
            event[key] = storable(value)
        elif isinstance(value, list | tuple):
            event[key] = [storable(v) if isinstance(v, str) else v for v in value]
    return event


def _orjson_dumps(value: Any, **kw: Any) -> str:
    """JSON lines by orjson (a third of the standard library's time per line); whatever it
    cannot encode goes through structlog's fallback (`default`), as with json.dumps."""
    return orjson.dumps(value, default=kw.get("default")).decode()
