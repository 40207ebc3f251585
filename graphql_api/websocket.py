"""The WebSocket side of live events: graphql-transport-ws with text frames and flow control.

Why flow control here: the ASGI server (uvicorn) never makes a WebSocket send wait for a
client that does not read — it buffers (measured: 650 MB accepted in 3 s for a client that
read nothing). So the server pings after half of MES_SUBSCRIPTION_QUEUE `next` messages; a
client past MES_SUBSCRIPTION_QUEUE messages beyond its last answered ping is too slow and its
connection is closed with 4008. Clients answer pings by the protocol (graphql-ws does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import structlog
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message, PongMessage

from graphql_api.context import Context
from graphql_api.metrics import SUBSCRIBERS_DROPPED

log = structlog.get_logger("mes.subscriptions")

#: the close code of a connection dropped for a client that could not keep up
TOO_SLOW = 4008
#: a revoked token: the protocol's Forbidden
FORBIDDEN = 4403


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Text frames, as graphql-transport-ws requires (the view's orjson encoder gives bytes,
    which Strawberry would send as binary frames)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """One connection: its sends, the pings that pace them, and one way to close it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context.connection = self
        self.limit = max(2, self.context.limits.subscription_queue)
        self.sent = 0  # `next` messages sent
        self.acked = 0  # of them, those the client had read when it answered a ping
        self.ping_at: int | None = None  # `sent` when the unanswered ping went out
        self.closing = False

    async def send_message(self, message: Message) -> None:
        if self.closing:
            return  # nothing after the close frame
        await super().send_message(message)
        if message["type"] != "next":
            return
        self.sent += 1
        waiting = self.sent - self.acked
        if waiting > self.limit:
            await self.too_slow(f"more than {self.limit} events unanswered (answer pings)")
        elif self.ping_at is None and waiting >= self.limit // 2:
            self.ping_at = self.sent
            await super().send_message({"type": "ping"})

    async def handle_pong(self, message: PongMessage) -> None:
        if self.ping_at is not None:
            self.acked, self.ping_at = self.ping_at, None

    async def too_slow(self, why: str) -> None:
        """Drop a client that cannot keep up (log line, metric, close code 4008)."""
        if self.closing:
            return
        SUBSCRIBERS_DROPPED.inc()
        log.warning(
            "subscription.too_slow",
            why=why,
            actor=self.context.actor.name,
            request_id=self.context.actor.request_id,
        )
        await self.close(TOO_SLOW, f"too slow: {why}")

    async def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        ws = getattr(self.websocket, "ws", None)
        if ws is None or ws.application_state is WebSocketState.CONNECTED:
            await self.websocket.close(code=code, reason=reason)
