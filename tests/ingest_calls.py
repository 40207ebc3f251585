"""ingestEvent through GraphQL, and a unit moved to a step in the tables: shared by the API
ingest tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.queries import INGEST


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])


async def move(services: Services, sns: list[str], step: int) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(sns)).values(current_step_no=step))
