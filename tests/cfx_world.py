"""A database of its own with the demo's IPC-CFX line set up natively (stations with their
handles, `{"format": "CFX"}` steps), per backend: for the tests that send the published
examples as machines send them (POST /cfx, AMQP 1.0)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from domain.actors import Actor
from domain.limits import Limits
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.demo.cfx import cfx_factory
from tests.pg import pg_admin


@contextlib.asynccontextmanager
async def native_cfx_services(
    backend: str, folder: Path, pg_url: str | None, limits: Limits | None = None
) -> AsyncIterator[Services]:
    """The services over a new database (SQLite in `folder`, or a PostgreSQL database made
    beside `pg_url`'s and dropped after) holding the demo's CFX line, natively."""
    name = f"mes_cfx_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'cfx.db'}"
    else:
        assert pg_url is not None
        pg_admin(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(database=name).render_as_string(False)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        services = bootstrap(Settings(database_url=url, limits=limits or Limits()), engine=engine)
        actor = Actor(name="test", request_id="cfx-world")

        async def do(cmd: Any) -> Any:
            return await services.bus.handle(cmd, actor)

        await cfx_factory(do, services.store, native=True)
        yield services
    finally:
        await engine.dispose()
        if backend != "sqlite":
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
