"""The `mes` command: serve, migrate, demo, token, rejections, parked, cfx, export-schema.

Start-up checks come first, in one place (graphql_api.cli_common): a bad setting, a database
that cannot be reached or a port in use is one line on stderr and exit code 2. Each command
imports what it needs when it runs, so `mes --help` stays quick.
"""

from __future__ import annotations

import asyncio
import os
import sys

import click

from adapters.settings import ConfigError, workers_from_env
from graphql_api.cli_cfx import cfx
from graphql_api.cli_common import MesGroup, database_url_option, prepare, settings_for
from graphql_api.cli_parked import parked
from graphql_api.cli_rejections import rejections
from graphql_api.cli_tokens import demo_token, token


@click.group(cls=MesGroup)
def main() -> None:
    """MES ingest & traceability service."""


main.add_command(token)
main.add_command(rejections)
main.add_command(parked)
main.add_command(cfx)


@main.command()
@database_url_option
def migrate(database_url: str | None) -> None:
    """Bring the database schema up to date."""
    settings = prepare(database_url)
    click.echo(f"schema up to date: {settings.safe_url}")


@main.command()
@database_url_option
def demo(database_url: str | None) -> None:
    """Load the demo factory (idempotent): line, stations, routing, work order, run, units;
    then an admin token (the previous demo token is revoked)."""
    settings = prepare(database_url)

    from graphql_api.bootstrap import bootstrap
    from graphql_api.demo import load_demo

    async def run() -> tuple[list[str], str, str | None]:
        services = bootstrap(settings)
        try:
            done = await load_demo(services.bus, services.store, services.ingest)
            return done, *await demo_token(services)
        finally:
            await services.close()

    done, secret, revoked = asyncio.run(run())
    for line in done:
        click.echo(f"demo: {line}")
    click.echo("")
    if revoked:
        click.echo(f"revoked the previous demo token ({revoked}): its secret no longer works")
    click.echo(f"GraphiQL: http://127.0.0.1:8000/graphql#token={secret}")
    click.echo(f"curl:     export MES_TOKEN={secret}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int) -> None:
    """Bind the address as the server will (SO_REUSEADDR, like uvicorn) and let go: a port in
    use is a ConfigError before anything says "serving"."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ConfigError(f"cannot listen on {host}: {err.strerror}; pass another --host") from err
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} is in use; stop the other server or pass --port"
                ) from err
            raise ConfigError(
                f"cannot listen on {host}:{port} ({err.strerror}); pass another --host or --port"
            ) from err


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-migrate", is_flag=True, help="Do not bring the schema up to date first.")
@click.option(
    "--no-auth", is_flag=True, help="No tokens needed (loopback only; every caller is admin)."
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Server processes (each with its own database pool of MES_DB_POOL_SIZE) "
    "[default: MES_WORKERS, else 1]. On SQLite one is best: it serialises writers.",
)
@click.option(
    "--worker-timeout",
    default=None,
    type=click.IntRange(1, 3600),
    help="With --workers: seconds a worker may take to start (and to answer the supervisor's "
    "health ping) before it is killed and replaced [default: MES_WORKER_TIMEOUT_S, else 60].",
)
@database_url_option
def serve(
    host: str,
    port: int,
    no_migrate: bool,
    no_auth: bool,
    workers: int | None,
    worker_timeout: int | None,
    database_url: str | None,
) -> None:
    """Serve /graphql (GraphiQL in a browser), /healthz, /readyz and /metrics.

    Every GraphQL request needs an API token (`mes token create`); --no-auth turns that off,
    and is allowed only on a loopback address."""
    if no_auth and host not in LOOPBACK and not host.startswith("127."):
        raise click.UsageError(
            f"--no-auth is allowed only on a loopback address (127.0.0.1, ::1), not {host}"
        )
    settings_for(database_url)  # every setting checked before the port and the database
    env_workers, env_timeout = workers_from_env()
    workers = workers or env_workers
    worker_timeout = worker_timeout or env_timeout
    check_port(host, port)
    settings = prepare(database_url, migrate=not no_migrate)

    import uvicorn

    from graphql_api.bootstrap import bootstrap, tune_gc
    from graphql_api.logging import configure_logging

    configure_logging(json=settings.log_json)

    if workers > 1 and settings.database_url.startswith("sqlite"):
        click.echo(
            f"warning: --workers {workers} on SQLite: SQLite serialises writers, so more "
            "workers add nothing and contend for its lock (use PostgreSQL for several)",
            err=True,
        )
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
