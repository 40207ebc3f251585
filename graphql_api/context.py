"""What every resolver gets: the actor and request id, the bus, the loaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as StrawberryInfo

from domain.ingest.pipeline import IngestService
from domain.ports import ReadStore
from domain.security import UNRESTRICTED, Principal
from domain.usecases.bus import Actor, Command, Limits, MessageBus
from graphql_api.loaders import Loaders

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


@dataclass
class Context:
    actor: Actor
    bus: MessageBus
    store: ReadStore
    loaders: Loaders
    limits: Limits
    ingest: IngestService
    request: Request | None = None
    #: the plant's time zone (MES_PLANT_TZ): production report days
    plant_tz: str = "UTC"
    #: the authenticated token (scopes, sources); unrestricted when auth is off
    principal: Principal = UNRESTRICTED
    #: the response under construction: status and headers an extension may set
    response: Response | None = None

    async def handle(self, cmd: Command) -> Any:
        return await self.bus.handle(cmd, self.actor)


Info = StrawberryInfo[Context, None]
