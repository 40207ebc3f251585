"""Errors, not tracebacks: a setting, a database or a port `mes` cannot start with is one line
on stderr saying what is wrong and how to fix it, exit code 2, from every command, before
anything starts. Each case runs the real `mes` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.settings import ConfigError, Settings

MES = str(Path(sys.executable).parent / "mes")
REPO = Path(__file__).resolve().parents[1]


def mes(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    return subprocess.run(
        [MES, *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def one_line_error(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The command failed with exit 2 and one line on stderr holding `expected`."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    assert "serving" not in done.stdout, done.stdout
    return lines[0]


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_postgresql_database_that_does_not_exist(pg_url: str) -> None:
    missing = make_url(pg_url).set(database=f"mes_nope_{uuid.uuid4().hex[:8]}")
    line = one_line_error(
        mes("migrate", "--database-url", missing.render_as_string(hide_password=False)),
        f"the database '{missing.database}' does not exist",
        "createdb",
    )
    assert "MES_DATABASE_URL" in line


def test_a_sqlite_file_in_a_directory_that_does_not_exist(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'mes.db'}"
    one_line_error(mes("migrate", "--database-url", url), "directory", "does not exist", "mkdir -p")
    assert not (tmp_path / "no").exists()


def test_a_postgresql_url_without_a_driver() -> None:
    line = one_line_error(
        mes("migrate", MES_DATABASE_URL="postgresql://postgres:secret@127.0.0.1:5432/mes"),
        "names no driver",
        "use postgresql+asyncpg://",
    )
    assert "secret" not in line  # the password stays hidden


def test_a_refused_port() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/mes"
    one_line_error(mes("token", "list", "--database-url", url), "refused the connection")


@pytest.mark.parametrize(
    "command",
    [
        ("serve",),
        ("migrate",),
        ("demo",),
        ("token", "list"),
        ("token", "create", "--name", "x", "--scopes", "read"),
        ("token", "rotate", "x"),
        ("token", "revoke", "x"),
        ("rejections", "replay"),
    ],
)
def test_a_bad_number_from_every_command(command: tuple[str, ...], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never.db'}"
    done = mes(*command, "--database-url", url, MES_MAX_PAGE_SIZE="abc")
    one_line_error(done, "MES_MAX_PAGE_SIZE='abc' is not a whole number", "unset it")
    assert not (tmp_path / "never.db").exists()  # checked before the database is touched


def test_a_time_zone_that_does_not_exist_does_not_start_the_server(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tz.db'}"
    done = mes(
        "serve", "--port", str(closed_port()), "--database-url", url, MES_PLANT_TZ="Mars/Base"
    )
    one_line_error(done, "MES_PLANT_TZ='Mars/Base' is not a time zone", "Europe/Berlin")


def test_a_bad_serial_number_pattern() -> None:
    one_line_error(
        mes("migrate", MES_SN_PATTERN="BRD(\\d+"), "MES_SN_PATTERN", "not a regular expression"
    )


def test_a_second_server_on_a_taken_port_fails_before_saying_serving(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'port.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = mes("serve", "--port", str(port), "--database-url", url)
    one_line_error(done, f"port {port} is in use; stop the other server or pass --port")


def test_a_bad_worker_count_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    one_line_error(mes("serve", "--database-url", url, MES_WORKERS="two"), "MES_WORKERS='two'")


NUMBERS = [
    "MES_DB_POOL_SIZE",
    "MES_MAX_REGISTER_UNITS",
    "MES_MAX_ROUTING_STEPS",
    "MES_MAX_PAGE_SIZE",
    "MES_MAX_PAYLOAD_BYTES",
    "MES_MAX_INGEST_BATCH",
    "MES_MAX_BODY_BYTES",
    "MES_MAX_QUERY_DEPTH",
    "MES_MAX_ALIASES",
    "MES_MAX_QUERY_TOKENS",
    "MES_MAX_QUERY_COST",
    "MES_LIST_COST_ESTIMATE",
    "MES_MAX_QUERY_BYTES",
    "MES_REQUEST_TIMEOUT_S",
    "MES_MAX_JSON_DEPTH",
    "MES_MAX_CLOCK_SKEW",
]
FLAGS = ["MES_DB_PRE_PING", "MES_LOG_JSON", "MES_INTROSPECTION", "MES_COUNT_SQL"]


@pytest.mark.parametrize("name", NUMBERS + FLAGS)
def test_every_number_and_flag_is_checked(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("abc", "-5") if name in NUMBERS else ("maybe",):
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError, match=f"^{name}='{value}' is not ") as caught:
            Settings.from_env()
        assert "\n" not in str(caught.value)
    monkeypatch.setenv(name, "1")
    Settings.from_env()


def test_flags_take_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, meant in (("1", True), ("YES", True), ("on", True), ("0", False), ("off", False)):
        monkeypatch.setenv("MES_INTROSPECTION", value)
        assert Settings.from_env().limits.introspection is meant


def test_a_pytest_run_under_ci_with_postgresql_unreachable_ends_on_one_clear_line() -> None:
    """Under CI=true an unreachable PostgreSQL stops the run before any test, and nothing of
    pytest's internals follows the line."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/postgres"
    env = {**os.environ, "CI": "true", "TEST_DATABASE_URL": url}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_logging.py",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    out = (done.stdout + done.stderr).strip()
    assert done.returncode != 0, out
    assert "Traceback" not in out and "_pytest" not in out, out
    last = out.splitlines()[-1]
    assert "PostgreSQL at" in last and "unreachable under CI=true" in last, out
    assert "passed" not in out, out  # no test ran


HEAVY = ("strawberry", "sqlalchemy", "alembic", "uvicorn", "starlette", "structlog", "asyncpg")
LOADED = """
import sys
from graphql_api.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[0].split(','))))
"""


@pytest.mark.parametrize(
    "args",
    [("--help",), ("serve", "--help"), ("token", "--help"), ("rejections", "replay", "--help")],
)
def test_help_loads_no_framework(args: tuple[str, ...]) -> None:
    """`mes --help` took 2.3 s importing SQLAlchemy, Strawberry and Alembic; a command imports
    them when it runs."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED.replace("sys.argv[0]", repr(",".join(HEAVY))), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
