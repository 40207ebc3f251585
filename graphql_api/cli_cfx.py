"""`mes cfx consume`: CFX envelopes from an AMQP 1.0 queue (RabbitMQ's AMQP 1.0 plugin, Qpid,
Azure Service Bus) into the pipeline, as the machine token given (graphql_api/cfx_amqp.py)."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

import click

from adapters.settings import ConfigError
from graphql_api.cli_common import database_url_option, prepare

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.ports import ReadStore
    from graphql_api.bootstrap import Services
    from graphql_api.cfx_amqp import EnvelopeSink


@click.group()
def cfx() -> None:
    """IPC-CFX (IPC-2591) machine messages."""


async def token_actor(store: ReadStore, secret: str) -> Actor:
    """The actor a token's secret stands for, as the HTTP side finds it (graphql_api/auth.py):
    its sources and station binding apply. ConfigError: no such active token, or one without
    the ingest scope."""
    from domain.actors import Actor
    from domain.security import Scope
    from graphql_api.auth import bearer_principal

    principal = await bearer_principal(store, f"Bearer {secret.strip()}")
    if principal is None:
        raise ConfigError("--token is not the secret of an active API token")
    if not principal.allows(Scope.INGEST):
        raise ConfigError(
            f"token {principal.name!r} has no ingest scope: create one with "
            "`mes token create NAME --scopes ingest --sources HANDLE`"
        )
    return Actor.of(principal, "mes-cfx-consume")


def sink_of(services: Services) -> EnvelopeSink:
    """The CFX pipeline (domain.cfx.receive.CfxReceiver, `Services.cfx`)."""
    sink: EnvelopeSink | None = getattr(services, "cfx", None)
    if sink is None:
        raise ConfigError("this build has no CFX pipeline (Services.cfx)")
    return sink


@cfx.command("consume")
@click.option("--url", required=True, help="The broker: amqp://user:password@host:5672.")
@click.option(
    "--address",
    required=True,
    help="The queue: /queue/NAME (declared durable when missing), /amq/queue/NAME for an "
    "existing queue, or the address your broker uses.",
)
@click.option(
    "--token",
    envvar="MES_CFX_TOKEN",
    required=True,
    help="The secret of an API token with the ingest scope (default: MES_CFX_TOKEN); its "
    "sources and stations bind what it may write.",
)
@click.option(
    "--prefetch",
    default=20,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Messages the broker may send ahead (each is settled only once it is kept).",
)
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve the Prometheus metrics (mes_cfx_*) at http://127.0.0.1:PORT/metrics.",
)
@database_url_option
def consume(
    url: str,
    address: str,
    token: str,
    prefetch: int,
    metrics_port: int | None,
    database_url: str | None,
) -> None:
    """Consume CFX envelopes from an AMQP 1.0 queue until SIGTERM or Ctrl-C."""
    settings = prepare(database_url)

    from adapters.amqp import AmqpLink, safe_url
    from domain.errors import DomainError
    from domain.ingest.raw_body import record_unreadable
    from graphql_api.bootstrap import bootstrap
    from graphql_api.cfx_amqp import CfxConsumer, TokenRevokedStop

    async def run() -> None:
        services = bootstrap(settings)
        link = AmqpLink(url, address, prefetch=prefetch)
        try:
            actor = await token_actor(services.store, token)
            sink = sink_of(services)
            ingest, limits = services.ingest, settings.limits

            async def store_unreadable(
                source: str, body: bytes, err: DomainError, who: Actor
            ) -> None:
                await record_unreadable(
                    ingest.uow_factory,
                    ingest.clock,
                    source,
                    body,
                    err,
                    who,
                    limits.max_payload_bytes,
                )

            if metrics_port is not None:
                from prometheus_client import start_http_server

                from graphql_api.metrics import REGISTRY

                start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            click.echo(f"consuming {address} at {safe_url(url)} as {actor.name}", err=True)
            consumer = CfxConsumer(
                link, sink, store_unreadable, actor, max_body_bytes=limits.max_body_bytes
            )
            try:
                await consumer.run(stop)
            except TokenRevokedStop as err:
                raise ConfigError(f"{err}: stopped (the message in hand was given back)") from err
        finally:
            await asyncio.get_running_loop().run_in_executor(None, link.shutdown)
            await services.close()

    asyncio.run(run())
    click.echo("stopped", err=True)
