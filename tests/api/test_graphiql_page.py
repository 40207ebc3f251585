"""The GraphiQL page and its files through the whole app (RequestId → CORS → Auth → BodyLimit),
at the root and mounted under a prefix. The page in a real browser: tests/browser."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from graphql_api.bootstrap import Services
from graphql_api.graphiql import IMMUTABLE, assets
from tests.conftest import make_token

HTML = {"accept": "text/html"}


async def _check_page_and_files(client: httpx.AsyncClient, page_url: str) -> None:
    page = await client.get(page_url, headers=HTML)
    assert page.status_code == 200
    assert 'id="mes-token-form"' in page.text
    assert "://" not in page.text  # nothing from elsewhere
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for asset in assets(page.text):
        url = urljoin(str(page.url), f"static/graphiql/{asset.package}@{asset.version}/")
        served = await client.get(urljoin(url, asset.path))  # no token: public files
        assert served.status_code == 200, served.url
        assert served.content == asset.file.read_bytes()
        assert served.headers["cache-control"] == IMMUTABLE
        assert "x-request-id" in served.headers  # behind the same middlewares


async def test_the_page_and_its_files_are_served_without_a_token(services: Services) -> None:
    transport = httpx.ASGITransport(app=services.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
        await _check_page_and_files(client, "/graphql")
        missing = await client.get("/static/graphiql/react@18.2.0/nope.js")
        assert missing.status_code == 404


async def test_mounted_under_a_prefix_the_page_files_and_tokens_still_work(
    services: Services,
) -> None:
    outer = Starlette(routes=[Mount("/mes", app=services.app())])
    transport = httpx.ASGITransport(app=outer)
    secret = await make_token(services, "read")
    query = {"query": "{ __typename }"}
    async with httpx.AsyncClient(transport=transport, base_url="http://plant.test") as client:
        await _check_page_and_files(client, "/mes/graphql")
        refused = await client.post("/mes/graphql", json=query)
        assert refused.status_code == 401
        ok = await client.post(
            "/mes/graphql", json=query, headers={"Authorization": f"Bearer {secret}"}
        )
        assert ok.json() == {"data": {"__typename": "Query"}}
