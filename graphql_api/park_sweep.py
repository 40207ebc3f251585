"""The sweep of expired parked events inside `mes serve` (issue 20 item 3): every
MES_PARK_SWEEP_INTERVAL seconds, by one process at a time."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sweep_lock import exclusive
from domain.ports import Clock, UnitOfWorkFactory
from domain.usecases.parking import expire_parked
from graphql_api.metrics import PARK_EXPIRED

log = structlog.get_logger("mes.parking")

#: the advisory lock's name: one sweeping process per database
SWEEP_LOCK = "mes-park-sweep"


async def sweep_once(
    engine: AsyncEngine, uow_factory: UnitOfWorkFactory, clock: Clock
) -> int | None:
    """Expire what is due, unless another process is sweeping (None)."""
    async with exclusive(engine, SWEEP_LOCK) as got:
        if not got:
            return None
        done = await expire_parked(uow_factory, clock)
    if done:
        PARK_EXPIRED.inc(done)
        log.info("parking.expired", count=done)
    return done


async def sweep_every(
    interval_s: float, engine: AsyncEngine, uow_factory: UnitOfWorkFactory, clock: Clock
) -> None:
    """Sweep every `interval_s` seconds until cancelled (the app's shutdown); a failed round
    (the database away) is logged and the next one tries again."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await sweep_once(engine, uow_factory, clock)
        except Exception as err:  # the loop must outlive a database outage
            log.warning("parking.sweep_failed", error=type(err).__name__, exc_info=err)
