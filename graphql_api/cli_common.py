"""What every `mes` command shares: the database option, the start-up checks, and the one
handler that turns a ConfigError into one line on stderr and exit code 2.

Only click and the settings are imported here: `mes --help` must not load SQLAlchemy or
Strawberry (each command imports what it needs when it runs).
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from adapters.settings import ConfigError, Settings

#: the exit code of a setting, a database or a port `mes` cannot start with (click's own for
#: a bad command line)
CONFIG_EXIT = 2

database_url_option = click.option(
    "--database-url",
    envvar="MES_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default: MES_DATABASE_URL, else sqlite+aiosqlite:///./mes.db).",
)


class MesGroup(click.Group):
    """The `mes` group: a ConfigError from any command, at any depth, ends it with one line
    on stderr and exit code 2 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as err:
            click.echo(f"mes: {err}", err=True)
            ctx.exit(CONFIG_EXIT)


def settings_for(database_url: str | None) -> Settings:
    """The MES_* settings, each checked (ConfigError), with --database-url over the env."""
    return Settings.from_env(database_url=database_url)


def prepare(database_url: str | None, migrate: bool = True) -> Settings:
    """The start-up of a command that uses the database: settings checked, the database
    reached, and its schema brought up to date (or, with migrate=False, found up to date).
    Anything wrong is a ConfigError."""
    settings = settings_for(database_url)
    asyncio.run(ready_database(settings, migrate))
    return settings


async def ready_database(settings: Settings, migrate: bool) -> None:
    from adapters.db import check_database, create_engine
    from adapters.migrate import is_up_to_date, upgrade

    await check_database(settings.database_url)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        if migrate:
            await upgrade(engine)
        elif not await is_up_to_date(engine):
            raise ConfigError(
                f"the database {settings.safe_url} has no schema or an old one; "
                "run `uv run mes migrate` first (or serve without --no-migrate)"
            )
    finally:
        await engine.dispose()
