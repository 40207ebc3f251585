"""MES_LOG_JSON=1: one JSON object per line, whatever the values."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from graphql_api.logging import configure_logging


@pytest.fixture
def json_logs() -> Iterator[None]:
    configure_logging(json=True)
    yield
    configure_logging()


@pytest.mark.usefixtures("json_logs")
def test_json_logs_are_one_object_per_line_with_fallbacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        structlog.get_logger("t").info(
            "ingest", status="ACCEPTED", at=datetime(2026, 3, 2, tzinfo=UTC), thing=object()
        )
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    lines = capsys.readouterr().err.strip().splitlines()
    doc = json.loads(lines[-1])
    assert doc["event"] == "ingest" and doc["level"] == "info" and doc["request_id"] == "r-1"
    assert doc["status"] == "ACCEPTED" and doc["at"] == "2026-03-02T00:00:00+00:00"
    assert doc["thing"].startswith("<object object at")  # structlog's fallback: repr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_console_logs_are_coloured_only_on_a_terminal(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log lines go to stderr; colour codes only when it is a terminal (a file, a pipe or
    `make demo 2>&1 | tee` gets plain text)."""
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delenv("NO_COLOR", raising=False)
    configure_logging()
    try:
        structlog.get_logger("t").info("serving", port=8000)
    finally:
        monkeypatch.undo()
        configure_logging()
    written = stream.getvalue()
    assert "serving" in written and "port" in written
    assert ("\x1b[" in written) is terminal, repr(written)
