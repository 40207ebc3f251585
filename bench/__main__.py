"""`python -m bench --database-url postgresql+asyncpg://… [--recreate] [--units N]`

One run, every figure beside its reference: ingest over HTTP against the raw asyncpg floor
(AUTO with 1 value and TEST with 100, single events at concurrency 1/4/8 and batches of 50),
the deep unit trace over HTTP against PostGraphile v4 serving the same database
(bench/postgraphile.py), the same query executed from memory and one json_agg statement
(bench/versus.py), the same for a large page of 500 units with their tracks (bench/page.py),
SQL statements per request, the server's peak memory. Prints a markdown
table, writes JSON. `--smoke` runs tiny sizes (the test suite does, for correctness only);
`--compare OLD.json` adds the ratio of each figure to an earlier run (e.g. 1M units against 10k)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import factory, ingest, page, postgraphile, trace, versus
from bench.server import Server, make_token

#: turns the service and the floor take per scenario (bench/__main__.py _rounds)
ROUNDS = 4
SCENARIOS = [
    # name, kind, concurrency, batch
    ("AUTO single c1", "AUTO", 1, 1),
    ("AUTO single c4", "AUTO", 4, 1),
    ("AUTO single c8", "AUTO", 8, 1),
    ("AUTO batch50 c1", "AUTO", 1, 50),
    ("AUTO batch50 c4", "AUTO", 4, 50),
    ("TEST single c1", "TEST", 1, 1),
    ("TEST single c4", "TEST", 4, 1),
    ("TEST single c8", "TEST", 8, 1),
    ("TEST batch50 c1", "TEST", 1, 50),
    ("TEST batch50 c4", "TEST", 4, 50),
]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--database-url", required=True, help="postgresql+asyncpg://… (PostgreSQL)")
    p.add_argument("--recreate", action="store_true", help="drop, create and migrate it first")
    p.add_argument("--units", type=int, default=10_000)
    p.add_argument("--auto-events", type=int, default=400, help="AUTO events per scenario")
    p.add_argument("--test-events", type=int, default=200, help="TEST events per scenario")
    p.add_argument("--workers", type=int, default=1, help="server processes (mes serve)")
    p.add_argument("--trace-repeat", type=int, default=80, help="interleaved trace rounds, c1")
    p.add_argument(
        "--turn-seconds", type=float, default=15, help="each server's throughput turn (2 each)"
    )
    p.add_argument(
        "--no-postgraphile", action="store_true", help="leave PostGraphile out (no Node.js)"
    )
    p.add_argument("--json-out", type=Path, default=Path("bench/results/latest.json"))
    p.add_argument("--compare", type=Path, help="an earlier run's JSON: print the ratios")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (CI)")
    args = p.parse_args(argv)
    if args.smoke:
        args.units, args.auto_events, args.test_events, args.trace_repeat = 200, 10, 10, 3
    return args


def postgraphile_cli(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """PostGraphile's CLI installed (cached), or why it is left out; under CI=true a missing
    Node.js is an error."""
    if args.no_postgraphile:
        return None, "--no-postgraphile"
    missing = postgraphile.node_missing()
    if missing and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise SystemExit(f"PostGraphile cannot run under CI=true: {missing}")
    if missing:
        print(f"PostGraphile left out: {missing}", file=sys.stderr)
        return None, missing
    return postgraphile.install(), None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    batch = 5 if args.smoke else 50
    cli, left_out = postgraphile_cli(args)
    scenarios = [
        (n.replace("50", str(batch)), k, c, batch if b > 1 else 1) for n, k, c, b in SCENARIOS
    ]
    if args.recreate:
        await factory.recreate(args.database_url)
    n_auto = 3 + sum(2 * args.auto_events for _, k, _, _ in scenarios if k == "AUTO")
    n_test = 3 + sum(2 * args.test_events for _, k, _, _ in scenarios if k == "TEST")
    f = await factory.load(args.database_url, max(args.units, n_auto + n_test), n_auto, n_test)
    print(f"loaded {f.units} units, {f.values} history values (tag {f.tag})", file=sys.stderr)
    token = make_token(args.database_url, f"bench-{f.tag}")
    auto_sns, test_sns = iter(f.auto_sns), iter(f.test_sns)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "units": f.units,
        "history_values": f.values,
        "workers": args.workers,
        "ingest": {},
    }
    async with Server(args.database_url, workers=args.workers) as server:
        # warm-up, not measured: the server's first requests import, prepare and cache
        for kind, sns in (("AUTO", auto_sns), ("TEST", test_sns)):
            warm = [ingest.event(f, kind, next(sns)) for _ in range(3)]
            await ingest.http_scenario(server.base, token, f"warm-up {kind}", warm, 1)
        for name, kind, conc, size in scenarios:
            count = args.auto_events if kind == "AUTO" else args.test_events
            sns = auto_sns if kind == "AUTO" else test_sns
            service_items = [ingest.event(f, kind, next(sns)) for _ in range(count)]
            floor_items = [ingest.event(f, kind, next(sns)) for _ in range(count)]
            s, fl = await _rounds(server, f, token, name, service_items, floor_items, conc, size)
            result["ingest"][name] = {
                "service": s.as_dict(),
                "floor": fl.as_dict(),
                "ratio": round(s.events_per_s / fl.events_per_s, 3),
            }
            print(
                f"{name}: {s.events_per_s:.0f} ev/s vs floor {fl.events_per_s:.0f}", file=sys.stderr
            )
        await trace.build_deep_unit(f, server.base, token)
        shallow_sn = f.auto_sns[0]  # the first warm-up event's: 1 track, 1 value
        reads = [versus.deep_trace(f), page.large_page(f)]
        read = await versus.measure(args, server, token, reads, cli)
        shallow = await trace.http_trace(
            server.base, token, "shallow", shallow_sn, args.trace_repeat
        )
        peak_rss = server.peak_rss
    async with Server(args.database_url, count_sql=True) as counting:
        for scenario in reads:
            read[scenario.name][f"{scenario.name}_http"][
                "statements"
            ] = await trace.trace_statements(
                counting.base, token, scenario.variables, scenario.query
            )
        shallow.statements = await trace.trace_statements(counting.base, token, {"sn": shallow_sn})
    result["trace"] = {**read["deep"], "shallow_http": shallow.as_dict()}
    result["page"] = read["page"]
    for section in ("trace", "page"):
        if left_out:
            result[section]["postgraphile_left_out"] = left_out
    result["server_peak_rss_mb"] = round(peak_rss / 2**20, 1)
    return result


def turns(items: int, size: int, conc: int) -> list[slice]:
    """The items of each turn: up to ROUNDS turns of whole batches, each with at least two
    requests per client."""
    requests = -(-items // size)
    rounds = max(1, min(ROUNDS, requests // (2 * conc)))
    per = -(-requests // rounds) * size
    return [slice(i * per, min(items, (i + 1) * per)) for i in range(rounds)]


async def _rounds(
    server: Server,
    f: factory.Factory,
    token: str,
    name: str,
    service_items: list[Any],
    floor_items: list[Any],
    conc: int,
    size: int,
) -> tuple[ingest.Stats, ingest.Stats]:
    """Service and floor take turns, in up to ROUNDS rounds of whole batches (each round
    keeps every client busy twice over), the one that starts alternating: the CPU these
    shared machines lend drifts within seconds, and both sides should see the same drift."""
    service: ingest.Stats | None = None
    floor: ingest.Stats | None = None
    for i, part in enumerate(turns(len(service_items), size, conc)):
        for side in ("service", "floor") if i % 2 == 0 else ("floor", "service"):
            if side == "service":
                cpu = server.cpu_seconds()
                s = await ingest.http_scenario(
                    server.base, token, name, service_items[part], conc, size
                )
                s.server_cpu = server.cpu_seconds() - cpu
                service = s if service is None else service + s
            else:
                fl = await ingest.floor_scenario(f, name, floor_items[part], conc, size)
                floor = fl if floor is None else floor + fl
    assert service is not None and floor is not None
    return service, floor


def table(r: dict[str, Any], old: dict[str, Any] | None = None) -> str:
    lines = [
        f"{r['units']:,} units, {r['history_values']:,} history values, "
        f"{r['workers']} server process(es), {r['machine']['cpus']} CPUs, {r['when']}",
        "",
        "| ingest | service ev/s | floor ev/s | service/floor | service values/s "
        "| service p50 / p99 ms | floor p50 / p99 ms | server CPU ms/event |"
        + (" vs earlier run |" if old else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if old else ""),
    ]
    for name, x in r["ingest"].items():
        s, fl = x["service"], x["floor"]
        row = (
            f"| {name} | {s['events_per_s']:.0f} | {fl['events_per_s']:.0f} | "
            f"**{x['ratio']:.2f}** | {s['values_per_s']:.0f} | "
            f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} | {fl['p50_ms']:.1f} / {fl['p99_ms']:.1f} | "
            f"{s.get('server_cpu_ms_per_event', '–')} |"
        )
        if old and name in old.get("ingest", {}):
            row += f" {s['events_per_s'] / old['ingest'][name]['service']['events_per_s']:.2f}× |"
        elif old:
            row += " – |"
        lines.append(row)
    t, pg = r["trace"], r["page"]
    lines += reads_table(t, "deep", "trace", ("tracks", "values"))
    lines.append(f"| shallow, HTTP | {cells(t['shallow_http'], ('tracks', 'values'))} |")
    lines += versus.lines(t)
    lines += reads_table(pg, "page", "large page", ("units", "tracks"))
    lines += versus.lines(pg, "page", "large page")
    lines += [
        f"- server peak RSS: {r['server_peak_rss_mb']} MB",
    ]
    if old:
        ot = old["trace"]
        lines.append(
            f"- against the earlier run ({old['units']:,} units): deep trace p50 "
            f"{t['deep_http']['p50_ms'] / ot['deep_http']['p50_ms']:.2f}×, shallow "
            f"{t['shallow_http']['p50_ms'] / ot['shallow_http']['p50_ms']:.2f}×, RSS "
            f"{r['server_peak_rss_mb'] / old['server_peak_rss_mb']:.2f}×"
        )
    return "\n".join(lines)


def cells(x: dict[str, Any], counts: tuple[str, str]) -> str:
    """A side's figures, as the cells of a row of reads_table."""
    a, b = counts
    return (
        f"{x['p50_ms']:.1f} | {x['p99_ms']:.1f} | {x.get('statements') or '–'} | "
        f"{x['bytes']:,} | {x.get(a, '–')} | {x.get(b, '–')}"
    )


def reads_table(t: dict[str, Any], name: str, title: str, counts: tuple[str, str]) -> list[str]:
    """A read scenario's sides (bench/versus.py), a row each; PostGraphile's when it ran."""
    sides = [
        ("HTTP", t[f"{name}_http"]),
        ("PostGraphile (reference)", t.get("postgraphile", {}).get(f"{name}_http")),
        ("in memory (reference)", t[f"{name}_memory"]),
        ("one json_agg statement (floor)", t[f"{name}_json_agg"]),
    ]
    return [
        "",
        f"| {title} | p50 ms | p99 ms | SQL statements | bytes | {counts[0]} | {counts[1]} |",
        "|---|---|---|---|---|---|---|",
        *(f"| {name}, {label} | {cells(x, counts)} |" for label, x in sides if x is not None),
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    result = asyncio.run(run(args))
    old = json.loads(args.compare.read_text()) if args.compare else None
    print(table(result, old))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
