"""Races between different operations (issue 14): each side of a race on its own connection,
many times over, and the invariant checked in the database afterwards.

PostgreSQL really overlaps them (row locks decide who waits); SQLite serializes writers
(BEGIN IMMEDIATE) and must hold the same invariants."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from adapters import tables as t
from domain.enums import IngestStatus, RunStatus, UnitStatus
from domain.errors import DomainError
from domain.production import Run, Unit
from domain.usecases import production as prod
from domain.usecases.execution import TrackIn
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.exec_builders import ExecFactory
from tests.ingest_builders import ACTOR, IngestFactory

#: iterations per race on PostgreSQL (SQLite serializes writers: a few show it agrees)
ROUNDS = 30


def rounds(services: Services) -> int:
    return ROUNDS if services.engine.dialect.name == "postgresql" else 8


async def both(*sides: Awaitable[Any]) -> list[Any]:
    """The sides started together, in a random order, on their own connections."""

    async def jittered(side: Awaitable[Any]) -> Any:
        await asyncio.sleep(random.random() * 0.002)
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


async def run_statuses(services: Services, run_nos: list[str]) -> dict[str, str]:
    async with services.engine.connect() as conn:
        found = await conn.execute(
            select(t.run.c.run_no, t.run.c.status).where(t.run.c.run_no.in_(run_nos))
        )
        return {r.run_no: r.status for r in found}


async def runs_with_executions(services: Services, run_nos: list[str]) -> set[str]:
    """Runs holding an accepted event or a track."""
    async with services.engine.connect() as conn:
        events = await conn.execute(
            select(t.ingest_event.c.run_no).where(t.ingest_event.c.run_no.in_(run_nos))
        )
        tracks = await conn.execute(select(t.track.c.run_no).where(t.track.c.run_no.in_(run_nos)))
        return {r.run_no for r in events} | {r.run_no for r in tracks}


# ---------------------------------------------------------------- run status vs executions


async def test_a_revoked_run_holds_no_event_accepted_against_the_revoke(
    services: Services,
) -> None:
    """revokeRunAuthorization against a run's first events: either the revoke wins (PREP, and
    every event refused RUN_NOT_AUTHORIZED) or an event does (IN_PROGRESS, the revoke
    refused); never a PREP run holding accepted events."""
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.RevokeRunAuthorization(run_no), ACTOR),
            *(services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        revoked, *events = results
        if isinstance(revoked, Run) and any(e.status is IngestStatus.ACCEPTED for e in events):
            lost.append(run_no)  # both answered OK
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "PREP"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"
    assert set(statuses.values()) <= {"PREP", "IN_PROGRESS"}, statuses


async def test_a_revoked_run_holds_no_track_in_against_the_revoke(services: Services) -> None:
    """The same race with trackIn (a manual first step)."""
    f = await ExecFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.RevokeRunAuthorization(run_no), ACTOR),
            *(services.bus.handle(TrackIn(f.code("PRN-1"), run_no, sn), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        revoked, *tracked = results
        if isinstance(revoked, Run) and any(not isinstance(x, Exception) for x in tracked):
            lost.append(run_no)
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "PREP"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"


async def test_a_closed_run_holds_no_event_accepted_against_the_close(
    services: Services,
) -> None:
    """closeRun against a run's first events: the close wins (COMPLETED, every event refused)
    or the events do (IN_PROGRESS with units not DONE: the close refused RUN_NOT_READY)."""
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.CloseRun(run_no), ACTOR),
            *(services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        closed, *events = results
        if isinstance(closed, Run) and any(e.status is IngestStatus.ACCEPTED for e in events):
            lost.append(run_no)
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "COMPLETED"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"
    async with services.engine.connect() as conn:
        open_units = await conn.execute(
            select(t.unit.c.run_no)
            .join(t.run, t.run.c.run_no == t.unit.c.run_no)
            .where(
                t.run.c.run_no.in_(list(statuses)),
                t.run.c.status == "COMPLETED",
                t.unit.c.status.not_in(["DONE", "SCRAPPED"]),
                t.unit.c.current_step_no != 10,  # (an untouched AUTHORIZED run closes today)
            )
        )
        assert not open_units.all()
