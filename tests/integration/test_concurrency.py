"""Master data and production commands sent at once (DOMAIN.md §9 "exactly-once effects"),
each through the bus with its own unit of work and connection.

PostgreSQL really overlaps them (row locks, ON CONFLICT); SQLite serializes writers (BEGIN
IMMEDIATE with a busy timeout) and must give the same answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from adapters import tables as t
from domain.actors import Actor
from domain.errors import DomainError
from domain.master import Line
from domain.routes import RouteVersion
from domain.runs_and_units import Unit
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import unique

ACTOR = Actor(name="test", request_id="test-concurrency")


async def at_once(services: Services, commands: list[Any]) -> list[Any]:
    """Every command started together; results (or the exception raised) in order."""
    return await asyncio.gather(
        *(services.bus.handle(cmd, ACTOR) for cmd in commands), return_exceptions=True
    )


def unexpected(results: list[Any]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, DomainError)]


async def count_rows(services: Services, table: t.Table, *where: Any) -> int:
    async with services.engine.connect() as conn:
        stmt = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(stmt)).scalar_one())


async def test_concurrent_upserts_of_one_line_leave_one_row(services: Services) -> None:
    code = unique("CL")
    names = [f"Line {i}" for i in range(10)]
    results = await at_once(services, [md.UpsertLine(Line(code, n)) for n in names])
    assert all(isinstance(r, Line) for r in results), results
    assert await count_rows(services, t.line, t.line.c.code == code) == 1
    async with services.engine.connect() as conn:
        name = (await conn.execute(select(t.line.c.name).where(t.line.c.code == code))).scalar()
    assert name in names  # the last writer wins, whoever it was
    assert await count_rows(services, t.audit_event, t.audit_event.c.entity_key == code) == 10


async def test_concurrent_compiles_number_versions_without_gaps(services: Services) -> None:
    f = Factory(services.bus)
    await f.master_data()
    await f.routing(compile_it=False)
    results = await at_once(services, [md.CompileRouting(f.code("R")) for _ in range(5)])
    assert not unexpected(results) and all(isinstance(r, RouteVersion) for r in results), results
    assert sorted(r.version_no for r in results) == [1, 2, 3, 4, 5]
    assert len({r.id for r in results}) == 5
    async with services.engine.connect() as conn:
        stored = (
            await conn.execute(
                select(t.route_version.c.version_no).where(
                    t.route_version.c.routing_code == f.code("R")
                )
            )
        ).scalars()
        assert sorted(stored) == [1, 2, 3, 4, 5]


async def test_concurrent_generated_registrations_share_one_sequence(services: Services) -> None:
    f = Factory(services.bus)
    run_no = await f.run()
    results = await at_once(services, [prod.RegisterUnits(run_no, count=10) for _ in range(5)])
    assert not unexpected(results) and all(isinstance(r, list) for r in results), results
    sns = [u.sn for batch in results for u in batch]
    assert len(set(sns)) == 50
    assert sorted(sns) == [f"{run_no}-{i:06d}" for i in range(1, 51)]
    for batch in results:  # each call got a continuous block of its own
        numbers = [int(u.sn.rsplit("-", 1)[1]) for u in batch]
        assert numbers == list(range(numbers[0], numbers[0] + 10))
    assert await count_rows(services, t.unit, t.unit.c.run_no == run_no) == 50
    assert await prefix_counter(services, f"{run_no}-") == 50


async def prefix_counter(services: Services, prefix: str) -> int | None:
    async with services.engine.connect() as conn:
        stmt = select(t.sn_sequence.c.last_value).where(t.sn_sequence.c.prefix == prefix)
        value: int | None = (await conn.execute(stmt)).scalar()
    return value


async def test_concurrent_generated_registrations_on_two_runs_share_the_prefix_counter(
    services: Services,
) -> None:
    """Numbering is per prefix across runs: two runs generating under one prefix at once get
    blocks of their own, never the same SN (issue 16 item 10)."""
    f = Factory(services.bus)
    first = await f.run()
    second = (
        await f.do(prod.CreateRun(f.code("WO"), f.code("LINE"), 50, run_no=f.code("RUN2")))
    ).run_no
    prefix = f.code("B200-")
    commands = [prod.RegisterUnits(run, count=5, sn_prefix=prefix) for run in (first, second) * 4]
    results = await at_once(services, commands)
    assert not unexpected(results) and all(isinstance(r, list) for r in results), results
    sns = [u.sn for batch in results for u in batch]
    assert sorted(sns) == [f"{prefix}{i:06d}" for i in range(1, 41)]
    for run, batch in zip((first, second) * 4, results, strict=True):
        assert {u.run_no for u in batch} == {run}
        numbers = [int(u.sn.removeprefix(prefix)) for u in batch]
        assert numbers == list(range(numbers[0], numbers[0] + 5))
    assert await prefix_counter(services, prefix) == 40


async def test_concurrent_registrations_of_the_same_sns_register_them_once(
    services: Services,
) -> None:
    f = Factory(services.bus)
    run_no = await f.run()
    sns = tuple(f.code(f"SN{i}") for i in range(5))
    results = await at_once(services, [prod.RegisterUnits(run_no, sns=sns) for _ in range(5)])
    assert not unexpected(results), results
    outcomes = Counter(r.code.value if isinstance(r, DomainError) else "OK" for r in results)
    assert outcomes == {"OK": 1, "UNIT_ALREADY_EXISTS": 4}
    winner = next(r for r in results if isinstance(r, list))
    assert [u.sn for u in winner if isinstance(u, Unit)] == list(sns)
    assert await count_rows(services, t.unit, t.unit.c.sn.in_(sns)) == 5


async def test_concurrent_registrations_of_the_same_sns_on_different_runs(
    services: Services,
) -> None:
    """SNs are unique across the factory: two runs racing for one SN cannot both have it."""
    f = Factory(services.bus)
    first = await f.run()
    runs = [first] + [
        (
            await f.do(prod.CreateRun(f.code("WO"), f.code("LINE"), 5, run_no=f.code(f"RUN{i}")))
        ).run_no
        for i in range(1, 5)
    ]
    sns = (f.code("SHARED-1"), f.code("SHARED-2"))
    results = await at_once(services, [prod.RegisterUnits(run, sns=sns) for run in runs])
    assert not unexpected(results), results
    outcomes = Counter(r.code.value if isinstance(r, DomainError) else "OK" for r in results)
    assert outcomes == {"OK": 1, "UNIT_ALREADY_EXISTS": 4}
    assert await count_rows(services, t.unit, t.unit.c.sn.in_(sns)) == 2
