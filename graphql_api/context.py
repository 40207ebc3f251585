"""What every resolver gets: the actor and request id, the bus, the loaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as StrawberryInfo

from domain.actors import Actor
from domain.ingest.pipeline import IngestService
from domain.limits import Limits
from domain.ports import ChangeFeed, ReadStore
from domain.security import UNRESTRICTED, Principal
from domain.usecases.bus import Command, MessageBus
from graphql_api.auth import bearer_principal
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
    #: the response under construction: status and headers an extension may set (over
    #: WebSocket: the connection)
    response: Response | Any = None
    #: the committed changes live subscriptions read
    feed: ChangeFeed | None = None
    #: a WebSocket's connection_init payload (Strawberry sets it)
    connection_params: Any = None
    #: a WebSocket's connection (graphql_api/websocket.py LiveConnection)
    connection: Any = None
    #: the `Bearer <secret>` a WebSocket connected with (rechecked while subscriptions run)
    bearer: str = ""

    async def token_active(self) -> bool:
        """Whether the token this context acts by is still active (auth off: always)."""
        if self.principal.token_id is None:
            return True
        return await bearer_principal(self.store, self.bearer) is not None

    async def handle(self, cmd: Command) -> Any:
        return await self.bus.handle(cmd, self.actor)


Info = StrawberryInfo[Context, None]
