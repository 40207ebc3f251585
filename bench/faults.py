"""`python -m bench.faults --database-url postgresql+asyncpg://… [--recreate] [--events 5000]`

Load with faults: two server processes on one database, eight clients sending AUTO then
TEST events for their units — some sent twice on purpose (the same key, at once, to either
server), some racing another event for the same unit at the same step, some sent early (twice
at once, before the unit is there) and again in their turn — and retrying every
error with the same dedupeKey and input, while database connections are killed at random
(pg_terminate_backend). Then the database is checked: every key accepted at most once and
answered consistently, every unit's tracks in route order with no step twice, the stored
values exactly those of the accepted events, no rejection without a reason or left open
under an accepted key, no error without a retryable code. Zero violations is the only pass
(exit 0)."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from bench import factory
from bench.factory import Factory, asyncpg_dsn
from bench.http import Http, TransportError
from bench.ingest import INGEST, event
from bench.server import Server, make_token

TEST_VALUES = 5
RETRIES = 25  # a patient gateway: under heavy killing a request may fail many times
STEPS = {0: 10, 1: 20, 2: 30}  # tracks so far → the unit's current step (all PASS)


@dataclass
class Tally:
    sent: int = 0  # logical sends (a retry is not a send)
    requests: int = 0
    retries: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    retryable_errors: Counter[str] = field(default_factory=Counter)
    gave_up: list[str] = field(default_factory=list)
    violations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: what each key was last answered: ACCEPTED / DUPLICATE / REJECTED
    answered: dict[str, str] = field(default_factory=dict)
    killed: int = 0

    def violate(self, kind: str, example: str) -> None:
        self.violations[kind].append(example)


def retryable(status: int, body: Any) -> str | None:
    """The retryable code of an error answer, None when the error says nothing retryable."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return None
    ext = errors[0].get("extensions") or {}
    if ext.get("retryable") is True or ext.get("code") == "SERVICE_UNAVAILABLE":
        return str(ext.get("code"))
    return None


class Client:
    def __init__(self, bases: list[str], token: str, tally: Tally):
        self.bases = bases
        self.tally = tally
        self.http = Http(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            connections=100,
            timeout=30,
        )

    async def send(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """One logical send with retries on retryable errors (same key, same input)."""
        t = self.tally
        t.sent += 1
        body = orjson.dumps({"query": INGEST, "variables": {"i": data}})
        key = data["dedupeKey"]
        for attempt in range(RETRIES):
            if attempt:
                t.retries += 1
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt) * random.random())
            t.requests += 1
            base = random.choice(self.bases)
            try:
                r = await self.http.post(f"{base}/graphql", body)
            except TransportError as err:
                t.retryable_errors[f"transport {type(err).__name__}"] += 1
                continue
            try:
                answer = r.json()
            except ValueError:
                t.violate("non-JSON answer", f"HTTP {r.status}: {r.text[:200]}")
                continue
            if r.status != 200 or answer.get("errors"):
                code = retryable(r.status, answer)
                if code is None:
                    t.violate("error without a retryable code", f"HTTP {r.status}: {answer}"[:300])
                    return None
                t.retryable_errors[code] += 1
                continue
            result: dict[str, Any] = answer["data"]["ingestEvent"]
            status = result["status"]
            t.answers[status] += 1
            if status == "REJECTED":
                code = (result.get("error") or {}).get("code")
                t.refusals[str(code)] += 1
                if not code:
                    t.violate("refusal without a reason", str(result)[:300])
            t.answered[key] = status
            return result
        t.gave_up.append(key)
        return None


async def unit_story(client: Client, f: Factory, sn: str, rng: random.Random) -> None:
    """AUTO then TEST for one unit, with the mischief of the run."""
    auto = event(f, "AUTO", sn, TEST_VALUES)
    test = event(f, "TEST", sn, TEST_VALUES)
    sends = [client.send(auto)]
    if rng.random() < 0.10:
        # the TEST event early, twice at once, racing the AUTO event: refused (STEP_MISMATCH)
        # or accepted depending on who commits first; sent again in its turn below, when it
        # must resolve any rejection of its key or answer DUPLICATE
        sends += [client.send(test), client.send(test)]
    if rng.random() < 0.15:
        sends.append(client.send(auto))  # the same event twice, at once
    if rng.random() < 0.10:
        # another event for the same unit at the same step
        sends.append(client.send(event(f, "AUTO", sn, TEST_VALUES)))
    await asyncio.gather(*sends)
    sends = [client.send(test)]
    if rng.random() < 0.15:
        sends.append(client.send(test))
    await asyncio.gather(*sends)


async def killer(dsn: str, database: str, stop: asyncio.Event, tally: Tally, pause: float) -> None:
    conn = await asyncpg.connect(dsn)
    rng = random.Random(7)
    try:
        while not stop.is_set():
            await asyncio.sleep(pause * (0.5 + rng.random()))
            pids = [
                r["pid"]
                for r in await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    database,
                )
            ]
            for pid in rng.sample(pids, k=len(pids) // 3 + (1 if pids else 0)):
                if await conn.fetchval("SELECT pg_terminate_backend($1)", pid):
                    tally.killed += 1
    finally:
        await conn.close()


async def verify(f: Factory, tally: Tally) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_dsn(f.url))
    try:
        dupes = await conn.fetch(
            "SELECT source_system, dedupe_key, count(*) AS n FROM ingest_event "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        )
        for r in dupes:
            tally.violate("key accepted twice", f"{r['dedupe_key']} ×{r['n']}")
        stored = {
            r["dedupe_key"]
            for r in await conn.fetch(
                "SELECT dedupe_key FROM ingest_event WHERE sn LIKE $1", f"{f.tag}-%"
            )
        }
        for key, status in tally.answered.items():
            if status in ("ACCEPTED", "DUPLICATE") and key not in stored:
                tally.violate("answered accepted, not stored", key)
            if status == "REJECTED" and key in stored:
                tally.violate("answered REJECTED, yet its key was accepted", key)
        tracks = await conn.fetch(
            "SELECT u.sn, u.current_step_no, array_agg(t.step_no ORDER BY t.id) "
            "FILTER (WHERE t.id IS NOT NULL) AS steps FROM unit u "
            "LEFT JOIN track t ON t.unit_id = u.id WHERE u.run_no = $1 "
            "GROUP BY u.sn, u.current_step_no",
            f.run_no,
        )
        for r in tracks:
            steps = list(r["steps"] or [])
            if steps != [10, 20][: len(steps)]:
                tally.violate("tracks out of route order or a step twice", f"{r['sn']}: {steps}")
            elif r["current_step_no"] != STEPS[len(steps)]:
                tally.violate(
                    "unit step disagrees with its tracks",
                    f"{r['sn']}: at {r['current_step_no']} after {steps}",
                )
        per_event = await conn.fetch(
            "SELECT e.dedupe_key, e.event_type, count(v.id) AS n FROM ingest_event e "
            "LEFT JOIN data_value v ON v.ingest_event_id = e.id WHERE e.run_no = $1 "
            "GROUP BY e.id",
            f.run_no,
        )
        expected = 0
        for r in per_event:
            want = 1 if r["event_type"] == "AUTO" else TEST_VALUES
            expected += want
            if r["n"] != want:
                tally.violate("values of an event", f"{r['dedupe_key']}: {r['n']} ≠ {want}")
        values = await conn.fetchval(
            "SELECT count(*) FROM data_value v JOIN track t ON t.id = v.track_id "
            "WHERE t.run_no = $1",
            f.run_no,
        )
        if values != expected:
            tally.violate("stored values ≠ the accepted events'", f"{values} ≠ {expected}")
        no_reason = await conn.fetchval(
            "SELECT count(*) FROM ingest_rejection WHERE coalesce(error_code, '') = ''"
        )
        if no_reason:
            tally.violate("rejection without a reason", f"{no_reason} rows")
        open_under_accepted = await conn.fetch(
            "SELECT j.dedupe_key, j.error_code FROM ingest_rejection j JOIN ingest_event e "
            "ON e.source_system = j.source_system AND e.dedupe_key = j.dedupe_key "
            "WHERE j.resolved_by_event_id IS NULL"
        )
        for r in open_under_accepted:
            tally.violate(
                "rejection left open under an accepted key", f"{r['dedupe_key']} {r['error_code']}"
            )
        rejections = await conn.fetchval("SELECT count(*) FROM ingest_rejection")
        return {
            "events_stored": len(per_event),
            "values_stored": values,
            "rejections_stored": rejections,
            "units": len(tracks),
        }
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    if args.recreate:
        await factory.recreate(args.database_url)
    units = max(4, args.events * 10 // 23)  # ~2.3 sends per unit
    f = await factory.load(args.database_url, units, units, 0, history=False)
    token = make_token(args.database_url, f"faults-{f.tag}")
    tally = Tally()
    rng = random.Random(args.seed)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for sn in f.auto_sns:
        queue.put_nowait(sn)
    stop = asyncio.Event()
    database = f.url.rsplit("/", 1)[-1]
    started = time.perf_counter()
    async with Server(args.database_url) as one, Server(args.database_url) as two:
        client = Client([one.base, two.base], token, tally)

        async def worker() -> None:
            while not queue.empty():
                await unit_story(client, f, queue.get_nowait(), rng)

        kills = asyncio.create_task(
            killer(asyncpg_dsn(f.url), database, stop, tally, args.kill_every)
        )
        try:
            await asyncio.gather(*(worker() for _ in range(args.clients)))
        finally:
            stop.set()
            await kills
            await client.http.close()
    seconds = time.perf_counter() - started
    stored = await verify(f, tally)
    for key in tally.gave_up:
        tally.violate("gave up after all retries", key)
    print(report(tally, stored, seconds, args))
    return 1 if tally.violations else 0


def report(t: Tally, stored: dict[str, Any], seconds: float, args: argparse.Namespace) -> str:
    lines = [
        f"faults run: {t.sent} sends ({t.requests} requests, {t.retries} retries) by "
        f"{args.clients} clients to 2 servers in {seconds:.1f} s; {t.killed} connections killed",
        "",
        "| | |",
        "|---|---|",
        *(f"| answered {k} | {v} |" for k, v in sorted(t.answers.items())),
        *(f"| refused {k} | {v} |" for k, v in sorted(t.refusals.items())),
        *(f"| retryable error {k} | {v} |" for k, v in sorted(t.retryable_errors.items())),
        *(f"| stored {k.replace('_stored', '')} | {v} |" for k, v in stored.items()),
        "",
    ]
    if not t.violations:
        lines.append("violations: 0 — pass")
    else:
        lines.append(f"violations: {sum(len(v) for v in t.violations.values())} — FAIL")
        for kind, examples in t.violations.items():
            lines.append(f"- {kind}: {len(examples)}, e.g. {examples[:3]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    p.add_argument("--database-url", required=True)
    p.add_argument("--recreate", action="store_true")
    p.add_argument("--events", type=int, default=5000, help="sends, about")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--kill-every", type=float, default=0.3, help="seconds between kills")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="200 sends (CI)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.smoke:
        args.events, args.kill_every = 200, 0.15
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
