"""Tokens a plant can rotate: a revoked token's name can be given again, `mes token rotate`
swaps the secret in one transaction, a second `mes demo` revokes the first one's token, and
`mes token list` prints a header and aligned columns. On both databases."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from adapters.repositories.security import SqlTokenRepository
from adapters.settings import Settings
from domain.security import ApiToken, lookup_of
from graphql_api.bootstrap import bootstrap
from tests.cli_calls import invoke, secret_of, token_rows


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tokens.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def token_of(url: str, secret: str) -> ApiToken | None:
    """The stored token a secret belongs to (what the server checks a request against)."""

    async def run() -> ApiToken | None:
        services = bootstrap(Settings(database_url=url))
        try:
            lookup = lookup_of(secret)
            assert lookup is not None
            return await services.store.token_by_lookup(lookup)
        finally:
            await services.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_a_revoked_name_is_given_again_and_rotate_swaps_the_secret(db_url: str) -> None:
    name = f"gw-{uuid.uuid4().hex[:8]}"
    create = ("token", "create", "--name", name, "--scopes", "ingest", "--sources", "AOI-01")
    first = invoke(*create, "--stations", "AOI-01,group:ICT", "--database-url", db_url)
    assert first.exit_code == 0, first.output
    again = invoke(*create, "--database-url", db_url)
    assert again.exit_code == 1 and "an active token named" in again.output, again.output

    rotated = invoke("token", "rotate", name, "--database-url", db_url)
    assert rotated.exit_code == 0, rotated.output
    assert f"revoked the old secret of {name}" in rotated.output
    assert "stations: AOI-01,group:ICT" in rotated.output  # the same binding, scopes, sources
    old, new = (
        token_of(db_url, secret_of(first.output)),
        token_of(db_url, secret_of(rotated.output)),
    )
    assert old is not None and old.revoked_at is not None
    assert new is not None and new.active and new.name == name
    assert (new.scopes, new.sources, new.stations) == (old.scopes, old.sources, old.stations)

    assert invoke("token", "revoke", name, "--database-url", db_url).exit_code == 0
    reused = invoke(*create, "--database-url", db_url)  # a revoked name may be used again
    assert reused.exit_code == 0, reused.output
    reborn = token_of(db_url, secret_of(reused.output))
    assert reborn is not None and reborn.active and reborn.stations == frozenset()

    listed = invoke("token", "list", "--database-url", db_url)
    mine = [ln for ln in listed.output.splitlines() if ln.startswith(f"{name} ")]
    assert len(mine) == 3 and sum(ln.rstrip().endswith(" -") for ln in mine) == 1, listed.output
    assert token_rows(db_url)[name]["REVOKED (UTC)"] == "-"  # the last of the name: active

    missing = invoke("token", "rotate", f"nobody-{uuid.uuid4().hex[:6]}", "--database-url", db_url)
    assert missing.exit_code == 1 and "no active token named" in missing.output


def test_rotate_is_one_transaction(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"rot-{uuid.uuid4().hex[:8]}"
    made = invoke("token", "create", "--name", name, "--scopes", "read", "--database-url", db_url)
    assert made.exit_code == 0, made.output
    with monkeypatch.context() as m:

        async def add(self: Any, token: ApiToken) -> ApiToken:
            raise RuntimeError("the new token could not be stored")

        m.setattr(SqlTokenRepository, "add", add)
        failed = invoke("token", "rotate", name, "--database-url", db_url)
    assert failed.exit_code != 0
    still = token_of(db_url, secret_of(made.output))
    assert still is not None and still.active  # the revoke rolled back with the failed add


def test_a_second_demo_revokes_the_first_demo_token(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    first = invoke("demo", "--database-url", url)
    assert first.exit_code == 0, first.output
    *_, graphiql, curl = first.output.rstrip("\n").splitlines()
    secret = curl.removeprefix("curl:     export MES_TOKEN=")
    assert secret.startswith("mes_") and " " not in secret
    assert graphiql == f"GraphiQL: http://127.0.0.1:8000/graphql#token={secret}"
    assert "revoked the previous demo token" not in first.output

    second = invoke("demo", "--database-url", url)
    assert second.exit_code == 0, second.output
    *_, revoked, graphiql2, curl2 = second.output.rstrip("\n").splitlines()
    assert revoked.startswith("revoked the previous demo token"), second.output
    secret2 = curl2.removeprefix("curl:     export MES_TOKEN=")
    assert graphiql2 == f"GraphiQL: http://127.0.0.1:8000/graphql#token={secret2}"
    assert secret2 != secret
    old, new = token_of(url, secret), token_of(url, secret2)
    assert old is not None and not old.active and new is not None and new.active
    assert token_rows(url)["demo-admin"]["SCOPES"] == "admin"
