"""The unit trace: over HTTP (latency, SQL statements per request counted in the server,
response bytes) and the same query executed by the Strawberry schema from memory (every read
answered from a dict) as the reference for what the database path adds. bench/versus.py
measures the deep trace beside PostGraphile, the json_agg floor and this in-memory run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from adapters.settings import Settings
from bench.factory import DEEP_SPECS, DEEP_STEPS, Factory
from bench.http import Http
from bench.ingest import INGEST, OCCURRED, percentile_ms
from domain.actors import Actor
from domain.limits import Limits
from domain.security import UNRESTRICTED
from graphql_api.bootstrap import bootstrap
from graphql_api.context import Context
from graphql_api.loaders import Loaders
from graphql_api.schema import build_schema

TRACE = """query($sn: String!) { unit(sn: $sn) {
  sn status currentStepNo
  run { runNo status routeVersion { versionNo status steps { stepNo operationCode stationType } } }
  workOrder { woNo productCode }
  tracks { id stepNo attempt operationCode source inAt outAt result operatorId
    station { code name stationType group { code } }
    dataValues { specName dataType valueNumber valueText valueBoolean valueUnit judge alarmed
                 source collectedAt }
    ingestEvent { id dedupeKey sourceSystem } }
  ingestEvents { id dedupeKey sourceSystem eventType occurredAt receivedAt stepNo result
                 dataValueCount } } }"""


@dataclass
class TraceStats:
    name: str
    latencies: list[float]
    statements: int | None = None
    bytes: int = 0
    #: what the answer holds: tracks and values, units and tracks…
    counts: dict[str, int] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        return percentile_ms(self.latencies, p)

    def as_dict(self) -> dict[str, Any]:
        return {
            "p50_ms": round(self.pct(0.5), 2),
            "p99_ms": round(self.pct(0.99), 2),
            "statements": self.statements,
            "bytes": self.bytes,
            **self.counts,
        }


async def build_deep_unit(f: Factory, base: str, token: str) -> None:
    """Walk the deep unit through its twelve TEST steps with real events (170 values each)."""
    station = f.code("DEEP-1")
    values = [{"name": f"D{i:03d}", "value": 1.0 + (i % 70) / 10} for i in range(DEEP_SPECS)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with Http(base, headers=headers) as client:
        for step in range(DEEP_STEPS):
            item = {
                "sourceSystem": station,
                "dedupeKey": f"DEEP-{f.deep_sn}-{step}-{uuid.uuid4().hex[:6]}",
                "eventType": "TEST",
                "occurredAt": OCCURRED,
                "payload": {
                    "sn": f.deep_sn,
                    "station": station,
                    "result": "PASS",
                    "testId": f"T-DEEP-{step}",
                    "values": values,
                },
            }
            r = await client.post(
                "/graphql", orjson.dumps({"query": INGEST, "variables": {"i": item}})
            )
            status = r.json()["data"]["ingestEvent"]
            assert status["status"] == "ACCEPTED", status


def shape(body: dict[str, Any]) -> dict[str, int]:
    tracks = body["data"]["unit"]["tracks"]
    return {"tracks": len(tracks), "values": sum(len(t["dataValues"]) for t in tracks)}


def body(query: str, variables: dict[str, Any]) -> bytes:
    """A GraphQL request's JSON body."""
    return orjson.dumps({"query": query, "variables": variables})


def request(token: str, query: str, variables: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A query's body, and the headers that send it to the service."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return body(query, variables), headers


async def http_trace(
    base: str,
    token: str,
    name: str,
    sn: str,
    repeat: int,
) -> TraceStats:
    """Latency at concurrency 1 (the shallow trace; the deep one is measured beside its
    references in bench/versus.py)."""
    stats = TraceStats(name, [])
    payload, headers = request(token, TRACE, {"sn": sn})
    async with Http(base, headers=headers) as client:
        for i in range(repeat + 2):
            t0 = time.perf_counter()
            r = await client.post("/graphql", payload)
            elapsed = time.perf_counter() - t0
            body = r.json()
            if r.status != 200 or body.get("errors"):
                raise RuntimeError(f"trace failed: {str(body)[:500]}")
            if i < 2:  # warm-up: loads the frozen route version into the server's cache
                continue
            stats.latencies.append(elapsed)
            stats.bytes = len(r.body)
            stats.counts = shape(body)
    return stats


async def trace_statements(
    base: str, token: str, variables: dict[str, Any], query: str = TRACE
) -> int:
    """The SQL statements of one request (the trace's unless `query`), counted by a server
    started with count_sql."""
    payload, headers = request(token, query, variables)
    async with Http(base, headers=headers) as client:
        await client.post("/graphql", payload)  # warm-up: the route version cached
        r = await client.post("/graphql", payload)
    if r.status != 200 or r.json().get("errors"):
        raise RuntimeError(f"trace failed: {r.text[:500]}")
    return int(r.headers["x-sql-statements"])


class MemoStore:
    """Any read store, every answer memoized by method and arguments: after one warm-up, the
    trace runs with no database at all."""

    def __init__(self, store: Any):
        self._store = store
        self._memo: dict[tuple[str, str], Any] = {}

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._store, name)

        async def memoized(*args: Any) -> Any:
            key = (name, repr(args))
            if key not in self._memo:
                self._memo[key] = await method(*args)
            return self._memo[key]

        return memoized


class MemoryTrace:
    """A query through the same schema with every read served from memory, including the JSON
    serialization of the result."""

    def __init__(self, url: str, query: str, variables: dict[str, Any]):
        self.services = bootstrap(Settings(database_url=url))
        self.memo = MemoStore(self.services.store)
        self.schema = build_schema()
        self.query, self.variables = query, variables

    async def answer(self) -> bytes:
        """One answer: the first fills the memo, the next ones read nothing from the database."""
        context = Context(
            actor=Actor(name="bench", request_id="memory"),
            bus=self.services.bus,
            store=self.memo,  # type: ignore[arg-type]
            loaders=Loaders(self.memo),  # type: ignore[arg-type]
            limits=Limits(),
            ingest=self.services.ingest,
            principal=UNRESTRICTED,
        )
        result = await self.schema.execute(
            self.query, variable_values=self.variables, context_value=context
        )
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})

    async def close(self) -> None:
        await self.services.close()
