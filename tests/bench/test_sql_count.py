"""MES_COUNT_SQL: the server counts the statements of each request into a response header
(the benchmark's statements-per-trace figure). Off by default."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import create_engine
from adapters.settings import Settings
from graphql_api.bootstrap import bootstrap
from tests.conftest import count_statements, make_token


async def test_the_header_counts_what_the_engine_ran(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        services = bootstrap(Settings(database_url=str(own.url)), engine=own)
        token = await make_token(services)
        monkeypatch.setenv("MES_COUNT_SQL", "1")
        app = services.app()
        headers = {"Authorization": f"Bearer {token}"}
        query = {"query": '{ unit(sn: "nobody") { sn } runs: run(runNo: "none") { runNo } }'}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mes.test"
        ) as client:
            with count_statements(own) as seen:
                r = await client.post("/graphql", json=query, headers=headers)
            assert r.status_code == 200 and r.json()["data"] == {"unit": None, "runs": None}
            assert int(r.headers["x-sql-statements"]) == len(seen) >= 3  # token, unit, run
        monkeypatch.delenv("MES_COUNT_SQL")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=services.app()), base_url="http://mes.test"
        ) as client:
            r = await client.post("/graphql", json=query, headers=headers)
            assert "x-sql-statements" not in r.headers
    finally:
        await own.dispose()
