"""`mes cfx consume` as a process: it consumes as its token, serves /metrics on
--metrics-port, and SIGTERM ends it with exit code 0 after settling what it took."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.amqp.broker import drain, envelope, free_port, publish
from tests.cli_calls import invoke, secret_of

pytestmark = pytest.mark.amqp


def test_consume_serves_metrics_and_stops_on_sigterm(
    amqp_url: str, queue: str, tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'cfx.db'}"
    created = invoke(
        "token", "create", "--name", "placer", "--scopes", "ingest",
        "--sources", "Vendor.Model.1", "--database-url", db,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    publish(queue, envelope(1), [envelope(2), envelope(3)], url=amqp_url)
    seen, port = tmp_path / "seen.txt", free_port()
    command = [
        sys.executable, "-m", "tests.amqp.recording_cli", "cfx", "consume",
        "--url", amqp_url, "--address", queue, "--database-url", db,
        "--metrics-port", str(port),
    ]  # fmt: skip
    env = {**os.environ, "MES_CFX_TOKEN": secret_of(created.output)}
    proc = subprocess.Popen(
        command,
        env={**env, "MES_TEST_SINK_FILE": str(seen)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 20
        while not (seen.exists() and len(seen.read_text().split()) == 3):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the envelopes did not arrive"
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        assert "mes_cfx_consumed_total 2.0" in text
        assert 'mes_cfx_accepted_total{status="ACCEPTED"} 3.0' in text
        assert "mes_cfx_lag_seconds_count 3.0" in text
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "consuming" in output and "as placer" in output and "stopped" in output
    assert "guest:guest" not in output  # the password is not printed
    assert [line[-1] for line in seen.read_text().split()] == ["1", "2", "3"]
    assert drain(queue, amqp_url) == []
