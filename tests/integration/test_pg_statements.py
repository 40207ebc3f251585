"""The hot statements written for PostgreSQL (adapters/pg.py): they run straight on the driver
only inside SQLAlchemy's begun transaction and only when nothing listens to SQLAlchemy's
statements; otherwise through SQLAlchemy, with the same SQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t
from adapters.db import is_unavailable
from adapters.pg import Pg, combined_statement
from adapters.read_store import SqlReadStore
from adapters.repositories.postgres import STATION_BY_CODE, UNITS_BY_SN_FOR_UPDATE
from adapters.uow import SqlUnitOfWork
from domain.enums import (
    DataType,
    RouteVersionStatus,
    RunStatus,
    TrackResult,
    TrackSource,
    UnitStatus,
    WorkOrderStatus,
)
from domain.runs_and_units import Run, Unit, WorkOrder
from domain.tracks import DataValue, Track
from tests.conftest import count_statements, unique
from tests.repository_data import AT, a_version, master_data

postgres_only = pytest.mark.postgres_only


@postgres_only
async def test_a_statement_goes_to_the_driver_only_inside_the_begun_transaction(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as u:
        pg = u.stations.pg
        assert pg is not None
        # SQLAlchemy's adapter begins lazily: the first statement begins it as the adapter
        # would, then goes to the driver too
        driver = await pg._direct()
        assert driver is not None and driver.is_in_transaction()
        assert await u.stations.get(unique("none")) is None
    async with engine.connect() as conn:
        pg = Pg(conn, autocommit=False)
        # SQLAlchemy's transaction not begun: nothing is begun under it, the statement is its
        assert await pg._direct() is None


def test_the_asyncpg_adapter_still_begins_as_pg_begin_expects() -> None:
    """`Pg._begin` calls the adapter's own `_start_transaction` (SQLAlchemy 2.1): without it
    every transaction's first statement silently goes through SQLAlchemy again (correct,
    ~0.2 ms slower). Another SQLAlchemy fails here, naming the version to look at."""
    import sqlalchemy
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    assert hasattr(AsyncAdapt_asyncpg_connection, "_start_transaction"), sqlalchemy.__version__
    assert "_transaction" in AsyncAdapt_asyncpg_connection.__init__.__code__.co_names, (
        sqlalchemy.__version__
    )


@postgres_only
@pytest.mark.parametrize("commit", [True, False])
async def test_a_transaction_begun_by_pg_ends_by_sqlalchemys_commit_or_rollback(
    engine: AsyncEngine, commit: bool
) -> None:
    code = unique("ST")
    async with SqlUnitOfWork(engine) as u:
        pg = u.stations.pg
        assert pg is not None and await pg._direct() is not None
        await pg.execute("INSERT INTO line (code, name) VALUES ($1, $2)", code, code)
        if commit:
            await u.commit()
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(func.count()).select_from(t.line).where(t.line.c.code == code)
        )
    assert found == (1 if commit else 0)


@postgres_only
async def test_observed_statements_go_through_sqlalchemy_with_the_same_sql(
    engine: AsyncEngine,
) -> None:
    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("SRC", unique("k"))
        with count_statements(engine) as seen:
            assert await u.stations.get(unique("none")) is None
            assert await u.units.get_many([unique("none")], for_update=True) == []
        assert seen == [STATION_BY_CODE, UNITS_BY_SN_FOR_UPDATE]


@postgres_only
async def test_a_read_in_autocommit_needs_no_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        pg = Pg(conn, autocommit=True)
        assert await pg._direct() is not None


@postgres_only
async def test_a_key_with_nul_finds_nothing_instead_of_failing(engine: AsyncEngine) -> None:
    """PostgreSQL refuses NUL in text; the Core statements' SafeString scrubs it, so must these."""
    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("S\x00RC", "k\x00ey")
        assert await u.stations.get("ST\x00") is None
        assert await u.units.get_many(["SN\x00"]) == []
        assert await u.ingest_events.get_by_key("S\x00RC", "k\x00ey") is None
    assert await SqlReadStore(engine).token_by_lookup("look\x00up") is None


@postgres_only
async def test_a_listener_added_mid_transaction_sees_every_later_statement(
    engine: AsyncEngine,
) -> None:
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    async with SqlUnitOfWork(engine) as u:
        await u.ingest_events.lock_key("SRC", unique("k"))
        await u.stations.get(unique("none"))  # straight to the driver: not seen
        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        try:
            await u.stations.get(unique("none"))
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
    assert seen == ["SELECT"]


# ---------------------------------------------------------------- deferred writes


def test_deferred_writes_combine_into_one_statement_numbering_their_parameters_on() -> None:
    sql = combined_statement(
        (
            ("new_tracks", "INSERT INTO track (a) SELECT $1 RETURNING id, unit_id"),
            (None, "INSERT INTO data_value (b) SELECT new_tracks.id FROM new_tracks WHERE $1"),
            (None, "UPDATE unit SET x = $2 WHERE id = $1"),
            (None, "INSERT INTO audit_event (c) SELECT $1"),
        )
    )
    assert sql == (
        "WITH new_tracks_0 AS (INSERT INTO track (a) SELECT $1 RETURNING id, unit_id), "
        "w1 AS (INSERT INTO data_value (b) SELECT new_tracks_0.id FROM new_tracks_0 WHERE $2), "
        "w2 AS (UPDATE unit SET x = $4 WHERE id = $3) INSERT INTO audit_event (c) SELECT $5"
    )
    assert combined_statement(((None, "SELECT $1"),)) == "SELECT $1"
    assert combined_statement((("named", "SELECT $1"),)) == "SELECT $1"


def _track(run: Run, unit_id: int, sn: str, **kw: Any) -> Track:
    return Track(
        unit_id=unit_id,
        unit_sn=sn,
        run_no=run.run_no,
        step_no=10,
        attempt=1,
        operation_code="OP",
        source=TrackSource.AUTO,
        station_code="ST",
        in_at=AT,
        **kw,
    )


async def _units(engine: AsyncEngine, n: int = 2) -> tuple[Run, list[Unit]]:
    tag = unique("DF")
    uow = lambda: SqlUnitOfWork(engine)  # noqa: E731
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", n, WorkOrderStatus.IN_PROGRESS))
        run = Run(
            f"{tag}-RUN", f"{tag}-WO", RunStatus.IN_PROGRESS, n, version.id or 0, created_at=AT
        )
        await u.runs.add(run)
        await u.units.add_many(
            [
                Unit(f"{tag}-SN{i}", f"{tag}-WO", run.run_no, UnitStatus.QUEUED, 10, AT)
                for i in range(n)
            ]
        )
        await u.commit()
    async with uow() as u:
        units = await u.units.get_many([f"{tag}-SN{i}" for i in range(n)])
    return run, units


@postgres_only
async def test_a_deferred_write_is_seen_by_every_later_statement_of_its_transaction(
    engine: AsyncEngine,
) -> None:
    _, (unit, _) = await _units(engine)
    async with SqlUnitOfWork(engine) as u:
        with count_statements(engine) as seen:
            await u.units.update_many([replace(unit, current_step_no=20)])
        assert seen == []  # deferred
        # a Core statement (SqlRepository._exec) and a written-out one both flush first
        assert (await u.units.get(unit.sn) or unit).current_step_no == 20
        await u.units.update_many([replace(unit, current_step_no=30)])
        assert (await u.units.get_many([unit.sn]))[0].current_step_no == 30
        # two updates of one table never share a statement (one snapshot would lose one)
        with count_statements(engine) as seen:
            await u.units.update_many([replace(unit, current_step_no=40)])
            await u.units.update_many([replace(unit, current_step_no=50)])
        assert len(seen) == 1
        await u.commit()
    async with SqlUnitOfWork(engine) as u:
        assert (await u.units.get(unit.sn) or unit).current_step_no == 50


@postgres_only
async def test_deferred_writes_go_at_commit_in_one_statement_and_keep_their_order(
    engine: AsyncEngine,
) -> None:
    run, units = await _units(engine)
    tracks = [
        (
            _track(run, u.id or 0, u.sn, out_at=AT, result=TrackResult.PASS),
            [
                DataValue(f"V{i}", DataType.NUMBER, TrackSource.AUTO, AT, value_number=i)
                for i in range(3)
            ],
        )
        for u in units
    ]
    async with SqlUnitOfWork(engine) as u:
        with count_statements(engine) as seen:
            await u.tracks.add_with_values(tracks)
            await u.units.update_many([replace(x, current_step_no=20) for x in units])
            await u.commit()
    assert len(seen) == 1 and seen[0].startswith("WITH new_tracks_0 AS (INSERT INTO track")
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(t.track.c.unit_id, t.data_value.c.spec_name)
                .join(t.data_value, t.data_value.c.track_id == t.track.c.id)
                .where(t.track.c.run_no == run.run_no)
                .order_by(t.data_value.c.id)
            )
        ).all()
    assert [tuple(r) for r in stored] == [(u.id, f"V{i}") for u in units for i in range(3)]


@postgres_only
async def test_a_deferred_write_that_fails_fails_the_commit_and_leaves_nothing(
    engine: AsyncEngine,
) -> None:
    run, (unit, _) = await _units(engine)
    bad = _track(run, -1, "?")  # no such unit: the foreign key refuses it at the statement
    with pytest.raises(Exception, match="foreign key"):
        async with SqlUnitOfWork(engine) as u:
            await u.units.update_many([replace(unit, current_step_no=20)])
            await u.tracks.add_with_values([(bad, [])])
            await u.commit()
    async with SqlUnitOfWork(engine) as u:
        assert (await u.units.get(unit.sn) or unit).current_step_no == 10
    async with engine.connect() as conn:
        n = await conn.scalar(
            select(func.count()).select_from(t.track).where(t.track.c.run_no == run.run_no)
        )
    assert n == 0


@postgres_only
async def test_what_was_deferred_is_dropped_with_a_rollback(engine: AsyncEngine) -> None:
    _, (unit, _) = await _units(engine)
    async with SqlUnitOfWork(engine) as u:
        await u.units.update_many([replace(unit, current_step_no=20)])
        await u.rollback()
    async with SqlUnitOfWork(engine) as u:
        assert (await u.units.get(unit.sn) or unit).current_step_no == 10


@postgres_only
async def test_a_track_without_values_is_stored_alone(engine: AsyncEngine) -> None:
    run, (unit, _) = await _units(engine)
    track = _track(run, unit.id or 0, unit.sn)
    async with SqlUnitOfWork(engine) as u:
        await u.tracks.add_with_values([(track, [])])
        await u.commit()
    async with SqlUnitOfWork(engine) as u:
        assert (await u.tracks.open_of_unit(unit.id or 0)) == replace(
            track, id=(await u.tracks.open_of_unit(unit.id or 0) or track).id
        )


@postgres_only
async def test_a_connection_killed_under_a_written_out_statement_is_not_handed_out_again(
    engine: AsyncEngine,
) -> None:
    """SQLAlchemy invalidates a connection that broke under its statements; one that broke
    under a statement sent straight to the driver is invalidated too, or the pool would hand
    it out again and again."""
    store = SqlReadStore(engine)
    held = [await engine.connect() for _ in range(3)]  # the pool keeps three connections
    for conn in held:
        await conn.exec_driver_sql("SELECT 1")
    pids = [await conn.scalar(text("SELECT pg_backend_pid()")) for conn in held]
    for conn in held:
        await conn.close()
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)  # not from the pool: its connections are the victims
    try:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
    finally:
        await admin.close()
    failures = 0
    # the pool hands its connections out in turn: each one, once (the victims among them)
    for _ in range(engine.pool.size() + len(pids)):  # type: ignore[attr-defined]
        try:
            await store.token_by_lookup(unique("lookup"))
        except Exception as err:
            assert is_unavailable(err), err
            failures += 1
    assert failures <= 3
    assert await store.token_by_lookup(unique("lookup")) is None


def test_every_repository_statement_goes_through_the_flush() -> None:
    """A Core statement run on the connection directly would overtake the deferred writes of
    its transaction: every repository statement goes through SqlRepository._exec."""
    import inspect
    import pkgutil
    from importlib import import_module

    from adapters import repositories

    source = "".join(
        inspect.getsource(import_module(f"adapters.repositories.{m.name}"))
        for m in pkgutil.iter_modules(repositories.__path__)
    )
    assert source.count("self.conn.execute(") == 1  # the one inside _exec
    assert "self.conn.exec_driver_sql(" not in source
