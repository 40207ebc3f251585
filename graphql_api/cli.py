"""The `mes` command: serve, migrate, demo, export-schema."""

from __future__ import annotations

import asyncio
import sys

import click

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from graphql_api.logging import configure_logging

database_url_option = click.option(
    "--database-url",
    envvar="MES_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default: MES_DATABASE_URL, else sqlite+aiosqlite:///./mes.db).",
)


def _settings(database_url: str | None) -> Settings:
    return Settings.from_env(database_url=database_url)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@click.group()
def main() -> None:
    """MES ingest & traceability service."""


@main.command()
@database_url_option
def migrate(database_url: str | None) -> None:
    """Bring the database schema up to date."""
    settings = _settings(database_url)
    asyncio.run(_migrate(settings.database_url))
    click.echo(f"schema up to date: {settings.safe_url}")


@main.command()
@database_url_option
def demo(database_url: str | None) -> None:
    """Load the demo factory (idempotent): line, stations, routing, work order, run, units."""
    from graphql_api.bootstrap import bootstrap
    from graphql_api.demo import load_demo

    settings = _settings(database_url)

    async def run() -> list[str]:
        await _migrate(settings.database_url)
        services = bootstrap(settings)
        try:
            return await load_demo(services.bus, services.store, services.ingest)
        finally:
            await services.close()

    for line in asyncio.run(run()):
        click.echo(f"demo: {line}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-migrate", is_flag=True, help="Do not bring the schema up to date first.")
@database_url_option
def serve(host: str, port: int, no_migrate: bool, database_url: str | None) -> None:
    """Serve /graphql (GraphiQL in a browser), /healthz and /readyz."""
    import uvicorn

    from graphql_api.bootstrap import bootstrap

    settings = _settings(database_url)
    configure_logging(json=settings.log_json)
    if not no_migrate:
        asyncio.run(_migrate(settings.database_url))
    services = bootstrap(settings)
    click.echo(f"MES serving {settings.safe_url} on http://{host}:{port}/graphql")
    uvicorn.run(services.app(), host=host, port=port, log_level="info")


@main.group()
def rejections() -> None:
    """Work with refused ingest events."""


@rejections.command("replay")
@click.option("--code", default=None, help="Only rejections with this error code.")
@click.option("--source", default=None, help="Only rejections from this sourceSystem.")
@click.option("--since", default=None, help="Only rejections received at or after this ISO time.")
@database_url_option
def replay_rejections(
    code: str | None, source: str | None, since: str | None, database_url: str | None
) -> None:
    """Replay matching unresolved rejections against today's master data; print a summary."""
    from collections import Counter
    from datetime import datetime

    from domain.errors import ErrorCode
    from domain.ports import RejectionFilter
    from domain.usecases.bus import Actor
    from graphql_api.bootstrap import bootstrap

    settings = _settings(database_url)
    try:
        code_filter = ErrorCode(code) if code else None
        since_at = datetime.fromisoformat(since) if since else None
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    if since_at is not None and since_at.tzinfo is None:
        raise click.BadParameter("--since needs a UTC offset, e.g. 2026-03-02T00:00:00+01:00")
    where = RejectionFilter(
        source_system=source, code=code_filter, unresolved_only=True, received_from=since_at
    )

    async def run() -> Counter[str]:
        services = bootstrap(settings)
        summary: Counter[str] = Counter()
        try:
            ids: list[int] = []
            after = None
            while True:
                page, more = await services.store.rejections_page(where, 500, after)
                ids += [j.id for j in page if j.id is not None and j.replayable]
                if not more or not page:
                    break
                after = (page[-1].received_at, page[-1].id or 0)
            actor = Actor(name="cli", request_id="mes-rejections-replay")
            with click.progressbar(ids, label="replaying", show_pos=True) as bar:
                for rejection_id in bar:
                    outcome = await services.ingest.replay(rejection_id, actor)
                    if outcome.error is None:
                        summary[outcome.status.value] += 1
                    else:
                        summary[f"still refused: {outcome.error.code.value}"] += 1
        finally:
            await services.close()
        return summary

    summary = asyncio.run(run())
    if not summary:
        click.echo("no unresolved, replayable rejection matched")
    for what, n in sorted(summary.items()):
        click.echo(f"{what}: {n}")


@main.command("export-schema")
@click.option("--check", is_flag=True, help="Exit 1 when schema.graphql is stale.")
def export_schema(check: bool) -> None:
    """Write the served schema to schema.graphql."""
    from graphql_api.schema import SCHEMA_FILE, printed_schema

    text = printed_schema()
    if check:
        stale = not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != text
        click.echo("schema.graphql is stale" if stale else "schema.graphql is current")
        sys.exit(1 if stale else 0)
    SCHEMA_FILE.write_text(text)
    click.echo(f"wrote {SCHEMA_FILE}")
