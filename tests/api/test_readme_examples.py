"""Every example of the README runs as written, against a real demo server.

The README's ```bash / ```sh / ```shell and ```graphql fences are examples to type. Each one
becomes a test (its id: the heading above it and its number under that heading), run in README
order against one server: a temporary SQLite database loaded by the real `mes demo`, then a
real `mes serve` subprocess on a free port.

- A shell block runs in `bash` with `set -euo pipefail`, the repository as its working
  directory, `MES_TOKEN` exported (the admin token `mes demo` printed) and `MES_DATABASE_URL`
  set to the temporary database. The README's `127.0.0.1:8000` (the port `make demo` serves on)
  is rewritten to the test server's port: port 8000 may be taken on the machine running the
  tests (by a `make demo` left running), and the rewrite is the only liberty taken with the
  text. The project's `.venv/bin` is taken off `PATH`, as in a newcomer's shell, so `mes …`
  where only `uv run mes …` works fails here too. The block must exit 0, and every JSON answer
  it prints must be free of errors: no top-level `errors`, and no mutation payload with an
  `error` (an ingest answers ACCEPTED or DUPLICATE, not a refusal).
- A GraphQL block is POSTed to the server with the token and must come back without `errors`.
  A `subscription` block runs over a WebSocket (`graphql-transport-ws`, the demo token in the
  `connection_init` payload): once the server holds it, the README's `ingestEvent` example
  (the AOI-01 event of "Sending machine events") is sent again over HTTP under a fresh
  dedupeKey, and one `next` without `errors` must arrive within a few seconds.
- A block that cannot run here (a long-running server, the whole suite, the 1M-unit bench, a
  `user@host` URL) is fenced ```bash no-run (or ```graphql no-run): it is shown as a skipped
  test with the reason, so `pytest -rs` lists what was not run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.live import PROTOCOL, wait_open_subscriptions
from tests.readme import ingest_example

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SHELLS = ("bash", "sh", "shell")
NO_RUN = "no-run"
README_PORT = "127.0.0.1:8000"
SHELL_TIMEOUT_S = 120
SUBSCRIPTION_WAIT_S = 5  # for the one event a subscription block must deliver

pytestmark = pytest.mark.readme


@dataclass(frozen=True)
class Block:
    heading: str
    index: int  # 1-based, among the runnable-language blocks under the heading
    lang: str
    no_run: bool
    line: int  # of the opening fence
    text: str

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{slug}-{self.index}"


def readme_blocks(markdown: str) -> list[Block]:
    """The README's shell and GraphQL fences in order, each with the heading above it (a line
    starting with `#` inside a fence is a comment, not a heading)."""
    blocks: list[Block] = []
    heading = "top"
    per_heading: dict[str, int] = {}
    fence: tuple[str, bool, int] | None = None
    body: list[str] = []
    indent = 0
    for number, line in enumerate(markdown.splitlines(), start=1):
        if fence is None:
            if line.lstrip().startswith("```"):  # a fence may be indented in a list item
                indent = len(line) - len(line.lstrip())
                info = line.strip()[3:].split()
                lang = info[0] if info else ""
                fence = (lang, NO_RUN in info[1:], number)
                body = []
            elif heading_match := re.match(r"#+\s+(.*)", line):
                heading = heading_match.group(1).strip()
        elif line.lstrip().startswith("```"):
            lang, no_run, start = fence
            fence = None
            if lang in SHELLS or lang == "graphql":
                per_heading[heading] = per_heading.get(heading, 0) + 1
                blocks.append(
                    Block(heading, per_heading[heading], lang, no_run, start, "\n".join(body))
                )
        else:
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
    assert fence is None, f"README.md: the fence opened on line {fence[2]} is never closed"
    return blocks


BLOCKS = readme_blocks(README.read_text())


def _param(block: Block) -> Any:
    if not block.no_run:
        return pytest.param(block, id=block.id)
    first = next((ln.strip() for ln in block.text.splitlines() if ln.strip()), "")
    reason = f"README line {block.line} ({block.heading}) is fenced `{NO_RUN}`: {first}"
    return pytest.param(block, id=block.id, marks=pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------- the demo server


def demo_token(output: str) -> str:
    """The admin token `mes demo` printed: `curl:     export MES_TOKEN=<secret>` (and the
    GraphiQL URL's `#token=<secret>`), or, from before that, `"Authorization": "Bearer …"`."""
    for pattern in (
        r"^curl:\s+export MES_TOKEN=(\S+)\s*$",
        r"^GraphiQL:\s+\S+#token=(\S+)\s*$",
        r'"Authorization": "Bearer ([^"\s<>]+)"',
    ):
        if found := re.search(pattern, output, flags=re.MULTILINE):
            return found.group(1)
    raise AssertionError(f"`mes demo` printed no token:\n{output}")


def test_demo_token_is_read_from_either_form() -> None:
    new = "GraphiQL: http://127.0.0.1:8000/graphql#token=mes_a-b_1\ncurl:     export MES_TOKEN=mes_a-b_1\n"
    old = 'paste\n  {"Authorization": "Bearer mes_x_Y"}\nor with curl: -H \'Authorization: Bearer <the token>\''
    assert demo_token(new) == "mes_a-b_1"
    assert demo_token(old) == "mes_x_Y"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DemoServer:
    base: str  # http://127.0.0.1:<port>
    port: int
    token: str
    env: dict[str, str]  # what a shell block runs with


def _newcomer_env(database_url: str, token: str, scratch: Path) -> dict[str, str]:
    """The environment of a newcomer's shell: no virtual environment active (`uv run pytest`
    puts `.venv/bin` first on PATH), plus what the README tells them to export. `uv` is on
    it: when `make setup` installed it where PATH does not look (`pip install --user`), the
    uv that runs these tests (`$UV`, set by `uv run`) is linked in alone."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    if shutil.which("uv", path=path) is None and (uv := os.environ.get("UV")):
        (scratch / "uv").symlink_to(uv)
        path = os.pathsep.join((path, str(scratch)))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=path, MES_TOKEN=token, MES_DATABASE_URL=database_url)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # as `make` runs it
    return env


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`mes demo` on a fresh SQLite database, then `mes serve` on a free port."""
    scratch = tmp_path_factory.mktemp("readme")
    database_url = f"sqlite+aiosqlite:///{scratch / 'demo.db'}"
    mes = str(Path(sys.executable).parent / "mes")
    env = {**os.environ, "MES_DATABASE_URL": database_url}
    demo = subprocess.run(
        [mes, "demo", "--database-url", database_url],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    token = demo_token(demo.stdout)
    port = _free_port()
    server = subprocess.Popen(
        [mes, "serve", "--port", str(port), "--no-migrate"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    up = threading.Event()

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if "Uvicorn running on" in line:  # listening (startup is logged before the bind)
                up.set()
        up.set()  # the server ended: the wait below looks at why

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert up.wait(timeout=90), "mes serve did not start in 90 s:\n" + "".join(lines)
        assert server.poll() is None, "mes serve ended:\n" + "".join(lines)
        yield DemoServer(
            f"http://127.0.0.1:{port}", port, token, _newcomer_env(database_url, token, scratch)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=30)


# ---------------------------------------------------------------- judging an answer


def answer_errors(answer: Any) -> list[str]:
    """What is wrong in a GraphQL answer: top-level `errors`, or a mutation payload (a field
    of `data`, or an item of a list there) carrying an `error`."""
    if not isinstance(answer, dict):
        return [f"not a GraphQL answer: {answer!r}"[:500]]
    problems = [json.dumps(e)[:500] for e in answer.get("errors") or ()]
    for field, value in (answer.get("data") or {}).items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and item.get("error"):
                problems.append(f"{field}: {json.dumps(item)[:500]}")
    return problems


def json_documents(stdout: str) -> list[Any]:
    """The JSON documents a shell block printed (one after another, each curl's answer)."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    at = 0
    while (start := stdout.find("{", at)) != -1:
        try:
            doc, at = decoder.raw_decode(stdout, start)
        except json.JSONDecodeError:
            at = start + 1
            continue
        docs.append(doc)
    return docs


def test_answer_errors_finds_refusals_and_request_errors() -> None:
    assert answer_errors({"data": {"ingestEvent": {"status": "ACCEPTED", "error": None}}}) == []
    rejections = {"ingestRejections": {"edges": [{"node": {"error": {"code": "X"}}}]}}
    assert answer_errors({"data": rejections}) == []  # a listing of rejections is no error
    refused = {"data": {"ingestEvent": {"status": "REJECTED", "error": {"code": "X"}}}}
    assert answer_errors(refused)
    batch = {"data": {"ingestEvents": [{"error": None}, {"error": {"code": "X"}}]}}
    assert answer_errors(batch)
    assert answer_errors({"errors": [{"message": "no token"}]})
    assert json_documents('token x\n{"a": 1}{"b": [2]}\n') == [{"a": 1}, {"b": [2]}]


# ---------------------------------------------------------------- the examples


def test_the_readme_has_examples_that_run() -> None:
    runnable = [b for b in BLOCKS if not b.no_run]
    assert any(b.lang == "graphql" for b in runnable)
    assert any(b.lang in SHELLS and "ingestEvent" in b.text for b in runnable)


def test_no_example_types_mes_without_uv_run() -> None:
    """`mes` is installed in the project's .venv only: a command to type says `uv run mes`."""
    bare = [
        f"README line {b.line}: {line.strip()}"
        for b in BLOCKS
        if b.lang in SHELLS
        for line in b.text.splitlines()
        if re.match(r"\s*(\S+=\S+\s+)*mes\s", line)
    ]
    assert bare == []


def run_shell(block: Block, server: DemoServer) -> None:
    script = block.text.replace(README_PORT, f"127.0.0.1:{server.port}")
    # a session of its own: a block that overruns is ended with everything it started
    # (a server, a make), not only its bash
    shell = subprocess.Popen(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=REPO,
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = shell.communicate(timeout=SHELL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)
        stdout, stderr = shell.communicate()
        pytest.fail(
            f"README line {block.line} ran past {SHELL_TIMEOUT_S} s (fence it `{NO_RUN}` if it "
            f"cannot finish here):\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        )
    said = f"README line {block.line}:\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    assert shell.returncode == 0, said
    docs = json_documents(stdout)
    if "curl" in script:
        assert docs, f"no JSON answer: {said}"
    for doc in docs:
        assert answer_errors(doc) == [], said


def run_graphql(block: Block, server: DemoServer) -> None:
    answer = httpx.post(
        f"{server.base}/graphql",
        json={"query": block.text},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    said = f"README line {block.line}: HTTP {answer.status_code}\n{answer.text[:2000]}"
    assert answer.status_code == 200, said
    assert answer_errors(answer.json()) == [], said
    assert answer.json().get("data"), said


def is_subscription(block: Block) -> bool:
    """A GraphQL block whose one operation is a `subscription`."""
    operations = [
        d for d in parse(block.text).definitions if isinstance(d, OperationDefinitionNode)
    ]
    kinds = {op.operation for op in operations}
    if OperationType.SUBSCRIPTION not in kinds:
        return False
    assert len(operations) == 1, f"README line {block.line}: one subscription per block"
    return True


def test_subscription_blocks_are_told_apart() -> None:
    def block(text: str) -> Block:
        return Block("h", 1, "graphql", False, 1, text)

    assert is_subscription(block("subscription { ingestEvents { status } }"))
    assert not is_subscription(block('{ unit(sn: "X") { sn } }'))
    assert any(is_subscription(b) for b in BLOCKS if b.lang == "graphql" and not b.no_run)


def _next_message(ws: ClientConnection, op: str, seconds: float) -> dict[str, Any]:
    """The next message of operation `op`, answering the server's pings meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message: dict[str, Any] = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if message.get("type") == "ping":
            ws.send(json.dumps({"type": "pong"}))
        elif message.get("id") == op:
            return message
    raise AssertionError(f"no message for the subscription in {seconds} s")


def run_subscription(block: Block, server: DemoServer) -> None:
    said = f"README line {block.line}:\n{block.text}"
    with connect(
        f"ws://127.0.0.1:{server.port}/graphql",
        subprotocols=[Subprotocol(PROTOCOL)],
        open_timeout=10,
        close_timeout=5,
    ) as ws:
        init = {"Authorization": f"Bearer {server.token}"}
        ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}, said
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": block.text}}))
        wait_open_subscriptions(server.base, 1)  # the subscribe has no answer of its own
        key = f"AOI-01/readme/{uuid.uuid4().hex[:12]}"
        sent = httpx.post(
            f"{server.base}/graphql",
            json=ingest_example(key),
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=60,
        )
        assert sent.status_code == 200 and not sent.json().get("errors"), sent.text
        message = _next_message(ws, "1", SUBSCRIPTION_WAIT_S)
        said += f"\n--- after an ingest answered {sent.text[:1000]}\n--- got {message}"
        assert message["type"] == "next", said
        assert not message["payload"].get("errors") and message["payload"].get("data"), said
        ws.send(json.dumps({"id": "1", "type": "complete"}))
    wait_open_subscriptions(server.base, 0)  # gone before the next block runs


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_example_runs(block: Block, demo_server: DemoServer) -> None:
    if block.lang == "graphql" and is_subscription(block):
        run_subscription(block, demo_server)
    elif block.lang == "graphql":
        run_graphql(block, demo_server)
    else:
        run_shell(block, demo_server)
