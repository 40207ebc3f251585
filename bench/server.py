"""The service under test: `mes serve` in its own process(es), with a real token, its SQL
statements counted per request (MES_COUNT_SQL) and its memory sampled."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.http import Http, TransportError

MES = str(Path(sys.executable).parent / "mes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_token(url: str, name: str, scopes: str = "admin", sources: str = "") -> str:
    """`mes token create`: the secret is the last line it prints."""
    cmd = [MES, "token", "create", "--name", name, "--scopes", scopes, "--database-url", url]
    if sources:
        cmd += ["--sources", sources]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


@dataclass
class Server:
    url: str
    workers: int = 1
    #: count each request's SQL statements (MES_COUNT_SQL): a listener on SQLAlchemy's
    #: statements sends the hot PostgreSQL statements through SQLAlchemy, so it is not on
    #: while times are measured
    count_sql: bool = False
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    peak_rss: int = 0
    _sampler: asyncio.Task[None] | None = None
    log: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Server:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __aexit__)
        env = {
            **os.environ,
            "MES_COUNT_SQL": "1" if self.count_sql else "0",
            "MES_DB_POOL_SIZE": "10",
            # as in production: JSON log lines (the console renderer is for people)
            "MES_LOG_JSON": "1",
        }
        # Popen starts the server and returns: nothing blocks the loop
        self.proc = subprocess.Popen(  # noqa: ASYNC220
            [
                MES,
                "serve",
                "--database-url",
                self.url,
                "--port",
                str(self.port),
                "--no-migrate",
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,  # a file, not a pipe: a full pipe would stall the server
        )
        deadline = time.monotonic() + 60
        async with Http(self.base) as client:
            while True:
                if self.proc.poll() is not None:
                    self.log.seek(0)
                    err = self.log.read().decode(errors="replace")
                    raise RuntimeError(f"the server exited: {err[-2000:]}")
                try:
                    if (await client.get("/readyz")).status == 200:
                        break
                except TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not become ready in 60 s")
                await asyncio.sleep(0.2)
        self._sampler = asyncio.create_task(self._sample())
        return self

    def rss(self) -> int:
        """Resident memory of the server's process tree (all workers)."""
        assert self.proc is not None
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs if p.is_running())
        except psutil.NoSuchProcess:
            return 0

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's process tree has used so far."""
        assert self.proc is not None
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
            return sum(sum(p.cpu_times()[:2]) for p in procs if p.is_running())
        except psutil.NoSuchProcess:
            return 0.0

    async def _sample(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, self.rss())
            await asyncio.sleep(0.25)

    async def __aexit__(self, *exc: Any) -> None:
        if self._sampler:
            self._sampler.cancel()
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
