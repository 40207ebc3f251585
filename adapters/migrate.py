"""Bring a database's schema up to date with Alembic (used by `mes migrate` and `mes serve`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """PRAGMA foreign_keys, outside any transaction (inside one SQLite ignores it): through the
    DB-API connection, so that SQLAlchemy does not BEGIN first."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _sqlite_foreign_key_check(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows without their parents: {broken[:5]}")


async def _in_migration(engine: AsyncEngine, migrate: Callable[[Connection], None]) -> None:
    """One transaction. On SQLite, batch mode rebuilds a table (copy, DROP, rename) to alter
    it, and a DROP of a table other rows point at fails while foreign keys are enforced: they
    are off during the migration (SQLite's own procedure for ALTERs), and checked whole before
    its commit."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            await conn.run_sync(migrate)
        return
    async with engine.connect() as conn:
        await conn.run_sync(_sqlite_foreign_keys, False)
        try:
            async with conn.begin():
                await conn.run_sync(migrate)
                await conn.run_sync(_sqlite_foreign_key_check)
        finally:
            await conn.run_sync(_sqlite_foreign_keys, True)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def _upgrade(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    await _in_migration(engine, _upgrade)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    def _downgrade(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    await _in_migration(engine, _downgrade)


async def is_up_to_date(engine: AsyncEngine) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def _current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_current) == head
