"""Audit rows for mutations that failed before or outside their use case.

The bus and the ingest pipeline audit every command they run. A request can also fail where
no use case sees it: a token without the field's scope, an input the GraphQL layer refuses
(a naive time, a batch over its limit, a bad id), a document that does not validate, a bug.
Those mutation fields get their row here, in a transaction of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.actors import Actor
from domain.enums import AuditOutcome
from domain.ports import Clock, UnitOfWorkFactory
from domain.validation import scrubbed

#: codes that say the service failed, not the client: audited as ERROR, the rest as REFUSED
SERVICE_FAILURES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "REQUEST_TIMEOUT"})
#: what a row keeps of an error message (a validation message may quote the request)
MAX_MESSAGE = 1000


@dataclass(frozen=True, slots=True)
class FailedMutation:
    """One root mutation field of a request that ended in a request error."""

    action: str
    entity_type: str
    error_code: str
    message: str


async def audit_failed_mutations(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    failures: Sequence[FailedMutation],
) -> None:
    """One audit row per failed mutation field, all in one transaction."""
    if not failures:
        return
    now = clock.now()
    async with uow_factory() as uow:
        for failure in failures:
            await uow.audit.add(
                actor.audit(
                    now,
                    failure.action[:100],
                    failure.entity_type[:100],
                    None,
                    AuditOutcome.ERROR
                    if failure.error_code in SERVICE_FAILURES
                    else AuditOutcome.REFUSED,
                    failure.error_code[:50],
                    {"message": scrubbed(failure.message[:MAX_MESSAGE])},
                )
            )
        await uow.commit()
