"""Real peers for the live-event tests: `mes serve` subprocesses and a graphql-transport-ws
client (the `websockets` package)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

MES = str(Path(sys.executable).parent / "mes")
PROTOCOL = "graphql-transport-ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_server(database_url: str, log_dir: Path, migrate: bool = False, **env: str) -> Server:
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    args = [MES, "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--database-url", database_url]
    if not migrate:
        args.append("--no-migrate")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MES_LOG_JSON": "1", **env},
        )
    return Server(proc, port, log)


async def wait_ready(server: Server, seconds: float = 40) -> None:
    """Until /healthz answers (the process has started serving)."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.1)):
            if server.proc.poll() is not None:
                raise RuntimeError(f"mes serve exited: {server.log.read_text()[-2000:]}")
            try:
                if (await client.get(f"{server.http}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"mes serve did not start: {server.log.read_text()[-2000:]}")


def metric_in(text: str, name: str) -> float:
    """A metric's value in a /metrics answer (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def metric(server: Server, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{server.http}/metrics")).text
    return metric_in(text, name)


async def wait_metric(server: Server, name: str, value: float, seconds: float = 20) -> None:
    """Until the server's metric reaches `value`."""
    for _ in range(int(seconds / 0.05)):
        if await metric(server, name) >= value:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{server.http}: {name} never reached {value}")


async def wait_subscribers(server: Server, count: int) -> None:
    """Until the server holds `count` live subscriptions: the client's subscribe message has
    no answer of its own, so this is how a test knows the server listens."""
    await wait_metric(server, "mes_subscriptions", count)


def wait_open_subscriptions(base: str, count: int, seconds: float = 15) -> None:
    """For a test without an event loop (a browser's, a README block's subscription): until
    the server at `base` (http://host:port) holds exactly `count` live subscriptions."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = httpx.get(f"{base}/metrics", timeout=5).text
        if metric_in(text, "mes_subscriptions") == count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{base} never held {count} live subscriptions in {seconds} s")


async def post(server: Server, token: str, query: str, variables: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{server.http}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


@dataclass
class LiveClient:
    """One graphql-transport-ws connection; messages kept per operation id."""

    ws: ClientConnection
    inbox: dict[str, deque[dict[str, Any]]] = field(default_factory=lambda: defaultdict(deque))

    @classmethod
    async def open(
        cls, server: Server, payload: dict[str, Any] | None, rcvbuf: int = 0, **kw: Any
    ) -> LiveClient:
        """`rcvbuf`: a small fixed receive buffer (the kernel's would grow to tens of MB)."""
        if rcvbuf:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
            kw["sock"] = sock
        ws = await connect(server.ws, subprotocols=[PROTOCOL], **kw)  # type: ignore[list-item]
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await ws.send(json.dumps(message))
        return cls(ws)

    async def acked(self) -> None:
        reply = await asyncio.wait_for(self.ws.recv(), 10)
        assert isinstance(reply, str), "graphql-transport-ws messages are text frames"
        reply = json.loads(reply)
        assert reply == {"type": "connection_ack"}, reply

    async def subscribe(self, op: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))

    async def next(self, op: str, seconds: float = 15) -> dict[str, Any]:
        """The next message of operation `op` (a `next` payload, an `error`, `complete`)."""
        while not self.inbox[op]:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
            if message["type"] == "ping":  # as the protocol asks (the server paces by it)
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            self.inbox[message.get("id", "")].append(message)
        return self.inbox[op].popleft()

    async def data(self, op: str, seconds: float = 15) -> dict[str, Any]:
        message = await self.next(op, seconds)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return dict(message["payload"]["data"])

    async def close(self) -> None:
        await self.ws.close()
