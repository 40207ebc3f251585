"""The repository contract's fixture: every case runs against the fake unit of work
(tests/fakes.py) and the SQL one on each database, so the fakes cannot drift."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.uow import SqlUnitOfWork
from tests.conftest import BACKENDS, migrated_engine
from tests.fakes import FakeUnitOfWorkFactory
from tests.repository_data import Implementation


@pytest.fixture(params=["fake", *BACKENDS])
async def impl(request: pytest.FixtureRequest, engines: dict[str, AsyncEngine]) -> Implementation:
    if request.param == "fake":
        return Implementation("fake", FakeUnitOfWorkFactory())
    engine = await migrated_engine(request.param, engines, request)
    return Implementation(request.param, lambda: SqlUnitOfWork(engine), engine)
