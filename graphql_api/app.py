"""The Starlette app: /graphql (GraphiQL in a browser), /healthz, /readyz, /metrics, and
/static/graphiql/… (the files the GraphiQL page loads)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import orjson
import structlog
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from adapters.db import is_unavailable
from domain.actors import Actor
from domain.cfx.receive import CfxReceiver
from domain.ingest.pipeline import IngestService
from domain.limits import Limits
from domain.ports import ChangeFeed, ReadStore
from domain.security import UNRESTRICTED, Principal
from domain.security import Scope as TokenScope
from domain.usecases.bus import MessageBus
from graphql_api.auth import AuthMiddleware, bearer_principal, connection_bearer
from graphql_api.cfx_http import CfxEndpoint
from graphql_api.context import Context
from graphql_api.errors import internal_error_response, unavailable_response
from graphql_api.graphiql import ASSETS_URL_PATH, AssetFiles, page_response
from graphql_api.limits import BodyLimitMiddleware
from graphql_api.loaders import Loaders
from graphql_api.metrics import metrics_endpoint
from graphql_api.schema import build_schema
from graphql_api.websocket import LiveConnection, TextWebSocketAdapter

log = structlog.get_logger("mes.http")
REQUEST_ID_HEADER = "x-request-id"
CLIENT_REQUEST_ID_HEADER = "x-client-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")


class RequestIdMiddleware:
    """Every request gets the server's own id, whatever the client sends: it is echoed in
    `X-Request-ID`, bound to every log line, and written to the audit trail. A client's sane
    `X-Request-ID` is kept beside it (`client_request_id` in the logs and the audit trail) and
    echoed back in `X-Client-Request-ID`: a client cannot make its requests look like
    another's, nor the server's id ambiguous."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = (
            dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        )
        request_id = uuid.uuid4().hex
        client_request_id = sent if _VALID_REQUEST_ID.match(sent) else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_request_id"] = client_request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if client_request_id is not None:
            structlog.contextvars.bind_contextvars(client_request_id=client_request_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.append(REQUEST_ID_HEADER, request_id)
                if client_request_id is not None:
                    headers.append(CLIENT_REQUEST_ID_HEADER, client_request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as err:
            # outside GraphQL execution (middleware, a token lookup): same rules as ErrorMasking
            if is_unavailable(err):
                log.warning("http.database_unavailable", error=type(err).__name__)
                status, headers, body = unavailable_response(request_id)
            else:
                log.error("http.unexpected_error", exc_info=err)
                status, headers, body = internal_error_response(request_id)
            if started:
                raise
            await send_with_id(
                {"type": "http.response.start", "status": status, "headers": headers}
            )
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            structlog.contextvars.unbind_contextvars("request_id", "client_request_id")


def principal_of(request: Request) -> Principal:
    """Set by AuthMiddleware; a request that reached here without one is the GraphiQL page's."""
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else Principal("anonymous", frozenset())


def actor_of(request: Request, principal: Principal) -> Actor:
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    return Actor.of(principal, request_id, getattr(request.state, "client_request_id", None))


class MesGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = LiveConnection

    def __init__(
        self,
        bus: MessageBus,
        store: ReadStore,
        limits: Limits,
        ingest: IngestService,
        plant_tz: str = "UTC",
        feed: ChangeFeed | None = None,
        auth_required: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            # live events: graphql-transport-ws only (no legacy graphql-ws, no HTTP streaming)
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=limits.max_subscriptions_per_connection,
            # a browser page on another origin must be one MES_CORS_ORIGINS lists
            allowed_origins=limits.cors_origins,
            connection_init_wait_timeout=timedelta(seconds=10),
            **kwargs,
        )
        self.plant_tz = plant_tz
        self.bus = bus
        self.store = store
        self.limits = limits
        self.ingest = ingest
        self.feed = feed
        self.auth_required = auth_required

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The token of a WebSocket comes in its connection_init payload (AuthMiddleware lets
        the upgrade through without a header): without a valid one that holds the `read`
        scope, the connection is closed with 4403 Forbidden before anything runs."""
        if not self.auth_required:
            context.principal = UNRESTRICTED
        else:
            bearer = connection_bearer(context.connection_params)
            principal = await bearer_principal(self.store, bearer) if bearer else None
            if principal is None or not principal.allows(TokenScope.READ):
                log.info(
                    "subscription.refused",
                    reason="no token" if not bearer else "bad token or no read scope",
                )
                raise ConnectionRejectionError()
            context.principal = principal
            context.bearer = bearer
        context.actor = replace(
            context.actor,
            name=context.principal.name,
            token_name=context.principal.name if context.principal.from_token else None,
            token_id=context.principal.token_id,
        )
        return cast(UnsetType, UNSET)  # accepted, no payload in the ack

    def encode_json(self, data: object) -> str | bytes:
        """orjson (a deep trace is hundreds of kB); the standard library for what orjson
        refuses (integers past 64 bits in stored payloads)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def should_render_graphql_ide(self, request: Any) -> bool:
        """A browser's GET (Accept: text/html) gets the GraphiQL page and nothing else, whatever
        its query string: it carries no token (AuthMiddleware lets it through for the page), so
        it must run nothing. GraphiQL's own requests are POSTs with the token."""
        return bool(request.method == "GET" and "text/html" in request.headers.get("accept", ""))

    async def render_graphql_ide(self, request: Any) -> Response:
        """Our own page (graphql_api/static/graphiql.html), whole from the service: it asks for
        the token, or reads it from `#token=…`."""
        return page_response()

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation within MES_REQUEST_TIMEOUT_S: past it the operation is cancelled (its
        pooled connections go back, an open transaction rolls back) and the answer is HTTP 503
        REQUEST_TIMEOUT."""
        if getattr(request.state, "principal", "") is None:  # the GraphiQL page's request
            raise HTTPException(401, "a valid API token is required")
        try:
            return await self._execute_in_time(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as err:
            if err.reason.startswith("subscriptions are not allowed"):
                raise HTTPException(
                    400, "subscriptions are served over WebSocket (graphql-transport-ws)"
                ) from err
            raise

    async def _execute_in_time(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        seconds = self.limits.request_timeout_s
        if seconds <= 0:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            if not deadline.expired():
                raise
        log.warning("graphql.request_timeout", seconds=seconds)
        sub_response.status_code = 503
        return ExecutionResult(
            data=None,
            errors=[
                GraphQLError(
                    f"the request took longer than {seconds:g} s (MES_REQUEST_TIMEOUT_S) and "
                    f"was stopped (request id {context.actor.request_id}); a mutation's "
                    "effects up to then may have been committed: check before resending "
                    "(ingest is idempotent by dedupeKey)",
                    extensions={
                        "code": "REQUEST_TIMEOUT",
                        "timeoutSeconds": seconds,
                        "requestId": context.actor.request_id,
                    },
                )
            ],
        )

    def decode_json(self, data: str | bytes) -> object:
        """A body nested past the parser's recursion (thousands of levels) is a bad request,
        not an internal error."""
        try:
            return json.loads(data)
        except RecursionError as err:
            raise HTTPException(400, "the request body is nested too deeply") from err

    async def get_context(self, request: Any, response: Any = None) -> Context:
        principal = principal_of(request)
        return Context(
            actor=actor_of(request, principal),
            principal=principal,
            bus=self.bus,
            store=self.store,
            loaders=Loaders(self.store),
            limits=self.limits,
            ingest=self.ingest,
            request=request,
            response=response,
            plant_tz=self.plant_tz,
            feed=self.feed,
        )


def create_app(
    bus: MessageBus,
    store: ReadStore,
    limits: Limits,
    ingest: IngestService,
    max_depth: int = 15,
    plant_tz: str = "UTC",
    auth_required: bool = True,
    feed: ChangeFeed | None = None,
    fast_execution: bool = True,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    cfx: CfxReceiver | None = None,
) -> Starlette:
    """The app; `background` jobs run from its start-up to its shutdown (the sweep of parked
    events: graphql_api/park_sweep.py)."""
    graphql = MesGraphQL(
        bus=bus,
        store=store,
        limits=limits,
        ingest=ingest,
        plant_tz=plant_tz,
        feed=feed,
        auth_required=auth_required,
        schema=build_schema(limits, fast_execution),
        graphql_ide="graphiql",
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await store.ping()
        except Exception as err:  # any failure to reach the database means "not ready"
            log.warning("readyz.database_unreachable", error=type(err).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        jobs = [asyncio.create_task(job()) for job in background]
        yield
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        if feed is not None:
            await feed.aclose()  # the listening connection of live events

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # live events (subscriptions.py)
            # IPC-CFX envelopes (issue 21; graphql_api/cfx_http.py)
            Route(
                "/cfx",
                CfxEndpoint(
                    cfx or CfxReceiver(ingest, ingest.uow_factory, store), limits, actor_of
                ).handle,
                methods=["POST"],
            ),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            # public files (AuthMiddleware guards /graphql only), versioned paths cached a year
            Mount(ASSETS_URL_PATH, GZipMiddleware(AssetFiles(), minimum_size=1024)),
        ],
    )
    # the last added is outermost: the token is checked before the body is read, so an
    # anonymous request is refused without a byte of its body buffered
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.add_middleware(AuthMiddleware, store=store, required=auth_required)
    if limits.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(limits.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=[REQUEST_ID_HEADER, CLIENT_REQUEST_ID_HEADER],
        )
    app.add_middleware(RequestIdMiddleware)  # outermost: every response carries the id
    return app
