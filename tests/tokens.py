"""Tokens made as `mes token create` makes them."""

from __future__ import annotations

from domain.actors import Actor
from domain.usecases.tokens import CreateToken
from graphql_api.bootstrap import Services
from tests.conftest import unique


async def token(services: Services, scopes: str, sources: str = "", stations: str = "") -> str:
    """A new token's secret, made as `mes token create` makes it."""
    created = await services.bus.handle(
        CreateToken(
            unique("tok"),
            tuple(scopes.split(",")),
            tuple(s for s in sources.split(",") if s),
            tuple(s for s in stations.split(",") if s),
        ),
        Actor("test", "test-binding"),
    )
    return str(created.secret)
