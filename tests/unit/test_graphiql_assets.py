"""The GraphiQL page loads nothing from elsewhere, and every vendored file is the one its
integrity attribute names (what scripts/vendor_graphiql.py --check does)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from graphql_api.graphiql import PAGE, Asset, assets, loaded_urls, page_response, sha384_integrity

HTML = PAGE.read_text(encoding="utf-8")


def test_the_page_loads_only_vendored_files_each_with_its_integrity() -> None:
    urls = loaded_urls(HTML)
    files = assets(HTML)
    assert len(files) >= 6  # react, react-dom, graphiql js + css, the explorer js + css
    for url, integrity in urls:
        if url.startswith("data:"):
            continue  # the empty favicon
        assert not urlsplit(url).scheme and not url.startswith("/"), url
        assert url.startswith("static/graphiql/"), url
        assert integrity is not None and integrity.startswith("sha384-"), url
    # every <script src>/<link> loading a file is a vendored asset
    assert len(files) == sum(1 for url, _ in urls if not url.startswith("data:"))


@pytest.mark.parametrize("asset", assets(HTML), ids=lambda a: f"{a.package}@{a.version}/{a.path}")
def test_each_vendored_file_matches_the_pages_integrity(asset: Asset) -> None:
    assert asset.file.is_file(), f"{asset.file} is missing: run scripts/vendor_graphiql.py"
    assert sha384_integrity(asset.file.read_bytes()) == asset.integrity, (
        f"{asset.file} is not the file the page pins: run scripts/vendor_graphiql.py"
    )


def test_the_csp_allows_the_inline_script_and_nothing_from_elsewhere() -> None:
    csp = page_response().headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'sha256-")
    assert "unsafe-eval" not in csp and "http" not in csp
