"""PostGraphile v4, the reference a user would pick for a GraphQL read API over PostgreSQL,
serving the bench database beside the service.

Installed with npm into a cache folder outside the repository (MES_BENCH_POSTGRAPHILE_DIR,
default ~/.cache/mes-bench/postgraphile), once: later runs find the pinned version there.
Served by one node process (no cluster), no GraphiQL, no query log, no mutations, every
transaction read-only, NODE_ENV=production. What PostGraphile cannot see by itself is given
to it in the bench database only: a smart-tags file for the relation without a foreign key
(a track's station) and a computed-column function for the relation that lives in JSON (a
route version's compiled steps)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from bench.factory import asyncpg_dsn
from bench.http import Http, TransportError
from bench.server import free_port

#: the pinned version (exact): PostGraphile v4's last line, the one most deployments run
VERSION = "4.14.1"
CACHE_ENV = "MES_BENCH_POSTGRAPHILE_DIR"

#: only in the bench database: a route version's compiled steps are a JSON column, which
#: PostGraphile would serve as one opaque JSON leaf; this function makes them rows
#: (`RouteVersion.compiledSteps`, the name `steps` is the column's)
SETUP_SQL = """
DROP FUNCTION IF EXISTS route_version_compiled_steps(route_version);
DROP TYPE IF EXISTS route_version_step;
CREATE TYPE route_version_step AS (step_no integer, operation_code text, station_type text);
CREATE FUNCTION route_version_compiled_steps(v route_version) RETURNS SETOF route_version_step
LANGUAGE sql STABLE AS $$
  SELECT s.step_no, s.operation_code, s.station_type
  FROM jsonb_to_recordset(v.steps) AS s(step_no integer, operation_code text, station_type text)
$$;
"""

#: relations without a foreign key (adapters/tables.py says why each is not one)
SMART_TAGS: dict[str, Any] = {
    "version": 1,
    "config": {
        "class": {
            "track": {"tags": {"foreignKey": ["(station_code) references station (code)"]}},
        }
    },
}


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mes-bench" / "postgraphile")


def node_missing() -> str | None:
    """Why PostGraphile cannot run here, or None."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not on the PATH (PostGraphile needs Node.js and npm)"
    return None


def installed_version(where: Path) -> str | None:
    manifest = where / "node_modules" / "postgraphile" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def install(where: Path | None = None) -> Path:
    """npm install postgraphile@VERSION into the cache folder unless it is there already;
    returns the CLI's path. The first run downloads ~120 packages (~10 s)."""
    where = where or cache_dir()
    cli = where / "node_modules" / "postgraphile" / "cli.js"
    if installed_version(where) == VERSION and cli.exists():
        return cli
    where.mkdir(parents=True, exist_ok=True)
    manifest = {"private": True, "dependencies": {"postgraphile": VERSION}}
    (where / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    npm = ["npm", "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", str(where)]
    done = subprocess.run(npm, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or installed_version(where) != VERSION:
        raise RuntimeError(
            f"npm could not install postgraphile@{VERSION} into {where}: {done.stderr[-2000:]}"
        )
    return cli


def read_only(dsn: str) -> str:
    """The connection string with every transaction read-only (node-postgres' `options`)."""
    return dsn + ("&" if "?" in dsn else "?") + "options=-c%20default_transaction_read_only%3Don"


async def prepare_database(url: str) -> None:
    """The computed-column function, in the bench database only (idempotent)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(SETUP_SQL)
    finally:
        await conn.close()


@dataclass
class PostGraphile:
    """`postgraphile` serving the bench database's public schema on a free port."""

    url: str
    cli: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _dir: tempfile.TemporaryDirectory[str] | None = None
    _log: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> PostGraphile:
        await prepare_database(self.url)
        # the CLI reads postgraphile.tags.json5 from its working directory
        self._dir = tempfile.TemporaryDirectory(prefix="mes-bench-postgraphile-")
        (Path(self._dir.name) / "postgraphile.tags.json5").write_text(json.dumps(SMART_TAGS))
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __aexit__)
        cmd = [
            "node",
            str(self.cli),
            "--connection",
            read_only(asyncpg_dsn(self.url)),
            "--schema",
            "public",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--disable-default-mutations",
            "--disable-graphiql",
            "--disable-query-log",
            "--no-setof-functions-contain-nulls",
            "--max-pool-size",
            "10",  # as the service's MES_DB_POOL_SIZE in the bench
        ]
        env = {**os.environ, "NODE_ENV": "production"}
        # Popen starts the server and returns: nothing blocks the loop
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            cmd, cwd=self._dir.name, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        await self._ready()
        return self

    async def _ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + 60
        probe = b'{"query":"{ __typename }"}'
        headers = {"Content-Type": "application/json"}
        async with Http(self.base, headers=headers) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"PostGraphile exited: {self.output()[-3000:]}")
                try:
                    if (await client.post("/graphql", probe)).status == 200:
                        return
                except TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostGraphile not ready in 60 s: {self.output()[-3000:]}")
                await asyncio.sleep(0.2)

    def output(self) -> str:
        self._log.seek(0)
        return str(self._log.read().decode(errors="replace"))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the node process has used so far."""
        assert self.proc is not None
        try:
            return float(sum(psutil.Process(self.proc.pid).cpu_times()[:2]))
        except psutil.NoSuchProcess:
            return 0.0

    async def __aexit__(self, *exc: Any) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self._log:
            self._log.close()
        if self._dir:
            self._dir.cleanup()
