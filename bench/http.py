"""The bench's HTTP client, on aiohttp.

Client, server and database share the machine's cores, so whatever the client spends per
request is taken from the server it measures. httpx (which the tests keep, for its ASGI
transport) spent ~1.8–2.3 ms of client CPU per request on this kind of machine, aiohttp
~0.25 ms (a trivial endpoint, 3,000 requests at concurrency 1 and 4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

#: what a failed request raises below HTTP (refused, reset, timed out)
TransportError = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Http:
    """One connection pool; `base` prefixes relative paths."""

    def __init__(
        self,
        base: str = "",
        headers: Mapping[str, str] | None = None,
        connections: int = 10,
        timeout: float = 60,
    ):
        self.base = base
        self.session = aiohttp.ClientSession(
            headers=dict(headers or {}),
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.session.close()

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Answer:
        async with self.session.post(self.base + path, data=body, headers=headers) as r:
            return Answer(r.status, await r.read(), r.headers)

    async def get(self, path: str) -> Answer:
        async with self.session.get(self.base + path) as r:
            return Answer(r.status, await r.read(), r.headers)
