"""`mes cfx consume` refuses to start without a token that may ingest (exit 2, one line), and
acts as the token it was given: its sources and station binding apply. On both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import ConfigError
from domain.security import StationBinding
from graphql_api.bootstrap import Services
from graphql_api.cli_cfx import token_actor
from tests.cli_calls import invoke, secret_of
from tests.conftest import make_token, unique


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'cfx.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def consume(db_url: str, secret: str) -> tuple[int, str]:
    result = invoke(
        "cfx", "consume", "--url", "amqp://guest:guest@127.0.0.1:1", "--address", "/queue/x",
        "--token", secret, "--database-url", db_url,
    )  # fmt: skip
    return result.exit_code, result.output


def test_a_token_without_the_ingest_scope_is_refused_at_start(db_url: str) -> None:
    created = invoke(
        "token", "create", "--name", unique("reader"), "--scopes", "read",
        "--database-url", db_url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    code, output = consume(db_url, secret_of(created.output))
    assert code == 2
    assert "has no ingest scope" in output


def test_a_secret_that_is_no_active_token_is_refused_at_start(db_url: str) -> None:
    code, output = consume(db_url, "mes_" + "x" * 40)
    assert code == 2
    assert output.strip().endswith("mes: --token is not the secret of an active API token")


async def test_the_consumer_acts_as_its_token(services: Services) -> None:
    handle = unique("Vendor.Model")
    secret = await make_token(services, scopes="ingest", sources=handle)
    actor = await token_actor(services.store, secret)
    assert actor.sources == frozenset({handle})
    assert actor.bindings == (StationBinding(codes=frozenset({handle})),)
    assert actor.token_name is not None and actor.token_id is not None
    with pytest.raises(ConfigError, match="no ingest scope"):
        await token_actor(services.store, await make_token(services, scopes="read"))
