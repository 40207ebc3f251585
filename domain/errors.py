"""The error taxonomy: every business failure is a DomainError with a contract ErrorCode."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INGEST_PAYLOAD_INVALID = "INGEST_PAYLOAD_INVALID"
    INGEST_MAPPING_MISSING = "INGEST_MAPPING_MISSING"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    STATION_GROUP_NOT_FOUND = "STATION_GROUP_NOT_FOUND"
    STATION_NOT_FOUND = "STATION_NOT_FOUND"
    OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
    DATA_SPEC_NOT_FOUND = "DATA_SPEC_NOT_FOUND"
    ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
    ROUTE_VERSION_NOT_READY = "ROUTE_VERSION_NOT_READY"
    ROUTING_EMPTY = "ROUTING_EMPTY"
    WORK_ORDER_NOT_FOUND = "WORK_ORDER_NOT_FOUND"
    WORK_ORDER_NOT_RECEIVED = "WORK_ORDER_NOT_RECEIVED"
    WORK_ORDER_NOT_RELEASED = "WORK_ORDER_NOT_RELEASED"
    RUN_NOT_FOUND = "RUN_NOT_FOUND"
    RUN_NOT_READY = "RUN_NOT_READY"
    RUN_NOT_AUTHORIZED = "RUN_NOT_AUTHORIZED"
    RUN_MISMATCH = "RUN_MISMATCH"
    UNIT_NOT_FOUND = "UNIT_NOT_FOUND"
    UNIT_RUN_NOT_FOUND = "UNIT_RUN_NOT_FOUND"
    UNIT_ALREADY_EXISTS = "UNIT_ALREADY_EXISTS"
    UNIT_ALREADY_IN_STATION = "UNIT_ALREADY_IN_STATION"
    UNIT_NOT_IN_STATION = "UNIT_NOT_IN_STATION"
    UNIT_ALREADY_DONE = "UNIT_ALREADY_DONE"
    UNIT_OUT_FAILED = "UNIT_OUT_FAILED"
    UNIT_ON_HOLD = "UNIT_ON_HOLD"
    UNIT_SCRAPPED = "UNIT_SCRAPPED"
    UNIT_X_OUT = "UNIT_X_OUT"
    STEP_MISMATCH = "STEP_MISMATCH"
    STATION_MISMATCH = "STATION_MISMATCH"
    DATA_SPEC_METHOD_MISMATCH = "DATA_SPEC_METHOD_MISMATCH"
    DATA_VALUE_INVALID = "DATA_VALUE_INVALID"
    REQUIRED_DATA_MISSING = "REQUIRED_DATA_MISSING"
    CARRIER_NOT_FOUND = "CARRIER_NOT_FOUND"
    CARRIER_EMPTY = "CARRIER_EMPTY"
    TRACK_NOT_FOUND = "TRACK_NOT_FOUND"
    TRACK_AMBIGUOUS = "TRACK_AMBIGUOUS"
    FORBIDDEN = "FORBIDDEN"
    REJECTION_NOT_FOUND = "REJECTION_NOT_FOUND"
    RUN_ALREADY_EXISTS = "RUN_ALREADY_EXISTS"
    DISPOSITION_INVALID = "DISPOSITION_INVALID"
    #: closeWorkOrder while one of its runs is open (issue 16)
    WORK_ORDER_RUN_OPEN = "WORK_ORDER_RUN_OPEN"
    HOLD_NOT_FOUND = "HOLD_NOT_FOUND"
    #: the machine's program is not the step's recipe (issue 16)
    RECIPE_MISMATCH = "RECIPE_MISMATCH"
    #: a parked event whose units did not reach its step within MES_PARK_TTL (issue 20)
    PARKED_EXPIRED = "PARKED_EXPIRED"


class CompileCode(StrEnum):
    """Codes of compile errors inside an INVALID route version (DOMAIN.md §2)."""

    ROUTING_EMPTY = "ROUTING_EMPTY"
    DUPLICATE_STEP_NO = "DUPLICATE_STEP_NO"
    OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
    STATION_TYPE_MISSING = "STATION_TYPE_MISSING"
    STATION_CONSTRAINT_MISSING = "STATION_CONSTRAINT_MISSING"
    INGEST_MAPPING_MISSING = "INGEST_MAPPING_MISSING"
    INGEST_MAPPING_INVALID = "INGEST_MAPPING_INVALID"
    EVENT_TYPE_MISMATCH = "EVENT_TYPE_MISMATCH"
    STATION_NOT_FOUND = "STATION_NOT_FOUND"
    STATION_GROUP_NOT_FOUND = "STATION_GROUP_NOT_FOUND"
    DATA_SPEC_NOT_FOUND = "DATA_SPEC_NOT_FOUND"
    DATA_SPEC_MAP_INVALID = "DATA_SPEC_MAP_INVALID"
    SPEC_TRIGGER_INVALID = "SPEC_TRIGGER_INVALID"


class DomainError(Exception):
    """A business failure: travels to the client as the payload's `error`, never as a crash."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, {self.details!r})"


def not_found(code: ErrorCode, what: str, key: str, **details: Any) -> DomainError:
    """The usual 'X not found' refusal, with the key in details."""
    return DomainError(code, f"{what} {key!r} not found", {"key": key, **details})


class KeyTaken(Exception):
    """A repository's report that it did not add some rows: their unique key is taken already
    (by a committed row or a concurrent insert). The use case turns it into its refusal."""

    def __init__(self, keys: list[str]):
        super().__init__(", ".join(keys))
        self.keys = sorted(keys)
