"""Helpers for the race tests: the sides started together, the failures that are not
refusals, many fresh runs at once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from domain.enums import RunStatus, UnitStatus
from domain.errors import DomainError
from domain.runs_and_units import Run, Unit
from graphql_api.bootstrap import Services
from tests.conftest import unique

#: iterations per race on PostgreSQL (SQLite serializes writers: a few show it agrees)
ROUNDS = 30


def rounds(services: Services) -> int:
    return ROUNDS if services.engine.dialect.name == "postgresql" else 8


async def both(*sides: Awaitable[Any], jitter: float = 0.002) -> list[Any]:
    """The sides started together, in a random order, on their own connections."""

    async def jittered(side: Awaitable[Any]) -> Any:
        await asyncio.sleep(random.random() * jitter)
        return await side

    return await asyncio.gather(*(jittered(s) for s in sides), return_exceptions=True)


def unexpected(results: list[Any]) -> list[BaseException]:
    """Failures that are not refusals: a deadlock, a lost connection, a bug."""
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)]


async def fresh_runs(
    services: Services, run_no: str, n: int, units: int, step_no: int
) -> list[tuple[str, list[str]]]:
    """n AUTHORIZED runs like `run_no` (same work order and frozen version), each with its
    own units QUEUED at step_no, written in one transaction (the races need many)."""
    model = (await services.store.runs([run_no]))[run_no]
    now = datetime.now(UTC)
    made: list[tuple[str, list[str]]] = []
    async with services.bus.uow_factory() as uow:
        for i in range(n):
            run = Run(
                unique(f"{run_no}-R{i}"),
                model.wo_no,
                RunStatus.AUTHORIZED,
                units,
                model.route_version_id,
                line_code=model.line_code,
                created_at=now,
            )
            await uow.runs.add(run)
            sns = [unique(f"{run.run_no}-SN{j}") for j in range(units)]
            await uow.units.add_many(
                [Unit(sn, run.wo_no, run.run_no, UnitStatus.QUEUED, step_no, now) for sn in sns]
            )
            made.append((run.run_no, sns))
        await uow.commit()
    return made
