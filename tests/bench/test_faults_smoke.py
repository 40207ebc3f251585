"""The fault harness's smoke mode on a fresh PostgreSQL database: two servers, eight
clients retrying with the same keys while connections are killed, then every check of the
database. Zero violations is the only pass."""

from __future__ import annotations

import pytest

from tests.bench import run_module

pytestmark = pytest.mark.bench


def test_the_faults_smoke_finds_no_violation(pg_url: str) -> None:
    done = run_module(pg_url, "faults", "bench.faults")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "violations: 0" in done.stdout
    assert " connections killed" in done.stdout and "| answered ACCEPTED |" in done.stdout
