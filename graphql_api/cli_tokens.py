"""`mes token create | list | rotate | revoke`, and the demo's admin token."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from graphql_api.cli_common import database_url_option, prepare

#: the name of `mes demo`'s admin token (rotated by each `mes demo`); earlier versions named
#: theirs demo-admin-<hex>, which a new demo revokes as well
DEMO_TOKEN = "demo-admin"


@click.group()
def token() -> None:
    """API tokens: create, list, rotate, revoke."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _handle(database_url: str | None, command: Any, request_id: str, migrate: bool = True) -> Any:
    """Run one token command through the bus (audited like every mutation); a refusal is a
    one-line error (exit 1)."""
    settings = prepare(database_url, migrate=migrate)  # first: a bad setting stops here

    from domain.actors import Actor
    from domain.errors import DomainError
    from graphql_api.bootstrap import bootstrap

    async def run() -> Any:
        services = bootstrap(settings)
        try:
            return await services.bus.handle(command, Actor("cli", request_id))
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except DomainError as err:
        raise click.ClickException(err.message) from err


def _describe(tk: Any) -> None:
    """What `mes token create/rotate` print before the secret."""
    click.echo(f"token {tk.name}: scopes {', '.join(sorted(s.value for s in tk.scopes))}")
    if tk.sources:
        click.echo(f"sources: {', '.join(sorted(tk.sources))}")
    click.echo(f"stations: {_binding(tk)}")


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
    """Create a token; its secret is printed alone on the last line (and never again). The
    name of a revoked token may be given again."""
    from domain.usecases.tokens import CreateToken

    cmd = CreateToken(name, _split(scopes), _split(sources), _split(stations))
    created = _handle(database_url, cmd, "mes-token-create")
    _describe(created.token)
    click.echo(created.secret)


@token.command("rotate")
@click.argument("name")
@database_url_option
def token_rotate(name: str, database_url: str | None) -> None:
    """A new secret for the token NAME (same scopes, sources and stations); its old secret is
    revoked in the same transaction. The new secret is printed alone on the last line."""
    from domain.usecases.tokens import RotateToken

    rotated = _handle(database_url, RotateToken(name), "mes-token-rotate")
    click.echo(f"revoked the old secret of {name} (created {_when(rotated.old.created_at)})")
    _describe(rotated.token)
    click.echo(rotated.secret)


@token.command("revoke")
@click.argument("name")
@database_url_option
def token_revoke(name: str, database_url: str | None) -> None:
    """Revoke a token by name: its secret stops working at once (the name may be reused)."""
    from domain.usecases.tokens import RevokeToken

    _handle(database_url, RevokeToken(name), "mes-token-revoke")
    click.echo(f"revoked {name}")


def _binding(tk: Any) -> str:
    """What `mes token create/list` show of a token's station binding."""
    binding = tk.binding
    if binding is None:
        return "any (unbound)"
    if tk.stations:
        return ",".join(sorted(binding.entries()))
    return ",".join(sorted(binding.codes)) + " (named like its sources)"


def _when(at: datetime | None) -> str:
    return "-" if at is None else f"{at:%Y-%m-%d %H:%M}"


TOKEN_COLUMNS = ("NAME", "SCOPES", "SOURCES", "STATIONS", "CREATED (UTC)", "REVOKED (UTC)")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned columns, two spaces apart, the header first."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    ]


@token.command("list")
@database_url_option
def token_list(database_url: str | None) -> None:
    """Every token, revoked ones too, in aligned columns under a header: name, scopes,
    sources, stations it may write for, created and revoked (UTC; never a secret)."""
    settings = prepare(database_url)

    from graphql_api.bootstrap import bootstrap

    async def run() -> list[Any]:
        services = bootstrap(settings)
        try:
            async with services.bus.uow_factory() as uow:
                return list(await uow.tokens.all())
        finally:
            await services.close()

    rows = [
        (
            tk.name,
            ",".join(sorted(s.value for s in tk.scopes)),
            ",".join(sorted(tk.sources)) or "-",
            _binding(tk),
            _when(tk.created_at),
            _when(tk.revoked_at),
        )
        for tk in asyncio.run(run())
    ]
    for line in table(TOKEN_COLUMNS, rows):
        click.echo(line)


async def demo_token(services: Any) -> tuple[str, str | None]:
    """The demo's admin token: the previous one rotated (its secret revoked in the same
    transaction), else a new one. Returns the secret and what was revoked (None: nothing)."""
    from domain.actors import Actor
    from domain.usecases.tokens import CreateToken, RevokeToken, RotateToken

    actor = Actor("mes-demo", "mes-demo")
    async with services.bus.uow_factory() as uow:
        tokens = await uow.tokens.all()
    revoked: list[str] = []
    for old in tokens:  # those of earlier versions (demo-admin-<hex>)
        if old.active and old.name.startswith(f"{DEMO_TOKEN}-"):
            await services.bus.handle(RevokeToken(old.name), actor)
            revoked.append(old.name)
    if any(tk.active and tk.name == DEMO_TOKEN for tk in tokens):
        rotated = await services.bus.handle(RotateToken(DEMO_TOKEN), actor)
        revoked.append(f"{DEMO_TOKEN}, created {_when(rotated.old.created_at)} UTC")
        secret = rotated.secret
    else:
        secret = (await services.bus.handle(CreateToken(DEMO_TOKEN, ("admin",)), actor)).secret
    return str(secret), "; ".join(revoked) or None
