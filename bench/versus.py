"""Each read scenario beside its references, in one run: the service over HTTP, PostGraphile
over HTTP (one server process each), the same query executed from memory (bench/trace.py
MemoryTrace) and the json_agg floor (one statement sent with asyncpg). The scenarios: the deep
trace (here) and the large page (bench/page.py).

First every side's answer is checked to hold the service's leaf values. Then latency at
concurrency 1 in interleaved rounds (each side once per round, the one that starts rotating),
and requests per second at concurrency 1 and 8 in turns that alternate between the service and
PostGraphile, with each server's CPU per request: the CPU these shared machines lend drifts
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


@dataclass(frozen=True)
class Scenario:
    """One read measured beside its references: the service's query, PostGraphile's for the
    same data, the json_agg statement of the floor, and each answer's counts (`shape`)."""

    name: str  # the prefix of its figures in the results JSON: deep, page
    title: str
    query: str
    variables: dict[str, Any]
    shape: Callable[[Any], dict[str, int]]
    postgraphile_query: str
    postgraphile_shape: Callable[[Any], dict[str, int]]
    json_agg: str
    json_agg_args: tuple[Any, ...]
    json_agg_shape: Callable[[Any], dict[str, int]]


def deep_trace(f: Factory) -> Scenario:
    """The deep unit's trace (bench/trace.py TRACE): 12 tracks of 170 values."""
    return Scenario(
        name="deep",
        title="deep trace",
        query=trace.TRACE,
        variables={"sn": f.deep_sn},
        shape=trace.shape,
        postgraphile_query=equivalents.POSTGRAPHILE_TRACE,
        postgraphile_shape=_pg_shape,
        json_agg=equivalents.JSON_AGG_TRACE,
        json_agg_args=(f.deep_sn,),
        json_agg_shape=_agg_shape,
    )


@dataclass
class Side:
    """One way to get a scenario's answer: `answer` returns its JSON body."""

    name: str
    answer: Callable[[], Awaitable[bytes]]
    #: the body's counts (tracks, values, units…)
    shape: Callable[[Any], dict[str, int]]
    stats: trace.TraceStats = field(init=False)
    last: bytes = b""  # the last answer

    def __post_init__(self) -> None:
        self.stats = trace.TraceStats(self.name, [])

    async def timed(self) -> None:
        t0 = time.perf_counter()
        self.last = body = await self.answer()
        self.stats.latencies.append(time.perf_counter() - t0)
        self.stats.bytes = len(body)
        self.stats.counts = self.shape(orjson.loads(body))


@dataclass
class HttpSide:
    """A GraphQL server answering one request: one at a time, or turns of concurrent clients
    with the server's CPU counted."""

    name: str
    client: Http
    payload: bytes
    cpu_seconds: Callable[[], float]
    traces: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    async def answer(self) -> bytes:
        r = await self.client.post("/graphql", self.payload)
        if r.status != 200 or b'"errors"' in r.body:
            raise RuntimeError(f"{self.name}: the request failed: {r.text[:1000]}")
        return r.body

    async def turn(self, concurrency: int, seconds: float, at_least: int) -> None:
        """Clients send requests until `seconds` have passed and `at_least` were sent."""
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


def _pg_shape(body: Any) -> dict[str, int]:
    tracks = body["data"]["unitBySn"]["tracksByUnitId"]["nodes"]
    return {
        "tracks": len(tracks),
        "values": sum(len(t["dataValuesByTrackId"]["nodes"]) for t in tracks),
    }


def _agg_shape(body: Any) -> dict[str, int]:
    return trace.shape({"data": {"unit": body}})


async def _alternate(
    a: HttpSide, b: HttpSide, concurrency: int, turns: int, seconds: float, at_least: int
) -> dict[str, dict[str, float]]:
    """`turns` turns each, a b b a a b …"""
    for i in range(turns):
        for side in (a, b) if i % 2 == 0 else (b, a):
            await side.turn(concurrency, seconds, at_least)
    return {a.name: a.figures(), b.name: b.figures()}


def check_leaves(sides: list[Side], title: str, smoke: bool) -> dict[str, Any]:
    """Every answer's leaf values against the service's; a mismatch fails a smoke run."""
    ours = equivalents.leaves(orjson.loads(sides[0].last))
    found: dict[str, Any] = {"service": ours.total()}
    for side in sides[1:]:
        theirs = equivalents.leaves(orjson.loads(side.last))
        found[side.name] = theirs.total()
        problem = equivalents.mismatch(ours, theirs, side.name)
        found[f"{side.name}_matches"] = problem is None
        if problem:
            print(f"LEAF VALUES DIFFER ({title}): {problem}", file=sys.stderr)
            if smoke:
                raise SystemExit(f"the {title}'s leaf values differ: {problem}")
    return found


async def measure(
    args: argparse.Namespace,
    server: Server,
    token: str,
    scenarios: list[Scenario],
    cli: Path | None,
) -> dict[str, dict[str, Any]]:
    """Each scenario's figures by its name (PostGraphile's when `cli` is given), one after the
    other, with one PostGraphile process and one client per server for all of them."""
    async with AsyncExitStack() as stack:
        conn = await asyncpg.connect(asyncpg_dsn(args.database_url))
        stack.push_async_callback(conn.close)
        _, headers = trace.request(token, "", {})
        clients = {
            "service": await stack.enter_async_context(
                Http(server.base, headers=headers, connections=10, timeout=120)
            )
        }
        served: postgraphile.PostGraphile | None = None
        if cli is not None:
            served = await stack.enter_async_context(
                postgraphile.PostGraphile(args.database_url, cli)
            )
            clients["postgraphile"] = await stack.enter_async_context(
                Http(
                    served.base,
                    headers={"Content-Type": "application/json"},
                    connections=10,
                    timeout=120,
                )
            )
        found = {}
        for scenario in scenarios:
            service = HttpSide(
                "service",
                clients["service"],
                trace.body(scenario.query, scenario.variables),
                server.cpu_seconds,
            )
            pg = None
            if served is not None:
                pg_body = trace.body(scenario.postgraphile_query, scenario.variables)
                pg = HttpSide("postgraphile", clients["postgraphile"], pg_body, served.cpu_seconds)
            found[scenario.name] = await _measure_one(args, scenario, conn, service, pg)
    return found


async def _measure_one(
    args: argparse.Namespace,
    scenario: Scenario,
    conn: asyncpg.Connection,
    service: HttpSide,
    pg: HttpSide | None,
) -> dict[str, Any]:
    turn_s = 0.0 if args.smoke else args.turn_seconds  # smoke: count-boxed, a few requests
    memory = trace.MemoryTrace(args.database_url, scenario.query, scenario.variables)
    try:

        async def json_agg() -> bytes:
            return str(await conn.fetchval(scenario.json_agg, *scenario.json_agg_args)).encode()

        sides = [
            Side("service", service.answer, scenario.shape),
            Side("memory", memory.answer, scenario.shape),
            Side("json_agg", json_agg, scenario.json_agg_shape),
        ]
        if pg is not None:
            sides.insert(1, Side("postgraphile", pg.answer, scenario.postgraphile_shape))
        for side in sides:  # warm-up, and the answers the leaf check reads
            for _ in range(WARM_UP):
                side.last = await side.answer()
        leaves = check_leaves(sides, scenario.title, args.smoke)
        tune_gc()  # the in-memory reference runs with the collector settings the server has
        for r in range(args.trace_repeat):  # interleaved, the first side rotating
            for side in sides[r % len(sides) :] + sides[: r % len(sides)]:
                await side.timed()
    finally:
        await memory.close()
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
    return _figures(scenario.name, stats, c1, c8, leaves)


def _figures(
    name: str,
    stats: dict[str, trace.TraceStats],
    c1: dict[str, dict[str, float]],
    c8: dict[str, dict[str, float]],
    leaves: dict[str, Any],
) -> dict[str, Any]:
    def rates(side: str) -> dict[str, float]:
        return {
            f"{name}_per_s_c1": c1[side]["per_s"],
            f"{name}_per_s_c8": c8[side]["per_s"],
            "server_cpu_ms_per_trace_c1": c1[side]["cpu_ms_per_trace"],
            "server_cpu_ms_per_trace_c8": c8[side]["cpu_ms_per_trace"],
        }

    service = stats["service"]
    result: dict[str, Any] = {
        f"{name}_http": service.as_dict(),
        f"{name}_memory": stats["memory"].as_dict(),
        f"{name}_json_agg": stats["json_agg"].as_dict(),
        f"{name}_http_over_memory": round(service.pct(0.5) / stats["memory"].pct(0.5), 2),
        **rates("service"),
        "leaves": leaves,
    }
    if "postgraphile" in stats:
        theirs = stats["postgraphile"]
        p = result["postgraphile"] = {
            "version": postgraphile.VERSION,
            f"{name}_http": theirs.as_dict(),
            **rates("postgraphile"),
        }
        result["service_over_postgraphile"] = {
            "p50": round(service.pct(0.5) / theirs.pct(0.5), 2),
            "p99": round(service.pct(0.99) / theirs.pct(0.99), 2),
            "per_s_c1": round(result[f"{name}_per_s_c1"] / p[f"{name}_per_s_c1"], 2),
            "per_s_c8": round(result[f"{name}_per_s_c8"] / p[f"{name}_per_s_c8"], 2),
            "cpu_per_trace": round(
                result["server_cpu_ms_per_trace_c8"] / p["server_cpu_ms_per_trace_c8"], 2
            ),
        }
    return result


LABELS = {"postgraphile": "PostGraphile", "memory": "in memory", "json_agg": "json_agg"}


def lines(t: dict[str, Any], name: str = "deep", title: str = "deep trace") -> list[str]:
    """A scenario beside PostGraphile (markdown), the floor and the leaf check."""
    p = t.get("postgraphile")
    ratio = t.get("service_over_postgraphile", {})
    http, per_s, cpu = f"{name}_http", f"{name}_per_s", "server_cpu_ms_per_trace_c8"
    rows = [
        ("p50 ms, c1", "p50", lambda x: x[http]["p50_ms"]),
        ("p99 ms, c1", "p99", lambda x: x[http]["p99_ms"]),
        ("requests/s, c1", "per_s_c1", lambda x: x[f"{per_s}_c1"]),
        ("requests/s, c8", "per_s_c8", lambda x: x[f"{per_s}_c8"]),
        ("server CPU ms per request, c8", "cpu_per_trace", lambda x: x[cpu]),
    ]
    out = [
        "",
        f"| {title} | service | PostGraphile {p['version'] if p else '(not run)'} "
        "| service / PostGraphile |",
        "|---|---|---|---|",
    ]
    for label, key, of in rows:
        theirs = f"{of(p):.1f}" if p else "–"
        out.append(
            f"| {label} | {of(t):.1f} | {theirs} | {f'**{ratio[key]:.2f}×**' if p else '–'} |"
        )
    agg = t[f"{name}_json_agg"]["p50_ms"]
    leaves = t["leaves"]
    checked = [
        f"{LABELS[k]} {n:,} {'✓' if leaves[f'{k}_matches'] else '✗ DIFFERENT'}"
        for k, n in leaves.items()
        if k in LABELS
    ]
    out += [
        "",
        f"- the json_agg floor (one statement, asyncpg, c1): p50 {agg:.1f} ms; service / floor "
        f"**{t[http]['p50_ms'] / agg:.1f}×**",
        f"- leaf values: service {leaves['service']:,}; " + ", ".join(checked),
        f"- {title} HTTP / in memory (p50): **{t[f'{name}_http_over_memory']}×**",
    ]
    return out
