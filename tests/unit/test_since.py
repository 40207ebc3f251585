"""`mes rejections replay --since`: ISO dates and times, today, yesterday, Nh and Nd; dates
and times without an offset are the plant's (MES_PLANT_TZ)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from graphql_api.cli_rejections import parse_since

BERLIN = ZoneInfo("Europe/Berlin")
#: 2026-03-29 00:30 in Berlin (CET), the night the clocks go forward
NOW = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", datetime(2026, 3, 29, tzinfo=BERLIN)),
        ("Yesterday", datetime(2026, 3, 28, tzinfo=BERLIN)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=BERLIN)),
        ("2026-12-01T06:00", datetime(2026, 12, 1, 6, tzinfo=BERLIN)),
        ("2026-12-01T06:00:00+01:00", datetime(2026, 12, 1, 5, tzinfo=UTC)),
        ("2026-12-01T05:00:00Z", datetime(2026, 12, 1, 5, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_since(text, "Europe/Berlin", NOW) == expected


@pytest.mark.parametrize("text", ["last week", "24", "h", "-3d", "2026-13-01", "soon"])
def test_anything_else_names_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time; use an ISO date") as caught:
        parse_since(text, "UTC", NOW)
    assert "yesterday" in str(caught.value) and "24h" in str(caught.value)
