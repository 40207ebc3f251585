"""Top-level GraphQL errors: what a client may see, and what only the log sees.

Three kinds reach a response's `errors`:

- request errors (syntax, validation, limits, a bad cursor or `first`, a missing scope) pass
  as they are: the client can fix them;
- "the database cannot serve this now" (a lost connection, a pool timeout, a shutdown) becomes
  `extensions.code = SERVICE_UNAVAILABLE` with `retryable: true`, and the HTTP status is 503 with
  `Retry-After`: sending the same request again is safe (ingest is idempotent by dedupeKey);
- anything else is a bug: the client gets "Internal error" with the request id, the log gets
  the whole exception with the same id.

Every error of a document that parses leaves with an `extensions.code`: a request error
without one of its own is GRAPHQL_VALIDATION_FAILED (the document does not validate against
the schema) or BAD_USER_INPUT (its variables do not fit their types).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import structlog
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from adapters.db import is_unavailable

log = structlog.get_logger("mes.graphql")

RETRY_AFTER_SECONDS = 1


class BadInput(ValueError):
    """A request error found by a resolver (a malformed cursor, `first` out of range, a list
    over its limit): shown to the client as it is, with `extensions.code = BAD_USER_INPUT`."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT"):
        super().__init__(message)
        self.code = code


def unavailable_message(request_id: str) -> str:
    return f"The database is unavailable; retry the same request (request id {request_id})."


def internal_message(request_id: str) -> str:
    return f"Internal error (request id {request_id})."


def _body(message: str, extensions: dict[str, Any]) -> bytes:
    return json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": extensions}]}
    ).encode()


Headers = list[tuple[bytes, bytes]]
JSON_CONTENT = (b"content-type", b"application/json")


def unavailable_response(request_id: str) -> tuple[int, Headers, bytes]:
    """For a request that failed before GraphQL execution (e.g. its token lookup)."""
    extensions = {"code": "SERVICE_UNAVAILABLE", "retryable": True, "requestId": request_id}
    headers = [JSON_CONTENT, (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
    return 503, headers, _body(unavailable_message(request_id), extensions)


def internal_error_response(request_id: str) -> tuple[int, Headers, bytes]:
    extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    return 500, [JSON_CONTENT], _body(internal_message(request_id), extensions)


def _request_id(context: Any) -> str:
    actor = getattr(context, "actor", None)
    return str(getattr(actor, "request_id", None) or "-")


def _replace(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def request_error_code(error: GraphQLError, executing: bool) -> str:
    """The code of a request error that carries none: where it was found says what it is."""
    if isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    ):
        return "GRAPHQL_PARSE_FAILED"
    if not executing:
        return "GRAPHQL_VALIDATION_FAILED"
    # graphql-core coerces the variables when execution starts: an error there, before any
    # field ran (no path), is the variables' fault; one on a field (a null where the schema
    # promises a value) is ours
    return "INTERNAL_SERVER_ERROR" if error.path else "BAD_USER_INPUT"


def code_of(error: GraphQLError, executing: bool) -> str:
    """The `extensions.code` a client sees for this error (after ErrorMasking, or before)."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return request_error_code(error, executing)
    if isinstance(original, BadInput):
        return original.code
    if is_unavailable(original):
        return "SERVICE_UNAVAILABLE"
    return "INTERNAL_SERVER_ERROR"


class ErrorMasking(SchemaExtension):
    #: execution started (the variables were being coerced, or fields ran)
    executing = False

    def on_execute(self) -> Iterator[None]:
        self.executing = True
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context = self.execution_context.context
        request_id = _request_id(context)
        unavailable = False
        shown: list[GraphQLError] = []
        for error in result.errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError):
                # validation, limits, permissions: the client's to fix
                if (error.extensions or {}).get("code") is None:
                    code = request_error_code(error, self.executing)
                    error = _replace(
                        error, error.message, {**(error.extensions or {}), "code": code}
                    )
                shown.append(error)
            elif isinstance(original, BadInput):
                extensions = {**(error.extensions or {}), "code": original.code}
                shown.append(_replace(error, error.message, extensions))
            elif is_unavailable(original):
                unavailable = True
                log.warning(
                    "graphql.database_unavailable",
                    path=error.path,
                    error=f"{type(original).__name__}: {str(original)[:500]}",
                )
                shown.append(
                    _replace(
                        error,
                        unavailable_message(request_id),
                        {
                            "code": "SERVICE_UNAVAILABLE",
                            "retryable": True,
                            "requestId": request_id,
                        },
                    )
                )
            else:
                log.error(
                    "graphql.unexpected_error",
                    path=error.path,
                    exc_info=(type(original), original, original.__traceback__),
                )
                shown.append(
                    _replace(
                        error,
                        internal_message(request_id),
                        {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                    )
                )
        result.errors = shown
        response = getattr(context, "response", None)
        if unavailable and response is not None:
            response.status_code = 503
            response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
