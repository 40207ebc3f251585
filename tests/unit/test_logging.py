"""MES_LOG_JSON=1: one JSON object per line, whatever the values."""

from __future__ import annotations

import json
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
    lines = capsys.readouterr().out.strip().splitlines()
    doc = json.loads(lines[-1])
    assert doc["event"] == "ingest" and doc["level"] == "info" and doc["request_id"] == "r-1"
    assert doc["status"] == "ACCEPTED" and doc["at"] == "2026-03-02T00:00:00+00:00"
    assert doc["thing"].startswith("<object object at")  # structlog's fallback: repr
