"""Authentication (bearer tokens) and authorization (a scope per root field).

Every root field of the schema has exactly one scope in FIELD_SCOPES (a test makes sure no
field is left out); `admin` allows everything. Nested fields need nothing more: what a root
field returns, its scope may read.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from domain.ports import ReadStore
from domain.security import UNRESTRICTED, Principal, Scope, lookup_of, verify

log = structlog.get_logger("mes.auth")

READ, INGEST, EXECUTE, CONFIGURE, ADMIN = (
    Scope.READ,
    Scope.INGEST,
    Scope.EXECUTE,
    Scope.CONFIGURE,
    Scope.ADMIN,
)

FIELD_SCOPES: dict[tuple[str, str], Scope] = {
    # queries
    **{
        ("Query", name): READ
        for name in (
            "line",
            "station",
            "operation",
            "routing",
            "routeVersion",
            "workOrder",
            "run",
            "unit",
            "panel",
            "carrier",
            "ingestEvent",
            "validateUnits",
            "ingestEvents",
            "ingestRejections",
            "parkedEvents",
            "productionReport",
            "deviceDataRecords",
            "holds",
        )
    },
    ("Query", "auditEvents"): ADMIN,
    # master data, work orders, runs, units
    **{
        ("Mutation", name): CONFIGURE
        for name in (
            "upsertLine",
            "upsertStationGroup",
            "upsertStation",
            "upsertOperation",
            "upsertDataCollectionSpec",
            "upsertRouting",
            "setExecutionConfig",
            "compileRouting",
            "receiveWorkOrder",
            "releaseWorkOrder",
            "createRun",
            "authorizeRun",
            "revokeRunAuthorization",
            "closeRun",
            "closeWorkOrder",
            "setShiftCalendar",
            "registerUnits",
        )
    },
    # machines and gateways
    **{
        ("Mutation", name): INGEST
        for name in (
            "ingestEvent",
            "ingestEvents",
            "recordDeviceData",
            "recordProductionCounts",
            "loadCarrier",
            "unloadCarrier",
        )
    },
    # operators and quality
    **{
        ("Mutation", name): EXECUTE
        for name in ("trackIn", "trackOut", "disposeUnit", "holdUnits", "releaseHold")
    },
    ("Mutation", "replayRejection"): ADMIN,
    # live events (over WebSocket; the token comes in connection_init)
    ("Subscription", "ingestEvents"): READ,
    ("Subscription", "unitUpdated"): READ,
}


class ScopePermission(BasePermission):
    """Needs the field's scope (or admin); else a FORBIDDEN error on that field."""

    scope: Scope = ADMIN
    error_extensions = {"code": "FORBIDDEN"}

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"this needs the {self.scope.value} scope"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        principal: Principal = info.context.principal
        return principal.allows(self.scope)


_PERMISSIONS: dict[Scope, type[ScopePermission]] = {
    scope: type(f"Requires{scope.value.title()}", (ScopePermission,), {"scope": scope})
    for scope in Scope
}


def guard(type_: Any, type_name: str) -> None:
    """Give every root field of a Strawberry type the permission of its scope."""
    for field in type_.__strawberry_definition__.fields:
        scope = FIELD_SCOPES.get((type_name, field.graphql_name or _camel(field.python_name)))
        if scope is None:
            raise RuntimeError(f"{type_name}.{field.python_name} has no scope in FIELD_SCOPES")
        permission = _PERMISSIONS[scope]
        if permission in field.permission_classes:
            continue  # guarded already (the module may be imported twice in tests)
        field.permission_classes = [permission]
        # Strawberry turns permission classes into an extension when a field is defined;
        # a field guarded afterwards needs that extension added the same way
        field.extensions.append(PermissionExtension([permission()], use_directives=False))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _error_body(message: str, code: str) -> bytes:
    return json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()


def _route_path(scope: AsgiScope) -> str:
    """The path inside this app: mounted under a prefix (a parent app's Mount, a proxy's
    root_path), scope["path"] still starts with the prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class AuthMiddleware:
    """Every GraphQL request needs `Authorization: Bearer <secret>` (401 UNAUTHENTICATED
    otherwise); the GraphiQL page, /healthz, /readyz and /metrics are open. With auth off
    (`mes serve --no-auth`, loopback only) every caller is unrestricted."""

    def __init__(self, app: ASGIApp, store: ReadStore, required: bool = True):
        self.app = app
        self.store = store
        self.required = required

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        path = _route_path(scope)
        if scope["type"] != "http" or not (path.startswith("/graphql") or path == "/cfx"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        state = scope.setdefault("state", {})
        if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
            state["principal"] = None  # the GraphiQL page itself; its requests need a token
            await self.app(scope, receive, send)
            return
        if not self.required:
            state["principal"] = UNRESTRICTED
            await self.app(scope, receive, send)
            return
        principal = await self._principal(headers.get("authorization", ""))
        if principal is None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="mes"'),
                    ],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": _error_body(
                        "a valid API token is required: send Authorization: Bearer <secret>",
                        "UNAUTHENTICATED",
                    ),
                }
            )
            return
        state["principal"] = principal
        await self.app(scope, receive, send)

    async def _principal(self, header: str) -> Principal | None:
        return await bearer_principal(self.store, header)


async def bearer_principal(store: ReadStore, header: str) -> Principal | None:
    """The principal of `Bearer <secret>`, or None (no such active token, a wrong secret)."""
    kind, _, secret = header.partition(" ")
    secret = secret.strip()
    if kind.lower() != "bearer" or not secret or len(secret) > 200:
        return None
    lookup = lookup_of(secret)
    token = await store.token_by_lookup(lookup) if lookup else None
    principal = verify(token, secret)
    if principal is None:
        log.info("auth.refused", token_known=token is not None)
    return principal


def connection_bearer(params: object) -> str:
    """The `Bearer <secret>` of a WebSocket's connection_init payload: browsers cannot set
    headers on a WebSocket, so the token travels there, as {"Authorization": "Bearer <secret>"}
    or {"token": "<secret>"}."""
    if not isinstance(params, dict):
        return ""
    for key in ("Authorization", "authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return value
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else ""
