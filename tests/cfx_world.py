"""A database of its own with the demo's IPC-CFX line set up natively (stations with their
handles, `{"format": "CFX"}` steps), per backend: for the tests that send the published
examples as machines send them (POST /cfx, AMQP 1.0); and the `World` that posts them."""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from domain import master as dm
from domain.actors import Actor
from domain.enums import StationType
from domain.limits import Limits
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.demo.cfx import LINE, cfx_factory
from tests.conftest import ApiClient
from tests.pg import pg_admin
from tests.tokens import token

CFX = Path(__file__).parent / "fixtures" / "cfx"
LOADER = "Vendor7.Loader.Machine08"
TI = "CFX.Production.TestAndInspection"
EVENT = """query($id: ID!) { ingestEvent(id: $id) {
  id eventType sn snList stepNo stationCode sourceSystem dedupeKey occurredAt normalized
  payload dataValueCount
  tracks { stepNo result operatorId unit { sn }
    dataValues { specName dataType valueNumber valueText valueUnit judge
      originalValue originalUnit lowLimit highLimit expected limitUnit } } } }"""


def envelope(name: str) -> dict[str, Any]:
    return dict(json.loads((CFX / f"{name}.json").read_text()))


def board_2_again(name: str) -> dict[str, Any]:
    """Ours, not the SDK's: board 2 inspected again, passing, under a UniqueID of its own (the
    SDK fails it at SPI and at AOI; the steps allow one re-inspection)."""
    env = copy.deepcopy(envelope(name))
    board = env["MessageBody"]["InspectedUnits"][1]
    board["OverallResult"] = "Passed"
    env["MessageBody"]["InspectedUnits"] = [board]
    env["UniqueID"] = f"{env['UniqueID']}-again"
    return env


@dataclass
class World:
    api: ApiClient
    services: Services
    tokens: dict[str, str] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def bearer(self, source: str) -> str:
        if source not in self.tokens:
            self.tokens[source] = await token(self.services, "ingest", source)
        return self.tokens[source]

    async def post(
        self, body: bytes, source: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {await self.bearer(source)}", **(headers or {})}
        return await self.api.client.post("/cfx", content=body, headers=sent)

    async def send(self, env: Any) -> dict[str, Any]:
        """One envelope, as its machine sends it; its one result."""
        response = await self.post(json.dumps(env).encode(), env["Source"])
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert len(results) == 1
        return dict(results[0])

    async def example(self, name: str) -> dict[str, Any]:
        """The published example as published, sent once (tests share the earlier steps)."""
        if name not in self.answers:
            self.answers[name] = await self.send(envelope(name))
        return self.answers[name]

    async def event(self, result: dict[str, Any]) -> dict[str, Any]:
        assert result["status"] == "ACCEPTED", result["error"]
        return dict((await self.api.gql(EVENT, {"id": result["eventId"]}))["ingestEvent"])

    async def reinspect_board_2(self, name: str) -> None:
        env = board_2_again(name)
        if env["UniqueID"] not in self.answers:
            self.answers[env["UniqueID"]] = await self.send(env)
        assert self.answers[env["UniqueID"]]["status"] == "ACCEPTED"

    async def at_aoi(self) -> None:
        await self.example(f"{TI}.UnitsInspected.spi")
        await self.reinspect_board_2(f"{TI}.UnitsInspected.spi")

    async def at_ict(self) -> None:
        await self.at_aoi()
        await self.example(f"{TI}.UnitsInspected")
        await self.reinspect_board_2(f"{TI}.UnitsInspected")


@contextlib.asynccontextmanager
async def native_cfx_services(
    backend: str, folder: Path, pg_url: str | None, limits: Limits | None = None
) -> AsyncIterator[Services]:
    """The services over a new database (SQLite in `folder`, or a PostgreSQL database made
    beside `pg_url`'s and dropped after) holding the demo's CFX line, natively."""
    name = f"mes_cfx_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'cfx.db'}"
    else:
        assert pg_url is not None
        pg_admin(f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(database=name).render_as_string(False)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        services = bootstrap(Settings(database_url=url, limits=limits or Limits()), engine=engine)
        actor = Actor(name="test", request_id="cfx-world")

        async def do(cmd: Any) -> Any:
            return await services.bus.handle(cmd, actor)

        await cfx_factory(do, services.store, native=True)
        yield services
    finally:
        await engine.dispose()
        if backend != "sqlite":
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def loader_and_modules(services: Services) -> None:
    """The loader of the published UnitsLoaded and the two modules it loads (a run of ours)."""
    actor = Actor(name="test", request_id="cfx-loader")

    async def do(cmd: Any) -> Any:
        return await services.bus.handle(cmd, actor)

    await do(md.UpsertStationGroup(dm.StationGroup("CFX-LOADERS", "CFX-LOADERS")))
    await do(
        md.UpsertStation(
            dm.Station("CFX-LOADER-08", "Loader 8", StationType.BATCH, LINE, "CFX-LOADERS", LOADER)
        )
    )
    await do(prod.ReceiveWorkOrder("WO-3099", "BRD-320", 2, "CFX-COAT"))
    await do(prod.ReleaseWorkOrder("WO-3099"))
    await do(prod.CreateRun("WO-3099", LINE, 2, run_no="WO-3099-01", shift_code="A"))
    await do(prod.AuthorizeRun("WO-3099-01"))
    await do(prod.RegisterUnits("WO-3099-01", sns=("MODULE1", "MODULE2")))
