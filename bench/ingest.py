"""Ingest over HTTP through the real app, and the raw floor: plain asyncpg writing the rows
the service writes for an accepted event, one transaction per event, at the same
concurrency. Every event goes to a fresh unit at its current step, so each is ACCEPTED."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from bench.factory import TEST_SPECS, Factory, asyncpg_dsn
from bench.http import Http

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message } event { id } } }"""
INGEST_MANY = """mutation($items: [IngestEventInput!]!) { ingestEvents(inputs: $items) {
  status error { code message } event { id } } }"""
OCCURRED = "2026-03-02T08:15:03+01:00"


def percentile_ms(latencies: list[float], p: float) -> float:
    """The p-quantile (nearest rank) of latencies in seconds, in milliseconds."""
    xs = sorted(latencies)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0


@dataclass
class Stats:
    name: str
    events: int
    values: int
    seconds: float
    latencies: list[float]  # per request (a batch is one request)
    #: CPU seconds the server process(es) used meanwhile (service runs only)
    server_cpu: float | None = None

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def values_per_s(self) -> float:
        return self.values / self.seconds

    def pct(self, p: float) -> float:
        return percentile_ms(self.latencies, p)

    def __add__(self, other: Stats) -> Stats:
        """Two rounds of one scenario as one."""
        cpu = (
            None
            if self.server_cpu is None or other.server_cpu is None
            else self.server_cpu + other.server_cpu
        )
        return Stats(
            self.name,
            self.events + other.events,
            self.values + other.values,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            cpu,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "requests": len(self.latencies),
            "values": self.values,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s, 1),
            "values_per_s": round(self.values_per_s, 1),
            "p50_ms": round(self.pct(0.5), 2),
            "p99_ms": round(self.pct(0.99), 2),
            **(
                {"server_cpu_ms_per_event": round(self.server_cpu * 1000 / self.events, 2)}
                if self.server_cpu is not None and self.events
                else {}
            ),
        }


def event(f: Factory, kind: str, sn: str, test_values: int = TEST_SPECS) -> dict[str, Any]:
    """An ingestEvent input: AUTO with one measurement, TEST with `test_values`."""
    if kind == "AUTO":
        station, values = f.code("AOI-1"), [{"name": "VoidRatio", "value": 12.5}]
    else:
        station = f.code("ICT-1")
        values = [{"name": f"M{i:03d}", "value": 1.0 + (i % 50) / 10} for i in range(test_values)]
    payload = {"sn": sn, "station": station, "result": "PASS", "values": values}
    if kind == "TEST":
        payload["testId"] = f"T-{uuid.uuid4().hex[:12]}"
    return {
        "sourceSystem": station,
        "dedupeKey": f"{kind}-{sn}-{uuid.uuid4().hex[:8]}",
        "eventType": kind,
        "occurredAt": OCCURRED,
        "payload": payload,
    }


async def _drive(
    name: str,
    requests: Sequence[Any],
    concurrency: int,
    send: Callable[[Any], Awaitable[int]],
    values_per_event: int,
) -> Stats:
    """Send the requests from `concurrency` workers; `send` returns the events it carried."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    events = 0

    async def worker() -> None:
        nonlocal events
        while not queue.empty():
            r = queue.get_nowait()
            t0 = time.perf_counter()
            carried = await send(r)  # (not `events += await …`: that reads events first)
            events += carried
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    return Stats(name, events, events * values_per_event, seconds, latencies)


class HttpIngest:
    def __init__(self, base: str, token: str, concurrency: int):
        self.client = Http(
            base,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            connections=concurrency + 2,
            timeout=120,
        )

    async def __aenter__(self) -> HttpIngest:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.close()

    async def post(self, query: str, variables: dict[str, Any]) -> Any:
        body = orjson.dumps({"query": query, "variables": variables})
        r = await self.client.post("/graphql", body)
        data = r.json()
        if r.status != 200 or data.get("errors"):
            raise RuntimeError(f"HTTP {r.status}: {str(data)[:500]}")
        return data["data"]

    async def one(self, item: dict[str, Any]) -> int:
        result = (await self.post(INGEST, {"i": item}))["ingestEvent"]
        _accepted(result)
        return 1

    async def many(self, items: list[dict[str, Any]]) -> int:
        results = (await self.post(INGEST_MANY, {"items": items}))["ingestEvents"]
        for result in results:
            _accepted(result)
        return len(results)


def _accepted(result: dict[str, Any]) -> None:
    if result["status"] != "ACCEPTED":
        raise RuntimeError(f"not accepted: {result}")


async def http_scenario(
    base: str, token: str, name: str, items: list[Any], concurrency: int, batch: int = 1
) -> Stats:
    kind_values = 1 if "AUTO" in name else TEST_SPECS
    async with HttpIngest(base, token, concurrency) as http:
        if batch == 1:
            return await _drive(name, items, concurrency, http.one, kind_values)
        batches = [items[i : i + batch] for i in range(0, len(items), batch)]
        return await _drive(name, batches, concurrency, http.many, kind_values)


# ------------------------------------------------------------------ the floor


class Floor:
    """What an accepted event writes, by hand: event (ON CONFLICT DO NOTHING on the dedupe
    key), the unit locked, the event-unit link, the track, the values (unnest), the unit
    advanced, the audit row: one transaction per event, prepared statements."""

    EVENT = """INSERT INTO ingest_event (source_system, dedupe_key, input_hash, event_type,
      occurred_at, received_at, run_no, step_no, station_code, line_code, sn, sn_list, result,
      payload, normalized, test_result_id)
      VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
      ON CONFLICT (source_system, dedupe_key) DO NOTHING RETURNING id"""
    LOCK = "SELECT id, status, current_step_no FROM unit WHERE sn = $1 FOR UPDATE"
    LINK = "INSERT INTO ingest_event_unit (event_id, unit_id) VALUES ($1, $2)"
    TRACK = """INSERT INTO track (unit_id, run_no, step_no, attempt, operation_code,
      station_code, source, in_at, out_at, result, ingest_event_id)
      VALUES ($1,$2,$3,1,$4,$5,$6,$7,$7,'PASS',$8) RETURNING id"""
    VALUES = """INSERT INTO data_value (track_id, spec_name, data_type, value_number, judge,
      alarmed, source, collected_at, ingest_event_id)
      SELECT $1, name, 'NUMBER', v, 'PASS', false, $2, $3, $4
      FROM unnest($5::text[], $6::float8[]) AS u(name, v)"""
    ADVANCE = "UPDATE unit SET current_step_no = $1, status = 'QUEUED' WHERE id = $2"
    AUDIT = """INSERT INTO audit_event (at, actor, request_id, action, entity_type, entity_key,
      outcome, details) VALUES ($1, 'bench', $2, 'ingestEvent', 'IngestEvent', $3, 'OK', $4)"""

    def __init__(self, f: Factory, pool: asyncpg.Pool):
        self.f = f
        self.pool = pool

    async def write(self, conn: asyncpg.Connection, item: dict[str, Any]) -> None:
        p = item["payload"]
        kind = item["eventType"]
        now = datetime.now(UTC)
        step, next_step, op = (10, 20, "AOI") if kind == "AUTO" else (20, 30, "ICT")
        names = [v["name"] for v in p["values"]]
        numbers = [float(v["value"]) for v in p["values"]]
        raw = orjson.dumps(item)
        async with conn.transaction():
            event_id = await conn.fetchval(
                self.EVENT,
                item["sourceSystem"],
                item["dedupeKey"],
                hashlib.sha256(raw).hexdigest(),
                kind,
                now,
                now,
                self.f.run_no,
                step,
                p["station"],
                self.f.code("L"),
                p["sn"],
                orjson.dumps([p["sn"]]).decode(),
                "PASS",
                orjson.dumps(p).decode(),
                orjson.dumps({"unmapped": [], "values": len(names)}).decode(),
                p.get("testId"),
            )
            unit = await conn.fetchrow(self.LOCK, p["sn"])
            await conn.execute(self.LINK, event_id, unit["id"])
            track_id = await conn.fetchval(
                self.TRACK,
                unit["id"],
                self.f.run_no,
                step,
                self.f.code(op),
                p["station"],
                kind,
                now,
                event_id,
            )
            await conn.execute(self.VALUES, track_id, kind, now, event_id, names, numbers)
            await conn.execute(self.ADVANCE, next_step, unit["id"])
            await conn.execute(
                self.AUDIT,
                now,
                uuid.uuid4().hex,
                f"{item['sourceSystem']}/{item['dedupeKey']}",
                orjson.dumps({"eventId": event_id}).decode(),
            )

    async def one(self, item: dict[str, Any]) -> int:
        async with self.pool.acquire() as conn:
            await self.write(conn, item)
        return 1

    async def many(self, items: list[dict[str, Any]]) -> int:
        async with self.pool.acquire() as conn:
            for item in items:  # each item its own transaction, as the service does
                await self.write(conn, item)
        return len(items)


async def floor_scenario(
    f: Factory, name: str, items: list[Any], concurrency: int, batch: int = 1
) -> Stats:
    kind_values = 1 if "AUTO" in name else TEST_SPECS

    async def init(conn: asyncpg.Connection) -> None:
        await conn.set_type_codec(
            "jsonb", encoder=lambda v: v, decoder=orjson.loads, schema="pg_catalog"
        )

    pool = await asyncpg.create_pool(
        asyncpg_dsn(f.url), min_size=concurrency, max_size=concurrency, init=init
    )
    try:
        floor = Floor(f, pool)
        if batch == 1:
            return await _drive(name, items, concurrency, floor.one, kind_values)
        batches = [items[i : i + batch] for i in range(0, len(items), batch)]
        return await _drive(name, batches, concurrency, floor.many, kind_values)
    finally:
        await pool.close()
