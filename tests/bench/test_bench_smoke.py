"""The benchmark's smoke mode on a fresh PostgreSQL database: it must keep working (every
event accepted, a trace of 12 tracks and 2,040 values, the same SQL statement count for a
deep and a shallow unit). Correctness only: no timing is asserted."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import run_module


def test_the_bench_smoke_runs_and_its_figures_are_consistent(pg_url: str, tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = run_module(pg_url, "bench", "bench", "--json-out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert len(result["ingest"]) == 10
    for name, x in result["ingest"].items():
        assert x["service"]["events"] == x["floor"]["events"] == 10, name
        per_event = 1 if name.startswith("AUTO") else 100
        assert x["service"]["values"] == 10 * per_event, name
    single, batch = result["ingest"]["AUTO single c1"], result["ingest"]["AUTO batch5 c1"]
    # a batch is one request: its latency covers five events, a single event's one
    assert single["service"]["requests"] == 10 and batch["service"]["requests"] == 2
    t = result["trace"]
    assert (t["deep_http"]["tracks"], t["deep_http"]["values"]) == (12, 2040)
    assert (t["shallow_http"]["tracks"], t["shallow_http"]["values"]) == (1, 1)
    assert t["deep_memory"]["bytes"] > 0 and t["deep_memory"]["values"] == 2040
    assert t["deep_http"]["statements"] == t["shallow_http"]["statements"] > 0
    assert result["server_peak_rss_mb"] > 0
    assert "| AUTO single c1 |" in done.stdout
