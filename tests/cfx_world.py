"""A database of its own with the demo's IPC-CFX line set up natively (stations with their
handles, `{"format": "CFX"}` steps), per backend: for the tests that send the published
examples as machines send them (POST /cfx, AMQP 1.0); and the `World` that posts them and
reads back what they did."""

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
import pytest

from adapters.settings import Settings
from domain import master as dm
from domain.actors import Actor
from domain.device_records import ProductionCountRecord
from domain.enums import StationType
from domain.limits import Limits
from domain.panels import PanelSpec
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services, bootstrap
from graphql_api.demo.cfx import LINE, cfx_factory
from tests.conftest import ApiClient, make_token
from tests.pg import fresh_database
from tests.tokens import token

FIXTURES = Path(__file__).parent / "fixtures"
CFX = FIXTURES / "cfx"
LOADER = "Vendor7.Loader.Machine08"
TI = "CFX.Production.TestAndInspection"
EVENT = """query($id: ID!) { ingestEvent(id: $id) {
  id eventType sn snList stepNo stationCode sourceSystem dedupeKey occurredAt normalized
  payload dataValueCount
  tracks { stepNo result operatorId unit { sn }
    dataValues { specName dataType valueNumber valueText valueUnit judge
      originalValue originalUnit lowLimit highLimit expected limitUnit } } } }"""
UNIT = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo result inAt outAt }
  dispositions { action reason fromStatus toStatus } ingestEvents { id eventType } } }"""


def envelope(name: str, folder: str = "cfx") -> dict[str, Any]:
    """A published example (`cfx`), or one of ours (`cfx-own`), as stored."""
    return dict(json.loads((FIXTURES / folder / f"{name}.json").read_text()))


def on_panel(name: str, panel: str, tx: str | None = None) -> dict[str, Any]:
    """Ours: the published example under a UniqueID of its own, its Units naming `panel` at the
    published positions, its TransactionID `tx` when given."""
    env = copy.deepcopy(envelope(name))
    env["UniqueID"] = str(uuid.uuid4())
    body = env["MessageBody"]
    for unit in body.get("Units") or ():
        unit["UnitIdentifier"] = panel
    if tx is not None:
        body["TransactionID"] = tx
    return env


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
    """The CFX line over HTTP: each machine with its own token (bound to its handle), the
    published examples sent once, what a test reads back."""

    api: ApiClient
    services: Services
    tokens: dict[str, str] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def bearer(self, source: str) -> str:
        if source not in self.tokens:
            self.tokens[source] = await token(self.services, "ingest", source)
        return self.tokens[source]

    async def post(
        self,
        body: bytes,
        source: str,
        headers: dict[str, str] | None = None,
        bearer: str | None = None,
    ) -> httpx.Response:
        """The body as `source`'s machine posts it (its token, unless `bearer` is given)."""
        secret = bearer or await self.bearer(source)
        sent = {"Authorization": f"Bearer {secret}", **(headers or {})}
        return await self.api.client.post("/cfx", content=body, headers=sent)

    async def send(self, env: Any, bearer: str | None = None) -> dict[str, Any]:
        """One envelope, as its machine sends it (or with another token); its one result."""
        response = await self.post(json.dumps(env).encode(), env["Source"], bearer=bearer)
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        return dict(result)

    async def example(self, name: str) -> dict[str, Any]:
        """The published example as published, sent once (tests share the earlier steps)."""
        if name not in self.answers:
            self.answers[name] = await self.send(envelope(name))
        return self.answers[name]

    async def event(self, result: dict[str, Any]) -> dict[str, Any]:
        assert result["status"] == "ACCEPTED", result["error"]
        return dict((await self.api.gql(EVENT, {"id": result["eventId"]}))["ingestEvent"])

    async def unit(self, sn: str) -> dict[str, Any]:
        return dict((await self.api.gql(UNIT, {"sn": sn}))["unit"])

    async def boards(self, panel: str) -> dict[int, str]:
        """The panel's boards by position."""
        async with self.services.ingest.uow_factory() as uow:
            return {b.position or 0: b.sn for b in await uow.units.boards_of_panels([panel])}

    async def counts(self, event_id: str) -> ProductionCountRecord | None:
        async with self.services.ingest.uow_factory() as uow:
            return await uow.production_counts.get_by_event_id(event_id)

    async def panel_on(self, routing: str, product: str) -> str:
        """A fresh 2-board panel in a run of its own on that routing (boards `{panel}-1`,
        `-2`)."""
        tag = uuid.uuid4().hex[:8].upper()
        panel, wo, run = f"PNL-{tag}", f"WO-{tag}", f"RUN-{tag}"
        actor = Actor(name="test", request_id="cfx-world")
        for cmd in (
            prod.ReceiveWorkOrder(wo, product, 2, routing),
            prod.ReleaseWorkOrder(wo),
            prod.CreateRun(wo, LINE, 2, run_no=run, shift_code="A"),
            prod.AuthorizeRun(run),
            prod.RegisterUnits(run, panels=(PanelSpec(panel, 2),)),
        ):
            await self.services.bus.handle(cmd, actor)
        return panel

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
    async with fresh_database(backend, folder, pg_url, "mes_cfx") as (url, engine):
        services = bootstrap(Settings(database_url=url, limits=limits or Limits()), engine=engine)
        actor = Actor(name="test", request_id="cfx-world")

        async def do(cmd: Any) -> Any:
            return await services.bus.handle(cmd, actor)

        await cfx_factory(do, services.store, native=True)
        yield services


@contextlib.asynccontextmanager
async def cfx_world(
    request: pytest.FixtureRequest,
    backend: str,
    folder: Path,
    limits: Limits | None = None,
    loader: bool = False,
) -> AsyncIterator[World]:
    """The `World` of a module: the native CFX line in a database of its own
    (`native_cfx_services`, with the loader and its modules when asked), its app in process,
    an admin client for what the tests read back."""
    pg_url = request.getfixturevalue("pg_url") if backend != "sqlite" else None
    async with native_cfx_services(backend, folder, pg_url, limits) as services:
        if loader:
            await loader_and_modules(services)
        transport = httpx.ASGITransport(app=services.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client:
            yield World(ApiClient(client, token=await make_token(services)), services)


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
