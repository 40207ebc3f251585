"""The sweep of parked events inside `mes serve` (issue 20 item 3): every
MES_PARK_SWEEP_INTERVAL seconds, by one process at a time, what waits for a recorded start is
re-driven (issue 21) and what is due expires."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sweep_lock import exclusive
from domain.ingest.pipeline import IngestService
from domain.usecases.parking import expire_parked, redrive_started
from graphql_api.metrics import INGEST_REDRIVEN, PARK_EXPIRED

log = structlog.get_logger("mes.parking")

#: the advisory lock's name: one sweeping process per database
SWEEP_LOCK = "mes-park-sweep"


async def sweep_once(engine: AsyncEngine, ingest: IngestService) -> int | None:
    """Re-drive what waits for a recorded start, expire what is due (how many), unless another
    process is sweeping (None)."""
    async with exclusive(engine, SWEEP_LOCK) as got:
        if not got:
            return None
        redriven = await redrive_started(ingest)
        done = await expire_parked(ingest.uow_factory, ingest.clock)
    if redriven:
        INGEST_REDRIVEN.inc(redriven)
        log.info("parking.redriven_for_start", count=redriven)
    if done:
        PARK_EXPIRED.inc(done)
        log.info("parking.expired", count=done)
    return done


async def sweep_every(interval_s: float, engine: AsyncEngine, ingest: IngestService) -> None:
    """Sweep every `interval_s` seconds until cancelled (the app's shutdown); a failed round
    (the database away) is logged and the next one tries again."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await sweep_once(engine, ingest)
        except Exception as err:  # the loop must outlive a database outage
            log.warning("parking.sweep_failed", error=type(err).__name__, exc_info=err)
