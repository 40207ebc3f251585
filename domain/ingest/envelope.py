"""Step 1 (the envelope) and step 2's canonical input hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785

from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestEnvelope
from domain.validation import (
    DEFAULT_MAX_JSON_DEPTH,
    check_code,
    check_free_text,
    check_json_depth,
    check_no_nul,
    json_depth,
    storable,
)

MAX_KEY_LENGTH = 200
#: a derived PARTIAL key `dedupeKey#sn` is exempt from the length limit
DERIVED_KEY_SEPARATOR = "#"


def _fail(message: str, **details: Any) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, message, details or None)


def check_envelope(
    env: IngestEnvelope, max_payload_bytes: int, max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
) -> None:
    """sourceSystem a code and dedupeKey free text without control characters (both 1–200
    characters), occurredAt with an offset, payload a JSON object within the size and depth
    limits, no NUL or lone surrogate anywhere."""
    if env.payload_bytes > max_payload_bytes:
        raise DomainError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"payload is {env.payload_bytes} bytes; the limit is {max_payload_bytes}",
            {"size": env.payload_bytes, "limit": max_payload_bytes},
        )
    for name, value in (("sourceSystem", env.source_system), ("dedupeKey", env.dedupe_key)):
        if not isinstance(value, str) or not value.strip():
            raise _fail(f"{name} must not be empty", field=name)
        limit_exempt = name == "dedupeKey" and env.restrict_to_sn is not None
        if len(value) > MAX_KEY_LENGTH and not limit_exempt:
            raise _fail(
                f"{name} is longer than {MAX_KEY_LENGTH} characters",
                field=name,
                length=len(value),
                max=MAX_KEY_LENGTH,
            )
    check_code(env.source_system, "sourceSystem", max_length=MAX_KEY_LENGTH)
    check_free_text(env.dedupe_key, "dedupeKey")
    if env.run_no is not None:
        check_code(env.run_no, "runNo")
    if env.occurred_at_error is not None:
        raise _fail(env.occurred_at_error, field="occurredAt")
    if env.occurred_at is None:
        raise _fail("occurredAt is required", field="occurredAt")
    if env.occurred_at.tzinfo is None or env.occurred_at.utcoffset() is None:
        raise _fail("occurredAt has no UTC offset (naive times are refused)", field="occurredAt")
    if not isinstance(env.payload, dict):
        raise _fail("payload must be a JSON object", field="payload")
    for json_field, document in (("payload", env.payload), ("meta", env.meta)):
        check_json_depth(document, json_field, max_json_depth)
        check_no_nul(document, json_field)


def check_not_ahead(occurred_at: datetime, now: datetime, max_clock_skew_s: int) -> None:
    """occurredAt at most `max_clock_skew_s` seconds ahead of the service's clock: a machine
    whose clock runs ahead would record tracks in the future, ordered after later ones."""
    ahead = (occurred_at - now).total_seconds()
    if ahead > max_clock_skew_s:
        raise _fail(
            f"occurredAt is {ahead:.0f} s ahead of the service's clock (at most "
            f"{max_clock_skew_s} s are allowed: MES_MAX_CLOCK_SKEW)",
            field="occurredAt",
            skewSeconds=round(ahead),
            limit=max_clock_skew_s,
        )


def too_deep_to_keep(env: IngestEnvelope, max_json_depth: int) -> bool:
    """A payload or meta nested past the limit: its rejection keeps a truncated input."""
    return (
        json_depth(env.payload, max_json_depth) > max_json_depth
        or json_depth(env.meta, max_json_depth) > max_json_depth
    )


def canonical_hash(env: IngestEnvelope) -> str:
    """RFC 8785 JSON of eventType, occurredAt as an instant, runNo and payload (meta is not
    compared): the same input sent again hashes the same, whatever its key order or offset."""
    instant = (
        env.occurred_at.astimezone(UTC).isoformat()
        if env.occurred_at and env.occurred_at.tzinfo
        else (env.occurred_at.isoformat() if env.occurred_at else None)
    )
    doc = {
        "eventType": env.event_type.value,
        "occurredAt": instant,
        "runNo": env.run_no,
        "payload": env.payload,
    }
    return document_hash(doc)


def document_hash(doc: Any) -> str:
    """sha-256 of a JSON document's RFC 8785 form (a sorted JSON form when it has none)."""
    try:
        canonical = rfc8785.dumps(doc)
    except (ValueError, TypeError, RecursionError):
        # not canonicalizable (an integer beyond IEEE 754's 2^53): sorted JSON is still stable;
        # a document too deep for that (refused anyway) hashes what its first levels say
        try:
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        except RecursionError:
            text = "deep:" + json.dumps(clipped(doc), sort_keys=True, default=str)
        canonical = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(canonical).hexdigest()


#: what a rejection keeps of a payload over the size limit
TRUNCATED_PAYLOAD_CHARS = 4096


def clipped(value: Any, levels: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """A JSON value cut off below `levels` (deeper parts become "…"): safe to write out."""
    if isinstance(value, dict | list | tuple) and levels <= 0:
        return "…"
    if isinstance(value, dict):
        return {k: clipped(v, levels - 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clipped(v, levels - 1) for v in value]
    return value


def stored_input(env: IngestEnvelope, truncated: bool = False) -> dict[str, Any]:
    """The full input as received (replayable), or a truncated one for a payload over the size
    or depth limit (its first characters, written out; a meta cut off below the depth limit)."""
    payload: Any = env.payload
    meta: Any = env.meta
    if truncated:
        text = storable(json.dumps(clipped(env.payload), default=str)[:TRUNCATED_PAYLOAD_CHARS])
        payload = {"truncated": True, "bytes": env.payload_bytes, "head": text}
        meta = clipped(env.meta)
    return {
        "sourceSystem": env.source_system,
        "dedupeKey": env.dedupe_key,
        "eventType": env.event_type.value,
        "occurredAt": env.occurred_at.isoformat() if env.occurred_at else None,
        "runNo": env.run_no,
        "payload": payload,
        "meta": meta,
    }
