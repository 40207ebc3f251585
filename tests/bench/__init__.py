"""The harnesses of bench/ in their smoke modes, each on a scratch PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.pg import pg_admin

REPO = Path(__file__).resolve().parents[2]


def run_module(
    pg_url: str, suffix: str, module: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """`python -m module --smoke --recreate --database-url <scratch> args…`, the scratch
    database dropped afterwards whatever happens."""
    url = make_url(pg_url).set(database=f"{make_url(pg_url).database}_{suffix}")
    try:
        where = url.render_as_string(hide_password=False)
        return subprocess.run(
            [sys.executable, "-m", module, "--smoke", "--recreate", *args, "--database-url", where],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
