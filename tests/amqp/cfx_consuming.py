"""The real CFX consumer (`CfxConsumer` into `Services.cfx`) run against the test broker as a
gateway's ingest token, for the tests that send the published examples through RabbitMQ."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from adapters.amqp import AmqpLink
from graphql_api import metrics
from graphql_api.bootstrap import Services
from graphql_api.cfx_amqp import Backoff, CfxConsumer
from graphql_api.cli_cfx import token_actor
from tests.amqp.recording_consumer import consuming as running
from tests.conftest import make_token

WAIT_S = 20.0


def duplicates() -> float:
    """mes_cfx_accepted_total{status="DUPLICATE"} now (process-wide: compare before/after)."""
    found = metrics.REGISTRY.get_sample_value("mes_cfx_accepted_total", {"status": "DUPLICATE"})
    return found or 0.0


@contextlib.asynccontextmanager
async def consuming(
    services: Services, url: str, address: str, sources: set[str]
) -> AsyncIterator[CfxConsumer]:
    """The consumer running as a gateway's ingest token for those machines."""
    secret = await make_token(services, "ingest", ",".join(sorted(sources)))
    actor = await token_actor(services.store, secret)

    async def unreadable(*args: Any) -> None:
        raise AssertionError(f"no body here is unreadable: {args}")

    consumer = CfxConsumer(
        AmqpLink(url, address, prefetch=5, timeout=5),
        services.cfx,
        unreadable,
        actor,
        max_body_bytes=1_000_000,
        backoff=Backoff(0.05, 0.2),
    )
    async with running(consumer):
        yield consumer
