"""Prometheus metrics at /metrics: ingest outcomes and latency, GraphQL latency by operation.

Label values that come from clients (sourceSystem, operation names) are capped: past
MAX_LABEL_VALUES distinct values they count as "_other", so a misbehaving sender cannot blow
up the metric store; an item refused as FORBIDDEN always counts as "_other".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from domain.enums import IngestStatus, TrackResult
from domain.errors import ErrorCode
from domain.ingest.pipeline import IngestOutcome
from domain.validation import storable

MAX_LABEL_VALUES = 200
OTHER = "_other"

REGISTRY = CollectorRegistry(auto_describe=True)

INGEST_EVENTS = Counter(
    "mes_ingest_events",
    "Ingest outcomes by status, refusal code and source system.",
    ["status", "code", "source_system"],
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "mes_ingest_seconds",
    "Time to judge and record one ingest event.",
    ["status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
INGEST_PARKED = Counter(
    "mes_ingest_parked",
    "Ingest events parked: they came before their units reached their step (issue 20).",
    registry=REGISTRY,
)
INGEST_REDRIVEN = Counter(
    "mes_ingest_redriven",
    "Parked events run again by the ingest that brought their units to their step or "
    "recorded their transaction's start, or by the sweep (accepted, refused or parked "
    "again; re-drives by manual moves are not counted).",
    registry=REGISTRY,
)
GRAPHQL_SECONDS = Histogram(
    "mes_graphql_request_seconds",
    "GraphQL request latency by operation.",
    ["operation", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)

TRACK_ERRORS = Counter(
    "mes_track_errors",
    "Tracks recorded with result ERROR (tester or fixture fault, operator abort) by station.",
    ["station"],
    registry=REGISTRY,
)

SUBSCRIBERS = Gauge(
    "mes_subscriptions",
    "Open GraphQL subscriptions (live events) in this process.",
    registry=REGISTRY,
)
SUBSCRIBERS_DROPPED = Counter(
    "mes_subscriptions_dropped",
    "Subscriptions whose connection was closed because their queue overflowed (4008).",
    registry=REGISTRY,
)
PARK_EXPIRED = Counter(
    "mes_ingest_park_expired",
    "Parked events whose units did not reach their step in time (PARKED_EXPIRED rejections).",
    registry=REGISTRY,
)


class LabelCap:
    """Remembers the first MAX_LABEL_VALUES values it saw; later new ones become _other."""

    def __init__(self, limit: int = MAX_LABEL_VALUES):
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        value = storable((value or "")[:100])  # /metrics cannot write a lone surrogate
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(value)
                return value
        return OTHER


source_label = LabelCap()
operation_label = LabelCap()
station_label = LabelCap()


def record_ingest(source_system: str, outcome: IngestOutcome, seconds: float) -> None:
    status = outcome.status.value
    code = outcome.error.code.value if outcome.error else ""
    # a FORBIDDEN sourceSystem is whatever the sender made up: it never becomes a label value
    # (nor takes one of the capped slots from a real machine)
    forbidden = outcome.error is not None and outcome.error.code is ErrorCode.FORBIDDEN
    source = OTHER if forbidden else source_label(source_system)
    INGEST_EVENTS.labels(status, code, source).inc()
    INGEST_SECONDS.labels(status).observe(seconds)
    if outcome.status is IngestStatus.PARKED and outcome.parked is not None:
        INGEST_PARKED.inc()
    if outcome.redriven:
        INGEST_REDRIVEN.inc(outcome.redriven)
    event = outcome.event
    if outcome.status is IngestStatus.ACCEPTED and event is not None and event.normalized:
        units = event.normalized.get("units") or ()
        errors = sum(1 for u in units if u.get("result") == TrackResult.ERROR.value)
        if errors:
            record_track_errors(event.station_code, errors)


def record_track_errors(station_code: str | None, count: int = 1) -> None:
    """ERROR tracks are not capped by maxAttempts: they are counted here, per station."""
    TRACK_ERRORS.labels(station_label(station_code)).inc(count)


class GraphQLMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            kind = ctx.operation_type.value.lower()
        except Exception:  # no valid operation (a syntax error): still counted
            kind = "invalid"
        GRAPHQL_SECONDS.labels(operation_label(ctx.operation_name or "anonymous"), kind).observe(
            time.perf_counter() - started
        )


async def metrics_endpoint(request: Request) -> Response:
    return Response(_generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


# ---------------------------------------------------------------- CFX over AMQP 1.0 (issue 21)
# counted by `mes cfx consume` in its own process: `--metrics-port N` serves them at /metrics

CFX_CONSUMED = Counter(
    "mes_cfx_consumed",
    "AMQP messages received by `mes cfx consume` (each one envelope or an array of them).",
    registry=REGISTRY,
)
CFX_ACCEPTED = Counter(
    "mes_cfx_accepted",
    "CFX envelopes from AMQP kept by the pipeline, by status (ACCEPTED, DUPLICATE, PARKED).",
    ["status"],
    registry=REGISTRY,
)
CFX_REJECTED = Counter(
    "mes_cfx_rejected",
    "CFX envelopes from AMQP refused, and bodies that could not be read, by error code.",
    ["code"],
    registry=REGISTRY,
)
CFX_RELEASED = Counter(
    "mes_cfx_released",
    "AMQP messages given back unsettled because the pipeline failed (redelivered later).",
    registry=REGISTRY,
)
CFX_REPLY_FAILED = Counter(
    "mes_cfx_reply_failed",
    "Responses the broker refused for good (their request is settled all the same).",
    registry=REGISTRY,
)
CFX_LAG = Histogram(
    "mes_cfx_lag_seconds",
    "From an envelope's TimeStamp (else its message's creation time) to its processing.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
CFX_CONNECTED = Gauge(
    "mes_cfx_connected",
    "1 while `mes cfx consume` holds a connection to its broker.",
    registry=REGISTRY,
)
