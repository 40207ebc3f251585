"""Fixtures the API test modules share."""

from __future__ import annotations

import pytest

from graphql_api.bootstrap import Services
from tests.builders import Factory


@pytest.fixture
async def f(services: Services) -> Factory:
    """Master data and a READY routing, no work order yet (a module may define its own `f`)."""
    factory = Factory(services.bus)
    await factory.master_data()
    await factory.routing()
    return factory
