"""Request-level limits: body size (gzip bodies too, capped after decompression)."""

from __future__ import annotations

import json
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _error(status: int, message: str, code: str) -> list[Message]:
    body = json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": body},
    ]


class BodyLimitMiddleware:
    """Reads a request body up to `max_bytes` (413 past it) and inflates a gzip body, again
    capped at `max_bytes` once inflated (a zip bomb gets the same 413)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            for message in self._too_large():
                await send(message)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                for reply in self._too_large():
                    await send(reply)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding == b"gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                inflated = inflater.decompress(body, self.max_bytes + 1)
            except zlib.error:
                for reply in _error(400, "the gzip body cannot be inflated", "BAD_REQUEST"):
                    await send(reply)
                return
            if len(inflated) > self.max_bytes or inflater.unconsumed_tail:
                for reply in self._too_large(inflated=True):
                    await send(reply)
                return
            body = inflated
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        elif encoding not in (b"", b"identity"):
            for reply in _error(
                415, f"unsupported content-encoding {encoding.decode('latin-1')!r}", "BAD_REQUEST"
            ):
                await send(reply)
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, inflated: bool = False) -> list[Message]:
        what = "the inflated request body" if inflated else "the request body"
        return _error(
            413,
            f"{what} is larger than {self.max_bytes} bytes (MES_MAX_BODY_BYTES): send fewer events "
            "per ingestEvents call",
            "PAYLOAD_TOO_LARGE",
        )
