"""The service's configurable input limits."""

from __future__ import annotations

from dataclasses import dataclass

from domain.validation import DEFAULT_MAX_JSON_DEPTH


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable input limits (bad input gets a clear error, never a crash)."""

    max_register_units: int = 10_000
    max_routing_steps: int = 500
    max_page_size: int = 500
    max_payload_bytes: int = 1024 * 1024
    max_ingest_batch: int = 500
    #: a whole HTTP request body (gzip: once inflated)
    max_body_bytes: int = 32 * 1024 * 1024
    max_query_depth: int = 15
    max_aliases: int = 50
    max_query_tokens: int = 5000
    introspection: bool = True
    cors_origins: tuple[str, ...] = ()
    #: a query's cost: the objects it may return, page sizes multiplied along nested lists
    max_query_cost: int = 50_000
    #: what an unpaginated list (a unit's tracks, a track's data values) counts for the cost
    list_cost_estimate: int = 50
    #: a query document's length in UTF-8 bytes (not its variables: the body limit bounds them)
    max_query_bytes: int = 64 * 1024
    #: a request's execution time; 0: no limit
    request_timeout_s: float = 30.0
    #: how deeply a JSON input (payload, meta, a mapping, a JSON value) may nest
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    #: a site's regular expression for serial numbers (a full match), checked on registration
    sn_pattern: str | None = None
    #: changes waiting for one live subscription; past it the client is disconnected (4008)
    subscription_queue: int = 1000
    #: operations one WebSocket connection may run at once
    max_subscriptions_per_connection: int = 20
    #: how far an event's occurredAt may be ahead of the service's clock, in seconds
    max_clock_skew_s: int = 300
    #: how long a parked event waits for its units before it becomes a PARKED_EXPIRED
    #: rejection, in seconds (issue 20)
    park_ttl_s: int = 86_400
    #: units one holdUnits may hold (one transaction; past it: VALIDATION_FAILED)
    max_hold_units: int = 10_000
