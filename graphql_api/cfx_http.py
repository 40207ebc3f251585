"""`POST /cfx` (issue 21): one IPC-CFX envelope or a JSON array of them, gzip or not, with a
Bearer token of the ingest scope; the answer is one result per envelope, in order:

    {"results": [{"uniqueId", "status", "error": {"code", "message", "details"} | null,
                  "eventId"}]}

One ValidateUnitsRequest (not in an array) is answered by its ValidateUnitsResponse envelope
itself; in an array, its result carries it as `response`.

The body's size (inflated too, a gzip bomb included) is capped by BodyLimitMiddleware
(MES_MAX_BODY_BYTES), each envelope's by MES_MAX_PAYLOAD_BYTES (a stored refusal), their
number by MES_MAX_INGEST_BATCH. A body that is no JSON, or too many envelopes: refused whole
(400/413), nothing stored."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.actors import Actor
from domain.cfx.receive import CfxReceiver, CfxResult
from domain.limits import Limits
from domain.security import Principal, Scope
from domain.validation import storable
from graphql_api.metrics import record_ingest

log = structlog.get_logger("mes.cfx")


def refusal(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def result_json(r: CfxResult) -> dict[str, Any]:
    error = (
        {"code": r.error.code.value, "message": r.error.message, "details": r.error.details}
        if r.error is not None
        else None
    )
    out: dict[str, Any] = {
        "uniqueId": r.unique_id,
        "status": r.status.value,
        "error": error,
        "eventId": r.event_id,
    }
    if r.response is not None:
        out["response"] = r.response
    return out


def parse_body(body: bytes) -> Any:
    """The JSON document; ValueError when the body is none."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses but JSON allows (integers past 64 bits)
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        raise ValueError(str(err)[:200]) from err


class CfxEndpoint:
    def __init__(self, receiver: CfxReceiver, limits: Limits, actor_of: Any):
        self.receiver = receiver
        self.limits = limits
        self.actor_of = actor_of

    async def handle(self, request: Request) -> Response:
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal) or not principal.allows(Scope.INGEST):
            return refusal(403, "POST /cfx needs a token with the ingest scope", "FORBIDDEN")
        try:
            document = parse_body(await request.body())
        except ValueError as err:
            return refusal(400, f"the body is not JSON: {err}", "BAD_REQUEST")
        envelopes = document if isinstance(document, list) else [document]
        limit = self.limits.max_ingest_batch
        if len(envelopes) > limit:
            return refusal(
                413,
                f"POST /cfx takes at most {limit} envelopes per request (MES_MAX_INGEST_BATCH), "
                f"not {len(envelopes)}",
                "PAYLOAD_TOO_LARGE",
            )
        if not envelopes:
            return refusal(
                400, "the body is an empty array: send at least one envelope", "BAD_REQUEST"
            )
        actor: Actor = self.actor_of(request, principal)
        results: list[CfxResult] = []
        for raw in envelopes:
            started = time.perf_counter()
            result = await self.receiver.receive_one(raw, actor)
            if result.outcome is not None:
                record_ingest(result.source or "", result.outcome, time.perf_counter() - started)
            log.info(
                "cfx",
                status=result.status.value,
                code=result.error.code.value if result.error else None,
                source_system=storable((result.source or "")[:100]),
                unique_id=storable((result.unique_id or "")[:200]),
                event_id=result.event_id,
            )
            results.append(result)
        if not isinstance(document, list) and results[0].response is not None:
            # one ValidateUnitsRequest: the answer is its ValidateUnitsResponse envelope
            return JSONResponse(results[0].response)
        return JSONResponse({"results": [result_json(r) for r in results]})
