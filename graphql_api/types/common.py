from __future__ import annotations

from typing import cast

import strawberry

from domain.errors import DomainError, ErrorCode
from graphql_api.scalars import JSON


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
