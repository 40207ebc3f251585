"""`mes parked expire`: turn the parked events whose time is up into PARKED_EXPIRED
rejections now, without waiting for `mes serve`'s sweep."""

from __future__ import annotations

import asyncio

import click

from graphql_api.cli_common import database_url_option, prepare


@click.group()
def parked() -> None:
    """Work with parked events (ones that came before their units reached their step)."""


@parked.command("expire")
@database_url_option
def expire_parked_events(database_url: str | None) -> None:
    """Expire every parked event past its expiresAt (MES_PARK_TTL); print how many."""
    settings = prepare(database_url)

    from domain.actors import Actor
    from domain.usecases.parking import expire_parked
    from graphql_api.bootstrap import bootstrap

    async def run() -> int:
        services = bootstrap(settings)
        try:
            # no lock needed: an event is expired by whoever removes it first (a running
            # server's sweep takes the others)
            return await expire_parked(
                services.ingest.uow_factory,
                services.ingest.clock,
                Actor(name="cli", request_id="mes-parked-expire"),
            )
        finally:
            await services.close()

    done = asyncio.run(run())
    click.echo(f"expired: {done}")
