"""The deep trace beside its references, in one run: the service over HTTP, PostGraphile over
HTTP (one server process each), the same query executed from memory (bench/trace.py
MemoryTrace) and the json_agg floor (one statement sent with asyncpg).

First every side's answer is checked to hold the service's leaf values. Then latency at
concurrency 1 in interleaved rounds (each side once per round, the one that starts rotating),
and traces per second at concurrency 1 and 8 in turns that alternate between the service and
PostGraphile, with each server's CPU per trace: the CPU these shared machines lend drifts
within seconds, and every side should see the same drift."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench import equivalents, postgraphile, trace
from bench.factory import Factory, asyncpg_dsn
from bench.http import Http
from bench.server import Server
from graphql_api.bootstrap import tune_gc

WARM_UP = 2  # unmeasured rounds: the servers' first requests prepare and cache
TURNS = 2  # throughput turns per server and concurrency: a b b a


@dataclass
class Side:
    """One way to get the deep trace: `answer` returns its JSON body."""

    name: str
    answer: Callable[[], Awaitable[bytes]]
    #: the body's (tracks, values)
    shape: Callable[[Any], tuple[int, int]]
    stats: trace.TraceStats = field(init=False)
    last: bytes = b""  # the last answer

    def __post_init__(self) -> None:
        self.stats = trace.TraceStats(self.name, [])

    async def timed(self) -> None:
        t0 = time.perf_counter()
        self.last = body = await self.answer()
        self.stats.latencies.append(time.perf_counter() - t0)
        self.stats.bytes = len(body)
        self.stats.tracks, self.stats.values = self.shape(orjson.loads(body))


@dataclass
class HttpSide:
    """A GraphQL server answering the deep trace: one request at a time, or turns of
    concurrent clients with the server's CPU counted."""

    name: str
    base: str
    payload: bytes
    headers: dict[str, str]
    cpu_seconds: Callable[[], float]
    client: Http | None = None
    traces: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    async def answer(self) -> bytes:
        assert self.client is not None
        r = await self.client.post("/graphql", self.payload)
        if r.status != 200 or b'"errors"' in r.body:
            raise RuntimeError(f"{self.name}: the trace failed: {r.text[:1000]}")
        return r.body

    async def turn(self, concurrency: int, seconds: float, at_least: int) -> None:
        """Clients send traces until `seconds` have passed and `at_least` were sent."""
        assert self.client is not None
        deadline = time.perf_counter() + seconds
        sent = 0

        async def client() -> None:
            nonlocal sent
            while time.perf_counter() < deadline or sent < at_least:
                sent += 1
                await self.answer()

        cpu, t0 = self.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        self.seconds += time.perf_counter() - t0
        self.cpu += self.cpu_seconds() - cpu
        self.traces += sent

    def figures(self) -> dict[str, float]:
        per_s, cpu_ms = self.traces / self.seconds, 1000 * self.cpu / self.traces
        self.traces, self.seconds, self.cpu = 0, 0.0, 0.0
        return {"per_s": round(per_s, 1), "cpu_ms_per_trace": round(cpu_ms, 1)}


def _pg_shape(body: Any) -> tuple[int, int]:
    tracks = body["data"]["unitBySn"]["tracksByUnitId"]["nodes"]
    return len(tracks), sum(len(t["dataValuesByTrackId"]["nodes"]) for t in tracks)


def _agg_shape(body: Any) -> tuple[int, int]:
    return len(body["tracks"]), sum(len(t["dataValues"]) for t in body["tracks"])


async def _alternate(
    a: HttpSide, b: HttpSide, concurrency: int, turns: int, seconds: float, at_least: int
) -> dict[str, dict[str, float]]:
    """`turns` turns each, a b b a a b …"""
    for i in range(turns):
        for side in (a, b) if i % 2 == 0 else (b, a):
            await side.turn(concurrency, seconds, at_least)
    return {a.name: a.figures(), b.name: b.figures()}


def check_leaves(sides: list[Side], smoke: bool) -> dict[str, Any]:
    """Every answer's leaf values against the service's; a mismatch fails a smoke run."""
    ours = equivalents.leaves(orjson.loads(sides[0].last))
    found: dict[str, Any] = {"service": ours.total()}
    for side in sides[1:]:
        theirs = equivalents.leaves(orjson.loads(side.last))
        found[side.name] = theirs.total()
        problem = equivalents.mismatch(ours, theirs, side.name)
        found[f"{side.name}_matches"] = problem is None
        if problem:
            print(f"LEAF VALUES DIFFER: {problem}", file=sys.stderr)
            if smoke:
                raise SystemExit(f"the deep trace's leaf values differ: {problem}")
    return found


async def measure(
    args: argparse.Namespace, server: Server, token: str, f: Factory, cli: Path | None
) -> dict[str, Any]:
    """The deep trace's figures (results JSON `trace`), PostGraphile's when `cli` is given."""
    turn_s = 0.0 if args.smoke else args.turn_seconds  # smoke: count-boxed, a few traces
    body, headers = trace.request(token, f.deep_sn)
    service = HttpSide("service", server.base, body, headers, server.cpu_seconds)
    memory = trace.MemoryTrace(args.database_url, f.deep_sn)
    sides = [
        Side("service", service.answer, trace.shape),
        Side("memory", memory.answer, trace.shape),
    ]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(memory.close)
        conn = await asyncpg.connect(asyncpg_dsn(args.database_url))
        stack.push_async_callback(conn.close)

        async def json_agg() -> bytes:
            return str(await conn.fetchval(equivalents.JSON_AGG_TRACE, f.deep_sn)).encode()

        sides.append(Side("json_agg", json_agg, _agg_shape))
        pg: HttpSide | None = None
        if cli is not None:
            served = await stack.enter_async_context(
                postgraphile.PostGraphile(args.database_url, cli)
            )
            pg_body = orjson.dumps(
                {"query": equivalents.POSTGRAPHILE_TRACE, "variables": {"sn": f.deep_sn}}
            )
            json_headers = {"Content-Type": "application/json"}
            pg = HttpSide("postgraphile", served.base, pg_body, json_headers, served.cpu_seconds)
            sides.insert(1, Side("postgraphile", pg.answer, _pg_shape))
        for http in (service, pg):
            if http is not None:
                http.client = await stack.enter_async_context(
                    Http(http.base, headers=http.headers, connections=10, timeout=120)
                )
        for side in sides:  # warm-up, and the answers the leaf check reads
            for _ in range(WARM_UP):
                side.last = await side.answer()
        leaves = check_leaves(sides, args.smoke)
        tune_gc()  # the in-memory reference runs with the collector settings the server has
        for r in range(args.trace_repeat):  # interleaved, the first side rotating
            for side in sides[r % len(sides) :] + sides[: r % len(sides)]:
                await side.timed()
        if pg is not None:
            c1 = await _alternate(service, pg, 1, TURNS, turn_s, 3)
            c8 = await _alternate(service, pg, 8, TURNS, turn_s, 8)
        else:
            await service.turn(1, turn_s * TURNS, 3)
            c1 = {"service": service.figures()}
            await service.turn(8, turn_s * TURNS, 8)
            c8 = {"service": service.figures()}
    stats = {s.name: s.stats for s in sides}
    stats["json_agg"].statements = 1
    return _figures(stats, c1, c8, leaves)


def _figures(
    stats: dict[str, trace.TraceStats],
    c1: dict[str, dict[str, float]],
    c8: dict[str, dict[str, float]],
    leaves: dict[str, Any],
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "deep_http": stats["service"].as_dict(),
        "deep_memory": stats["memory"].as_dict(),
        "deep_json_agg": stats["json_agg"].as_dict(),
        "deep_http_over_memory": round(stats["service"].pct(0.5) / stats["memory"].pct(0.5), 2),
        "deep_per_s_c1": c1["service"]["per_s"],
        "deep_per_s_c8": c8["service"]["per_s"],
        "server_cpu_ms_per_trace_c1": c1["service"]["cpu_ms_per_trace"],
        "server_cpu_ms_per_trace_c8": c8["service"]["cpu_ms_per_trace"],
        "leaves": leaves,
    }
    if "postgraphile" in stats:
        result["postgraphile"] = {
            "version": postgraphile.VERSION,
            "deep_http": stats["postgraphile"].as_dict(),
            "deep_per_s_c1": c1["postgraphile"]["per_s"],
            "deep_per_s_c8": c8["postgraphile"]["per_s"],
            "server_cpu_ms_per_trace_c1": c1["postgraphile"]["cpu_ms_per_trace"],
            "server_cpu_ms_per_trace_c8": c8["postgraphile"]["cpu_ms_per_trace"],
        }
        p = result["postgraphile"]
        result["service_over_postgraphile"] = {
            "p50": round(stats["service"].pct(0.5) / stats["postgraphile"].pct(0.5), 2),
            "p99": round(stats["service"].pct(0.99) / stats["postgraphile"].pct(0.99), 2),
            "per_s_c1": round(result["deep_per_s_c1"] / p["deep_per_s_c1"], 2),
            "per_s_c8": round(result["deep_per_s_c8"] / p["deep_per_s_c8"], 2),
            "cpu_per_trace": round(
                result["server_cpu_ms_per_trace_c8"] / p["server_cpu_ms_per_trace_c8"], 2
            ),
        }
    return result


LABELS = {"postgraphile": "PostGraphile", "memory": "in memory", "json_agg": "json_agg"}


def lines(t: dict[str, Any]) -> list[str]:
    """The deep trace beside PostGraphile (markdown), the floor and the leaf check."""
    p = t.get("postgraphile")
    ratio = t.get("service_over_postgraphile", {})
    rows = [
        ("p50 ms, c1", "p50", lambda x: x["deep_http"]["p50_ms"]),
        ("p99 ms, c1", "p99", lambda x: x["deep_http"]["p99_ms"]),
        ("traces/s, c1", "per_s_c1", lambda x: x["deep_per_s_c1"]),
        ("traces/s, c8", "per_s_c8", lambda x: x["deep_per_s_c8"]),
        ("server CPU ms per trace, c8", "cpu_per_trace", lambda x: x["server_cpu_ms_per_trace_c8"]),
    ]
    out = [
        "",
        f"| deep trace | service | PostGraphile {p['version'] if p else '(not run)'} "
        "| service / PostGraphile |",
        "|---|---|---|---|",
    ]
    for label, key, of in rows:
        theirs = f"{of(p):.1f}" if p else "–"
        out.append(
            f"| {label} | {of(t):.1f} | {theirs} | {f'**{ratio[key]:.2f}×**' if p else '–'} |"
        )
    agg = t["deep_json_agg"]["p50_ms"]
    leaves = t["leaves"]
    checked = [
        f"{LABELS[k]} {n:,} {'✓' if leaves[f'{k}_matches'] else '✗ DIFFERENT'}"
        for k, n in leaves.items()
        if k in LABELS
    ]
    out += [
        "",
        f"- the json_agg floor (one statement, asyncpg, c1): p50 {agg:.1f} ms; service / floor "
        f"**{t['deep_http']['p50_ms'] / agg:.1f}×**",
        f"- leaf values: service {leaves['service']:,}; " + ", ".join(checked),
    ]
    return out
