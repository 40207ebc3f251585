"""The composition root: wires adapters into use cases. The app, the CLI and the tests use it."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.changes import LocalFeed, feed_for
from adapters.clock import SystemClock
from adapters.db import create_engine
from adapters.read_store import SqlReadStore
from adapters.repositories import VersionCache
from adapters.settings import Settings, flag
from adapters.units_of_measure import PintUnitsOfMeasure
from adapters.uow import SqlUnitOfWorkFactory
from domain.cfx.pairing import CfxPairing
from domain.cfx.receive import CfxReceiver
from domain.ingest.pipeline import IngestService
from domain.ingest.resolve import MappingCache
from domain.ports import Clock
from domain.usecases.bus import MessageBus
from domain.usecases.handlers import HANDLERS
from graphql_api.app import create_app


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    bus: MessageBus
    store: SqlReadStore
    ingest: IngestService
    #: committed changes for live subscriptions (PostgreSQL: LISTEN; SQLite: this process)
    feed: LocalFeed
    #: IPC-CFX envelopes, for `POST /cfx` and the AMQP consumer (domain/cfx/receive.py)
    cfx: CfxReceiver

    def app(self, auth_required: bool = True) -> Starlette:
        app = create_app(
            self.bus,
            self.store,
            self.settings.limits,
            self.ingest,
            plant_tz=self.settings.plant_tz,
            auth_required=auth_required,
            feed=self.feed,
            fast_execution=self.settings.fast_execution,
            background=self._background(),
            cfx=self.cfx,
        )
        if flag("MES_COUNT_SQL"):
            from graphql_api.sql_count import SqlCountMiddleware, count_statements_of

            count_statements_of(self.engine)
            app.add_middleware(SqlCountMiddleware)
        return app

    def _background(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """The jobs a server runs besides answering: the sweep of expired parked events."""
        interval = self.settings.park_sweep_interval_s
        if interval <= 0:
            return []
        from graphql_api.park_sweep import sweep_every

        ingest = self.ingest
        return [lambda: sweep_every(interval, self.engine, ingest)]

    async def close(self) -> None:
        await self.feed.aclose()
        await self.engine.dispose()


def bootstrap(
    settings: Settings, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> Services:
    engine = engine or create_engine(
        settings.database_url, settings.db_pool_size, pre_ping=settings.db_pre_ping
    )
    versions = VersionCache()
    feed = feed_for(engine.url.render_as_string(hide_password=False))
    uows = SqlUnitOfWorkFactory(engine, versions, feed)
    clock = clock or SystemClock()
    ingest = IngestService(
        uows, clock, settings.limits, MappingCache(), PintUnitsOfMeasure(), CfxPairing()
    )
    bus = MessageBus(
        uow_factory=uows,
        clock=clock,
        limits=settings.limits,
        handlers=HANDLERS,
        redriver=ingest.redriver,
    )
    store = SqlReadStore(engine, versions)
    return Services(
        settings=settings,
        engine=engine,
        bus=bus,
        store=store,
        ingest=ingest,
        feed=feed,
        cfx=CfxReceiver(ingest, uows, store, bus=bus),
    )


def app_from_env() -> Starlette:
    """The app of one server process when `mes serve --workers N` starts several: each builds
    its own engine and pool from the MES_* environment the parent process set."""
    from graphql_api.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(json=settings.log_json)
    services = bootstrap(settings)
    app = services.app(auth_required=os.environ.get("MES_AUTH", "1") != "0")
    tune_gc()
    return app


def tune_gc() -> None:
    """For a server process: what exists at start-up (modules, schema) leaves the collector's
    view, and young collections come every 50,000 allocations instead of 700 — a deep trace
    builds a few hundred thousand objects that live for one request (about 8% of its time).
    The older generations stay close behind (every 5 young and 5 middle collections, about
    every third deep trace): what requests in flight hold survives a young collection, and
    with (50, 100) that garbage waited hundreds of traces for a full one — peak RSS under
    eight concurrent deep traces 617–652 MB against 251 MB, at the same CPU per trace
    (interleaved servers, 360 traces each)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 5, 5)
