"""The `mes` command: demo (idempotent), migrate, export-schema --check."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from click.testing import Result
from sqlalchemy import func, select

from adapters import tables as t
from adapters.db import create_engine
from tests.cli_calls import invoke, token_rows


def count(url: str, table: t.Table) -> int:
    async def run() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return int(
                    (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                )
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_demo_loads_a_factory_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    first = invoke("demo", "--database-url", url)
    assert first.exit_code == 0, first.output
    assert "10 units registered" in first.output
    assert "compiled PCBA-100 v1: READY" in first.output
    assert "printed 4 boards at PRN-01" in first.output
    assert "reflow and AOI events: ACCEPTED, ACCEPTED, ACCEPTED" in first.output
    assert "placement counts: 8 jobs (8 new)" in first.output
    # the quality story: a retest, a rework, a hold and release
    assert (
        "quality: BRD200-000003 QUEUED at 20, BRD200-000004 QUEUED at 30, "
        "BRD200-000006 QUEUED at 20" in first.output
    )
    assert "BRD200-000006: RELEASE" in first.output
    # a held good board released (issue 16)
    assert "BRD200-000001 ON_HOLD, BRD200-000002 ON_HOLD; released:" in first.output
    # the interlocks (issue 16): a tester ERROR then a PASS, a wrong AOI program refused
    assert "BRD200-000003 at ICT: ERROR then PASS (a tester error, then a pass)" in first.output
    assert "BRD200-000005 at AOI with program BRD200-BOT: RECIPE_MISMATCH" in first.output
    # issue 19: the IPC-CFX examples' line and an X-out panel through its whole route
    assert "WO-3001-01: PANEL34543535, PANEL23423432, FFSHkkskamJDHS" in first.output
    assert "WO-3006-01: CARRIER5566" in first.output
    assert "WO-3007-01: CARRIER7788" in first.output
    assert (
        "X-out panel PNL300-X01 (position 3) through SPI, AOI, ICT: ACCEPTED, ACCEPTED, "
        "ACCEPTED; WO-3002-01 COMPLETED" in first.output
    )
    second = invoke("demo", "--database-url", url)
    assert second.exit_code == 0, second.output
    assert "units registered" not in second.output
    # 10 of the full route, 6 of the inspect-and-test route, 18 of the IPC-CFX examples' routes
    assert count(url, t.unit) == 34
    assert count(url, t.route_version) == 8
    assert count(url, t.run) == 9
    assert count(url, t.station) == 13
    assert count(url, t.carrier_track) == 1
    assert count(url, t.production_count) == 8
    assert "placement counts: 8 jobs (0 new)" in second.output


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    result = invoke("migrate", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert count(url, t.line) == 0


def test_export_schema_check_passes_on_a_current_schema() -> None:
    result = invoke("export-schema", "--check")
    assert result.exit_code == 0, result.output
    assert "current" in result.output


def test_demo_sends_events_and_replay_reports_what_is_still_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    first = invoke("demo", "--database-url", url)
    assert "events: 6 ACCEPTED, 1 REJECTED UNIT_NOT_FOUND" in first.output, first.output
    # with the floor's, the quality story's, the interlock story's and the X-out panel's events
    assert count(url, t.ingest_event) == 18
    assert count(url, t.ingest_rejection) == 2  # UNIT_NOT_FOUND and RECIPE_MISMATCH
    again = invoke("demo", "--database-url", url)
    assert "events: 6 DUPLICATE, 1 REJECTED UNIT_NOT_FOUND" in again.output
    assert count(url, t.ingest_event) == 18
    replay = invoke("rejections", "replay", "--code", "UNIT_NOT_FOUND", "--database-url", url)
    assert replay.exit_code == 0, replay.output
    assert "still refused: UNIT_NOT_FOUND: 1" in replay.output
    none = invoke("rejections", "replay", "--source", "NO-SUCH", "--database-url", url)
    assert "no unresolved, replayable rejection matched" in none.output
    bad = invoke("rejections", "replay", "--since", "last week", "--database-url", url)
    assert bad.exit_code == 2 and "'last week' is not a time" in bad.output
    assert "yesterday" in bad.output and "24h" in bad.output and "2026-12-01" in bad.output
    nope = invoke("rejections", "replay", "--code", "NOPE", "--database-url", url)
    assert nope.exit_code == 2 and "UNIT_NOT_FOUND" in nope.output, nope.output
    for since in ("yesterday", "today", "24h", "7d", "2026-12-01", "2026-03-02T00:00:00"):
        ok = invoke("rejections", "replay", "--since", since, "--database-url", url)
        assert ok.exit_code == 0, (since, ok.output)


#: put on the workers' PYTHONPATH: a spawned worker (multiprocessing's `--multiprocessing-fork`)
#: takes this long before it can answer the supervisor, as on a loaded two-core machine
SLOW_WORKER = """
import sys, time
if "--multiprocessing-fork" in getattr(sys, "orig_argv", ()):
    time.sleep({delay})
"""


def test_serve_with_two_workers_that_start_slowly_answers_with_a_token(tmp_path: Path) -> None:
    """`mes serve --workers 2`: separate processes, each building the app from the environment;
    tokens still required. Each worker takes 7 s to start (longer than uvicorn's 5 s health
    timeout, which killed and replaced slow workers over and over): both start once, none is
    replaced."""
    import os
    import socket
    import subprocess
    import sys
    import threading
    import time

    import httpx

    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    assert invoke("migrate", "--database-url", url).exit_code == 0
    made = invoke("token", "create", "--name", "w", "--scopes", "read", "--database-url", url)
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "sitecustomize.py").write_text(SLOW_WORKER.format(delay=7))
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "MES_DATABASE_URL": url, "PYTHONPATH": path}
    env.pop("MES_WORKER_TIMEOUT_S", None)  # the default is what is tested
    mes = str(Path(sys.executable).parent / "mes")
    cmd = [mes, "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    stdout = server.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(ln.decode() for ln in stdout))
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while sum("Application startup complete" in ln for ln in lines) < 2:
            out = "".join(lines)
            assert "died" not in out and "not ready" not in out, out
            assert server.poll() is None, out
            assert time.monotonic() < deadline, f"the workers did not come up: {out}"
            time.sleep(0.2)
        assert httpx.get(f"{base}/readyz").status_code == 200
        query = {"query": "{ __typename }"}
        assert httpx.post(f"{base}/graphql", json=query).status_code == 401
        ok = httpx.post(
            f"{base}/graphql", json=query, headers={"Authorization": f"Bearer {secret}"}
        )
        assert ok.json() == {"data": {"__typename": "Query"}}
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=30)
    out = "".join(lines)
    assert out.count("Started server process") == 2, out
    # SQLite serialises writers: the extra worker is allowed, with a one-line warning
    assert "warning: --workers 2 on SQLite: SQLite serialises writers" in out, out
    assert "died" not in out, out


def test_token_create_binds_stations_and_list_shows_the_binding(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tokens.db'}"

    def create(name: str, scopes: str, *more: str) -> Result:
        return invoke(
            "token", "create", "--name", name, "--scopes", scopes, *more, "--database-url", url
        )

    gateway = create(
        "gw-smt1", "ingest", "--sources", "AOI-01,ICT-01", "--stations", "AOI-01,group:ICT"
    )
    assert gateway.exit_code == 0, gateway.output
    assert "stations: AOI-01,group:ICT" in gateway.output
    assert gateway.output.strip().splitlines()[-1].startswith("mes_")  # the secret, last
    sources_only = create("aoi-01", "ingest", "--sources", "AOI-01")
    assert "stations: AOI-01 (named like its sources)" in sources_only.output
    assert "stations: any (unbound)" in create("reader", "read").output
    admin = create("root", "admin", "--stations", "AOI-01")
    assert admin.exit_code != 0 and "admin token writes for every station" in admin.output
    bad = create("typo", "execute", "--stations", "group:")
    assert bad.exit_code != 0 and "stations" in bad.output
    rows = token_rows(url)
    assert set(rows) == {"gw-smt1", "aoi-01", "reader"}
    assert rows["gw-smt1"]["STATIONS"] == "AOI-01,group:ICT"
    assert rows["gw-smt1"]["SOURCES"] == "AOI-01,ICT-01"
    assert rows["aoi-01"]["STATIONS"] == "AOI-01 (named like its sources)"
    assert rows["reader"]["STATIONS"] == "any (unbound)"
    assert rows["reader"]["REVOKED (UTC)"] == "-"
