"""GraphiQL in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright)
against a real `mes serve` with the demo factory loaded, every non-loopback host unreachable
(a host resolver rule in Chromium, and a route that aborts and records any request elsewhere:
the tests assert there was none). The page must load whole from the service, fetch the schema
with the token from `#token=…` or its form, run the README's first query, and keep the token
out of the browser's storage unless asked, and run a subscription over the WebSocket — the
README's CFX one too, showing a machine's envelope posted to `/cfx` as it arrives."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

from graphql_api.cli import main
from tests.conftest import IN_CI
from tests.live import wait_open_subscriptions
from tests.readme import README, cfx_subscription, cfx_token_command, ingest_example

pytestmark = pytest.mark.browser

CFX_FIXTURES = Path(__file__).parents[1] / "fixtures" / "cfx"

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
WAIT_MS = 15_000
expect.set_options(timeout=WAIT_MS)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = (
            "the browser test needs Debian's chromium: `make test` installs it when run as "
            "root (apt-get install chromium)"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _cli(*args: str) -> str:
    # the CLI runs its own event loop: keep it off pytest-asyncio's thread
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, main, list(args)).result()
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class Server:
    base: str
    secret: str


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A SQLite database with the demo factory and an admin token: its URL and the secret."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser') / 'mes.db'}"
    _cli("demo", "--database-url", url)
    made = _cli("token", "create", "--name", "browser", "--scopes", "admin", "--database-url", url)
    return url, made.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(database: tuple[str, str]) -> Iterator[Server]:
    with _serve(database[0]) as base:
        yield Server(base, database[1])


@pytest.fixture(scope="module")
def open_server(database: tuple[str, str]) -> Iterator[str]:
    """The same database served with `--no-auth`."""
    with _serve(database[0], "--no-auth") as base:
        yield base


@contextmanager
def _serve(url: str, *options: str) -> Iterator[str]:
    """`mes serve` on a free port; its base URL once it has started."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mes = str(Path(sys.executable).parent / "mes")
    process = subprocess.Popen(
        [mes, "serve", "--port", str(port), "--no-migrate", *options],
        env={**os.environ, "MES_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append(raw.decode(errors="replace"))
            if "Uvicorn running on" in lines[-1]:  # listening (startup is logged before)
                started.set()
        started.set()  # the process ended: let the test see why

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        started.wait(timeout=30)
        assert process.poll() is None and started.is_set(), "".join(lines)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def chromium() -> str:
    """First of all: is there a browser to drive?"""
    return _chromium()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    executable = chromium
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Offline:
    """A fresh browser context where only loopback answers; what else was asked for."""

    context: BrowserContext
    page: Page
    elsewhere: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    offline = Offline(context, page)

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            offline.elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    # a route does not see WebSockets: each one the page opens is recorded here
    page.on("websocket", lambda ws: offline.websockets.append(ws.url))
    page.on("pageerror", lambda err: offline.problems.append(f"page error: {err}"))
    page.on(
        "console",
        lambda msg: (
            offline.problems.append(f"console: {msg.text}")
            if msg.type == "error" and "401" not in msg.text
            else None
        ),
    )
    try:
        yield offline
    finally:
        context.close()
    elsewhere = offline.elsewhere + [
        url for url in offline.websockets if urlsplit(url).hostname not in LOOPBACK
    ]
    assert elsewhere == [], f"the page asked for other hosts: {elsewhere}"
    assert offline.problems == []


def readme_query() -> str:
    """The README's first GraphQL example (the trace of BRD200-000001)."""
    for block in re.findall(r"```graphql[^\n]*\n(.*?)```", README.read_text(), re.S):
        if 'unit(sn: "BRD200-000001")' in block:
            return str(block)
    raise AssertionError("the README has no GraphQL example for BRD200-000001")


def schema_loaded(page: Page) -> None:
    """Open the docs: the schema's Query root type shows (no "Error fetching schema")."""
    page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    expect(docs.locator("a.graphiql-doc-explorer-type-name", has_text="Query")).to_be_visible()
    expect(page.get_by_text("Error fetching schema")).to_have_count(0)


def stored(page: Page) -> str:
    """Everything the page could have kept: both storages and the cookies."""
    return str(
        page.evaluate(
            "() => JSON.stringify([Object.entries(localStorage),"
            " Object.entries(sessionStorage), document.cookie])"
        )
    )


def test_token_from_the_fragment_loads_the_schema_and_runs_the_readme_query(
    server: Server, offline: Offline
) -> None:
    page = offline.page
    page.goto(f"{server.base}/graphql?query={quote(readme_query())}#token={server.secret}")
    schema_loaded(page)
    assert "token=" not in page.url and server.secret not in page.url  # out of the address bar
    page.locator(".graphiql-execute-button").click()
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text('"sn": "BRD200-000001"')
    expect(response).to_contain_text('"stepNo"')
    assert '"errors"' not in response.inner_text()
    assert server.secret not in stored(page)


def test_without_a_fragment_the_form_asks_and_a_wrong_token_says_so(
    server: Server, offline: Offline
) -> None:
    page = offline.page
    page.goto(f"{server.base}/graphql")
    form = page.locator("#mes-token-form")
    expect(form).to_be_visible()
    expect(page.locator(".graphiql-container")).to_have_count(0)  # nothing fetched without one
    page.locator("#mes-token").fill("mes_not-a-real-token")
    page.get_by_role("button", name="Open GraphiQL").click()
    expect(page.locator("#mes-token-error")).to_contain_text("refused this token (HTTP 401)")
    expect(form).to_be_visible()
    page.locator("#mes-token").fill(server.secret)
    page.get_by_role("button", name="Open GraphiQL").click()
    schema_loaded(page)
    expect(page.locator("#mes-token-state")).to_contain_text("not stored")
    assert server.secret not in stored(page)


def test_the_demo_link_pasted_into_a_tab_showing_the_form_opens_graphiql(
    server: Server, offline: Offline
) -> None:
    page = offline.page
    page.goto(f"{server.base}/graphql")
    expect(page.locator("#mes-token-form")).to_be_visible()
    page.goto(f"{server.base}/graphql#token={server.secret}")  # only the fragment changes
    schema_loaded(page)
    assert server.secret not in page.url and server.secret not in stored(page)


def test_remember_on_this_browser_keeps_the_token_until_forget(
    server: Server, offline: Offline
) -> None:
    page = offline.page
    page.goto(f"{server.base}/graphql")
    page.locator("#mes-token").fill(server.secret)
    page.locator("#mes-remember").check()
    page.get_by_role("button", name="Open GraphiQL").click()
    expect(page.locator("#mes-token-state")).to_contain_text("remembered")
    assert server.secret in stored(page)
    page.reload()
    schema_loaded(page)  # straight in, no form
    page.get_by_role("button", name="Forget token").click()
    expect(page.locator("#mes-token-form")).to_be_visible()
    assert server.secret not in stored(page)


def test_a_server_without_authentication_needs_no_token(open_server: str, offline: Offline) -> None:
    page = offline.page
    page.goto(f"{open_server}/graphql")
    schema_loaded(page)
    expect(page.locator("#mes-token-state")).to_contain_text("--no-auth")
    expect(page.locator("#mes-token-form")).to_be_hidden()


def test_a_token_revoked_while_the_page_is_open_brings_the_form_back(
    database: tuple[str, str], server: Server, offline: Offline
) -> None:
    url = database[0]
    made = _cli(
        "token", "create", "--name", "revoked-soon", "--scopes", "read", "--database-url", url
    )
    secret = made.strip().splitlines()[-1]
    page = offline.page
    page.goto(f"{server.base}/graphql#token={secret}")
    schema_loaded(page)
    _cli("token", "revoke", "revoked-soon", "--database-url", url)
    page.locator(".graphiql-execute-button").click()
    expect(page.locator("#mes-token-form")).to_be_visible()
    expect(page.locator("#mes-token-error")).to_contain_text("refused this token (HTTP 401)")


SUBSCRIPTION = (
    'subscription { ingestEvents(filter: {sourceSystem: "AOI-01"}) { status event { dedupeKey } } }'
)


def test_a_subscription_runs_over_the_websocket_and_shows_an_ingest(
    server: Server, offline: Offline
) -> None:
    page = offline.page
    page.goto(f"{server.base}/graphql?query={quote(SUBSCRIPTION)}#token={server.secret}")
    schema_loaded(page)
    page.locator(".graphiql-execute-button").click()
    wait_open_subscriptions(server.base, 1)
    key = f"AOI-01/browser/{uuid.uuid4().hex[:12]}"
    answer = httpx.post(
        f"{server.base}/graphql",
        json=ingest_example(key),
        headers={"Authorization": f"Bearer {server.secret}"},
        timeout=30,
    )
    assert answer.json()["data"]["ingestEvent"]["status"] == "ACCEPTED", answer.text
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text(f'"dedupeKey": "{key}"')
    expect(response).to_contain_text('"status": "ACCEPTED"')
    assert '"errors"' not in response.inner_text()
    assert offline.websockets == [f"{server.base.replace('http', 'ws', 1)}/graphql"]
    page.locator(".graphiql-execute-button").click()  # ▶ again stops it
    wait_open_subscriptions(server.base, 0)


def test_the_readme_cfx_subscription_shows_an_envelope_as_it_arrives(
    database: tuple[str, str], server: Server, offline: Offline
) -> None:
    """The CFX section's walk-through: the placer's token as the README makes it, its
    subscription in GraphiQL, the published UnitsArrived posted to /cfx (under a UniqueID of
    its own): the page shows it ACCEPTED, an INFO event on the carrier's boards."""
    made = _cli(*cfx_token_command(), "--database-url", database[0])
    placer = made.strip().splitlines()[-1]
    page = offline.page
    query = quote(cfx_subscription())
    page.goto(f"{server.base}/graphql?query={query}#token={server.secret}")
    schema_loaded(page)
    page.locator(".graphiql-execute-button").click()
    wait_open_subscriptions(server.base, 1)
    envelope = json.loads((CFX_FIXTURES / "CFX.Production.UnitsArrived.json").read_text())
    envelope["UniqueID"] = str(uuid.uuid4())
    answer = httpx.post(
        f"{server.base}/cfx",
        json=envelope,
        headers={"Authorization": f"Bearer {placer}"},
        timeout=30,
    )
    [result] = answer.json()["results"]
    assert (result["status"], result["error"]) == ("ACCEPTED", None), answer.text
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text(f'"id": "{result["eventId"]}"')
    expect(response).to_contain_text('"eventType": "INFO"')
    expect(response).to_contain_text('"status": "ACCEPTED"')
    assert '"errors"' not in response.inner_text()
    page.locator(".graphiql-execute-button").click()  # ▶ again stops it
    wait_open_subscriptions(server.base, 0)
