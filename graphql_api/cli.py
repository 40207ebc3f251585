"""The `mes` command: serve, migrate, demo, export-schema."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

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

    async def run() -> tuple[list[str], str]:
        await _migrate(settings.database_url)
        services = bootstrap(settings)
        try:
            done = await load_demo(services.bus, services.store, services.ingest)
            return done, await _demo_token(services)
        finally:
            await services.close()

    done, secret = asyncio.run(run())
    for line in done:
        click.echo(f"demo: {line}")
    click.echo(
        "\nAn admin token for GraphiQL (shown once; `mes demo` makes a new one each time):\n"
        "open http://127.0.0.1:8000/graphql, and in the Headers tab paste\n"
        f'  {{"Authorization": "Bearer {secret}"}}\n'
        "or with curl: -H 'Authorization: Bearer <the token>'"
    )


async def _demo_token(services: Any) -> str:
    """Revoke the previous demo token(s) and make a new admin one."""
    import secrets as _secrets

    from domain.usecases.bus import Actor
    from domain.usecases.tokens import CreateToken, RevokeToken

    actor = Actor("mes-demo", "mes-demo")
    async with services.bus.uow_factory() as uow:
        old = [
            t.name for t in await uow.tokens.all() if t.name.startswith("demo-admin") and t.active
        ]
    for name in old:
        await services.bus.handle(RevokeToken(name), actor)
    created = await services.bus.handle(
        CreateToken(f"demo-admin-{_secrets.token_hex(3)}", ("admin",)), actor
    )
    return str(created.secret)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-migrate", is_flag=True, help="Do not bring the schema up to date first.")
@click.option(
    "--no-auth", is_flag=True, help="No tokens needed (loopback only; every caller is admin)."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="MES_WORKERS",
    help="Server processes (each with its own database pool of MES_DB_POOL_SIZE).",
)
@click.option(
    "--worker-timeout",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    envvar="MES_WORKER_TIMEOUT_S",
    help="With --workers: seconds a worker may take to start (and to answer the supervisor's "
    "health ping) before it is killed and replaced.",
)
@database_url_option
def serve(
    host: str,
    port: int,
    no_migrate: bool,
    no_auth: bool,
    workers: int,
    worker_timeout: int,
    database_url: str | None,
) -> None:
    """Serve /graphql (GraphiQL in a browser), /healthz, /readyz and /metrics.

    Every GraphQL request needs an API token (`mes token create`); --no-auth turns that off,
    and is allowed only on a loopback address."""
    import uvicorn

    from graphql_api.bootstrap import bootstrap, tune_gc

    if no_auth and host not in LOOPBACK and not host.startswith("127."):
        raise click.UsageError(
            f"--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not {host}"
        )
    settings = _settings(database_url)
    configure_logging(json=settings.log_json)
    if not no_migrate:
        asyncio.run(_migrate(settings.database_url))
    if no_auth:
        click.secho(
            "WARNING: --no-auth: every request is unrestricted (admin). Local use only.",
            fg="red",
            bold=True,
            err=True,
        )
    click.echo(f"MES serving {settings.safe_url} on http://{host}:{port}/graphql")
    if workers > 1:
        # each worker process builds its own app from the environment (graphql_api.bootstrap)
        os.environ["MES_DATABASE_URL"] = settings.database_url
        os.environ["MES_AUTH"] = "0" if no_auth else "1"
        uvicorn.run(
            "graphql_api.bootstrap:app_from_env",
            factory=True,
            workers=workers,
            # uvicorn's default (5 s) killed workers still importing on a loaded two-core
            # machine (its ping goes unanswered until the child has imported the app), and
            # their replacements were just as slow
            timeout_worker_healthcheck=worker_timeout,
            host=host,
            port=port,
            log_level="info",
        )
        return
    app = bootstrap(settings).app(auth_required=not no_auth)
    tune_gc()
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.group()
def token() -> None:
    """API tokens: create, list, revoke."""


@token.command("create")
@click.option("--name", required=True, help="Who holds it: a machine, a gateway, a person.")
@click.option(
    "--scopes", required=True, help="Comma-separated: read, ingest, execute, configure, admin."
)
@click.option(
    "--sources", default="", help="Comma-separated sourceSystems an ingest token may write for."
)
@click.option(
    "--stations",
    default="",
    help="Comma-separated stations it may write for: CODE or group:GROUPCODE (a station of "
    "that group). Without it, a token with --sources writes for the stations named like them.",
)
@database_url_option
def token_create(
    name: str, scopes: str, sources: str, stations: str, database_url: str | None
) -> None:
    """Create a token; its secret is printed alone on the last line (and never again)."""
    from domain.errors import DomainError
    from domain.usecases.bus import Actor
    from domain.usecases.tokens import CreateToken
    from graphql_api.bootstrap import bootstrap

    settings = _settings(database_url)

    async def run() -> Any:
        await _migrate(settings.database_url)
        services = bootstrap(settings)
        try:
            cmd = CreateToken(
                name,
                tuple(s.strip() for s in scopes.split(",") if s.strip()),
                tuple(s.strip() for s in sources.split(",") if s.strip()),
                tuple(s.strip() for s in stations.split(",") if s.strip()),
            )
            return await services.bus.handle(cmd, Actor("cli", "mes-token-create"))
        finally:
            await services.close()

    try:
        created = asyncio.run(run())
    except DomainError as err:
        raise click.ClickException(err.message) from err
    tk = created.token
    click.echo(f"token {tk.name}: scopes {', '.join(sorted(s.value for s in tk.scopes))}")
    if tk.sources:
        click.echo(f"sources: {', '.join(sorted(tk.sources))}")
    click.echo(f"stations: {_binding(tk)}")
    click.echo(created.secret)


def _binding(tk: Any) -> str:
    """What `mes token create/list` show of a token's station binding."""
    binding = tk.binding
    if binding is None:
        return "any (unbound)"
    if tk.stations:
        return ",".join(sorted(binding.entries()))
    return ",".join(sorted(binding.codes)) + " (named like its sources)"


@token.command("list")
@database_url_option
def token_list(database_url: str | None) -> None:
    """Every token: name, scopes, sources, stations it may write for, state (never a
    secret)."""
    from graphql_api.bootstrap import bootstrap

    settings = _settings(database_url)

    async def run() -> list[Any]:
        await _migrate(settings.database_url)
        services = bootstrap(settings)
        try:
            async with services.bus.uow_factory() as uow:
                return list(await uow.tokens.all())
        finally:
            await services.close()

    for tk in asyncio.run(run()):
        state = f"revoked {tk.revoked_at:%Y-%m-%d %H:%M}" if tk.revoked_at else "active"
        sources = ",".join(sorted(tk.sources)) or "-"
        scopes = ",".join(sorted(s.value for s in tk.scopes))
        click.echo(f"{tk.name}\t{scopes}\t{sources}\tstations {_binding(tk)}\t{state}")


@token.command("revoke")
@click.argument("name")
@database_url_option
def token_revoke(name: str, database_url: str | None) -> None:
    """Revoke a token by name: its secret stops working at once."""
    from domain.errors import DomainError
    from domain.usecases.bus import Actor
    from domain.usecases.tokens import RevokeToken
    from graphql_api.bootstrap import bootstrap

    settings = _settings(database_url)

    async def run() -> None:
        services = bootstrap(settings)
        try:
            await services.bus.handle(RevokeToken(name), Actor("cli", "mes-token-revoke"))
        finally:
            await services.close()

    try:
        asyncio.run(run())
    except DomainError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"revoked {name}")


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
