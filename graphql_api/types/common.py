from __future__ import annotations

import base64
from typing import cast

import strawberry

from domain.errors import DomainError, ErrorCode
from graphql_api.errors import BadInput
from graphql_api.scalars import JSON, MAX_ROW_ID


@strawberry.type(
    description="A business failure. `details` carries machine-readable context, e.g. for "
    "STEP_MISMATCH {sn, currentStepNo, expectedStationType, eventType}, for "
    "REQUIRED_DATA_MISSING {missing: [specName]}."
)
class MesError:
    code: ErrorCode
    message: str
    details: JSON | None = None

    @classmethod
    def of(cls, err: DomainError) -> MesError:
        return cls(code=err.code, message=err.message, details=cast(JSON, err.details))


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The key inside an opaque cursor; a malformed cursor is a request error."""
    if cursor is None:
        return None
    try:
        prefix, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix != kind or not 0 <= int(key) <= MAX_ROW_ID:
            raise ValueError
        return int(key)
    except ValueError as err:  # UnicodeError and binascii.Error are ValueErrors
        raise BadInput(f"after: invalid cursor {cursor[:100]!r}") from err
