"""The fault harness's smoke mode on a fresh PostgreSQL database: two servers, eight
clients retrying with the same keys while connections are killed, then every check of the
database. Zero violations is the only pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import _pg_admin

REPO = Path(__file__).resolve().parents[2]


def test_the_faults_smoke_finds_no_violation(pg_url: str) -> None:
    url = make_url(pg_url).set(database=f"{make_url(pg_url).database}_faults")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.faults",
                "--smoke",
                "--recreate",
                "--database-url",
                url.render_as_string(hide_password=False),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "violations: 0" in done.stdout
    assert " connections killed" in done.stdout and "| answered ACCEPTED |" in done.stdout
