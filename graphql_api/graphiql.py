"""The GraphiQL page, whole from the service itself (a plant's network has no CDN).

The page is ours (static/graphiql.html): it asks for the API token (or reads it from the URL
fragment `#token=…`), then mounts GraphiQL with a fetcher that sends it. The npm files it loads
(React, GraphiQL, its explorer plugin: the versions and sha384 integrity strawberry's own page
pins) are committed under static/graphiql/<package>@<version>/<path>, the layout of the npm
tarballs, and served at /static/graphiql/… with a year-long immutable cache (a new version is a
new path). `scripts/vendor_graphiql.py` fetches them again from the npm registry and checks
them against the page's integrity attributes; a test does the same check on the committed files.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "graphiql.html"
ASSETS = STATIC / "graphiql"
ASSETS_URL_PATH = "/static/graphiql"  # the page names them relative to /graphql
_ASSET_PREFIX = "static/graphiql/"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One vendored npm file the page loads, as its tag names it."""

    package: str  # "react", "@graphiql/plugin-explorer"
    version: str
    path: str  # inside the package: "umd/react.production.min.js"
    integrity: str  # "sha384-…", as in the tag

    @property
    def file(self) -> Path:
        return ASSETS / f"{self.package}@{self.version}" / self.path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        self._in_inline_script = tag == "script" and "src" not in found

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def loaded_urls(html: str) -> list[tuple[str, str | None]]:
    """Every URL a <script src> or <link href> of the page loads, with its integrity."""
    found = []
    for tag, attrs in _parse(html).tags:
        url = attrs.get("src") if tag == "script" else attrs.get("href") if tag == "link" else None
        if url is not None:
            found.append((url, attrs.get("integrity")))
    return found


def assets(html: str) -> list[Asset]:
    """The vendored files the page loads (`static/graphiql/<package>@<version>/<path>`)."""
    found = []
    for url, integrity in loaded_urls(html):
        if not url.startswith(_ASSET_PREFIX):
            continue
        spec, _, path = url.removeprefix(_ASSET_PREFIX).partition("/")
        scope = ""
        if spec.startswith("@"):  # a scoped package: @scope/name@version/path
            name, _, path = path.partition("/")
            scope, spec = spec + "/", name
        package, _, version = spec.partition("@")
        if not (package and version and path and integrity):
            raise ValueError(f"{url}: want static/graphiql/<package>@<version>/<path> + integrity")
        found.append(Asset(scope + package, version, path, integrity))
    return found


def sha384_integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _csp(html: str) -> str:
    """Scripts only from the service and the page's own inline script (by its hash); requests
    only to the service (GraphQL over HTTP and WebSocket). Styles may be inline: GraphiQL sets
    style attributes."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _parse(html).inline_scripts
        if s.strip()
    )
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@cache
def _page() -> tuple[bytes, str]:
    html = PAGE.read_text(encoding="utf-8")
    return html.encode(), _csp(html)


def page_response() -> HTMLResponse:
    """The page: never cached (the next release may change it), no referrer sent, and a
    Content-Security-Policy that lets it load nothing from elsewhere."""
    body, csp = _page()
    return HTMLResponse(
        body,
        headers={
            "content-security-policy": csp,
            "cache-control": "no-cache",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
        },
    )


class AssetFiles:
    """The vendored files, open to anyone (they are public), cached for a year: each path
    carries its package's version."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=ASSETS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                headers["cache-control"] = IMMUTABLE
                headers["x-content-type-options"] = "nosniff"
            await send(message)

        await self.files(scope, receive, send_cached)
