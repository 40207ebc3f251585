"""Many stations given one CFX handle at once (`upsertStation` through the bus, each upsert in
its own SQL unit of work): the handle is locked before it is checked (`stations.lock_handle`),
so exactly one station gets it and every other upsert is refused VALIDATION_FAILED naming the
holder, as if it had come second; never an IntegrityError from the handle's unique index (an
internal error to the client), never a half-written station.

PostgreSQL only: it really overlaps the upserts, while SQLite serializes writers (BEGIN
IMMEDIATE), so there the check always sees the earlier writer's commit (the sequential refusal
is tested in tests/api/test_cfx_http.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from adapters import tables as t
from domain.enums import StationType
from domain.errors import DomainError, ErrorCode
from domain.master import Station
from domain.usecases.master_data import UpsertStation
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.ingest_builders import ACTOR
from tests.races import both, rounds, unexpected

#: upserts per round, each of its own station, all with one handle
STATIONS = 10


@pytest.mark.postgres_only
async def test_one_handle_given_to_many_stations_at_once_goes_to_one_of_them(
    services: Services,
) -> None:
    internal: list[BaseException] = []  # the unique index's IntegrityError, a deadlock…
    wrong: list[Any] = []
    sent: list[str] = []  # every station code upserted
    handles: dict[str, str] = {}  # each round's holder and its handle
    for _ in range(rounds(services)):
        tag = unique("HR")
        handle = f"{tag}.Placer.Machine01"
        codes = [f"{tag}-S{i}" for i in range(STATIONS)]
        sent += codes
        results = await both(
            *(
                services.bus.handle(
                    UpsertStation(Station(c, "Placer", StationType.AUTO, cfx_handle=handle)),
                    ACTOR,
                )
                for c in codes
            )
        )
        internal += unexpected(results)
        holders = [r.code for r in results if isinstance(r, Station)]
        if len(holders) != 1:
            wrong.append(holders)
            continue
        handles[holders[0]] = handle
        details = {"field": "cfxHandle", "stationCode": holders[0]}
        wrong += [
            r
            for r in results
            if isinstance(r, DomainError)
            and (r.code, r.details) != (ErrorCode.VALIDATION_FAILED, details)
        ]
    assert not internal, [f"{len(internal)} of {len(sent)} upserts failed", *internal[:3]]
    assert not wrong, wrong[:3]
    # in the database: each round's holder with the handle, nothing of the refused stations
    async with services.engine.connect() as conn:
        found = await conn.execute(
            select(t.station.c.code, t.station.c.cfx_handle).where(t.station.c.code.in_(sent))
        )
        stored = {r.code: r.cfx_handle for r in found}
    assert stored == handles
