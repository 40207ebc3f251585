"""A transport message's body (issue 21, CFX over AMQP): read into envelopes — UTF-8 JSON, one
envelope or an array, gzip-compressed or not — or, when it cannot be read at all, stored as a
rejection of its own so that nothing is lost and nothing is redelivered for ever."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

from domain.actors import Actor, hold_token
from domain.enums import AuditOutcome, IngestEventType
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import MAX_SOURCE_LENGTH
from domain.ingest.records import IngestEnvelope, IngestRejection
from domain.ingest.stored import record_rejection
from domain.ports import Clock, UnitOfWorkFactory

GZIP_MAGIC = b"\x1f\x8b"


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.INGEST_PAYLOAD_INVALID, message, {"field": "body"})


def inflate(body: bytes, max_bytes: int) -> bytes:
    """The gzip body inflated, at most `max_bytes` of it (PAYLOAD_TOO_LARGE past them)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_bytes + 1)
        if len(data) <= max_bytes and not inflater.eof:
            raise _invalid("the gzip body is cut short")
    except zlib.error as err:
        raise _invalid(f"the gzip body cannot be inflated ({err})") from err
    if len(data) > max_bytes:
        raise DomainError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"the body inflates to more than {max_bytes} bytes (MES_MAX_BODY_BYTES)",
            {"field": "body", "maxBytes": max_bytes},
        )
    return data


def read_body(body: bytes, content_encoding: str | None, max_bytes: int) -> list[Any]:
    """The envelopes of a body: a JSON object is one, a JSON array is its items (each judged
    on its own later). gzip is detected by its magic bytes or the content-encoding. A body
    that cannot be read raises INGEST_PAYLOAD_INVALID (or PAYLOAD_TOO_LARGE) saying why."""
    if len(body) > max_bytes:
        raise DomainError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"the body has more than {max_bytes} bytes (MES_MAX_BODY_BYTES)",
            {"field": "body", "maxBytes": max_bytes},
        )
    encoding = (content_encoding or "").strip().lower()
    if body[:2] == GZIP_MAGIC or encoding == "gzip":
        body = inflate(body, max_bytes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _invalid(f"the body is not UTF-8 ({err.reason} at byte {err.start})") from err
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise _invalid(f"the body is not JSON ({err.msg} at line {err.lineno})") from err
    except RecursionError as err:
        raise _invalid("the body's JSON nests too deeply") from err
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    raise _invalid(
        f"the body is a JSON {type(document).__name__}: send an envelope (an object) or an "
        "array of them"
    )


def kept_body(body: bytes, max_bytes: int) -> tuple[dict[str, Any], bool]:
    """The body as a rejection keeps it: as text when it is UTF-8 without NUL (gzip bodies
    once inflated, when they inflate), else base64; and whether it was cut to `max_bytes`."""
    data = body
    if body[:2] == GZIP_MAGIC:
        try:  # bounded: a gzip bomb is kept as its first bytes
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, max_bytes + 1)
        except zlib.error:
            data = body
    cut = data[:max_bytes]
    try:
        text = cut.decode("utf-8")
        if "\x00" in text:
            raise ValueError("NUL")
        kept: dict[str, Any] = {"text": text}
    except (UnicodeDecodeError, ValueError):
        kept = {"base64": base64.b64encode(cut).decode("ascii")}
    return {**kept, "bytes": len(body), "gzip": body[:2] == GZIP_MAGIC}, len(data) > max_bytes


async def record_unreadable(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    source: str,
    body: bytes,
    err: DomainError,
    actor: Actor,
    max_payload_bytes: int,
) -> IngestRejection:
    """Store a body that could not be read as a rejection (not replayable): its source is the
    transport's (`amqp:<address>`), its dedupe key the SHA-256 of the body (the same body sent
    again is another attempt of the same rejection), event type INFO; audited as a refusal.
    A revoked token stores nothing (TokenRevoked), as on every ingest."""
    digest = hashlib.sha256(body).hexdigest()
    payload, cut = kept_body(body, max_payload_bytes)
    env = IngestEnvelope(
        source_system=source[:MAX_SOURCE_LENGTH],
        dedupe_key=digest,
        event_type=IngestEventType.INFO,
        occurred_at=None,
        payload=payload,
        payload_bytes=len(body),
    )
    now = clock.now()
    async with uow_factory() as uow:
        await hold_token(uow, actor)
        await uow.ingest_events.lock_key(env.source_system, env.dedupe_key)
        rejection = await record_rejection(
            uow, env, digest, err, [], now, actor.token_name, truncated=cut, replayable=False
        )
        await uow.audit.add(
            actor.audit(
                now,
                "ingestEvent",
                "IngestEvent",
                f"{env.source_system}/{digest}",
                AuditOutcome.REFUSED,
                err.code.value,
                {"message": err.message[:500]},
            )
        )
        await uow.commit()
    return rejection
