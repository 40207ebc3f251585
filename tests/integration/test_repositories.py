"""Round trips through SqlUnitOfWork that read rows no port reads back (the audit trail), on
both databases. The other round trips are the repository contract (test_contract_*.py), run
against the fake unit of work too."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import rows
from adapters import tables as t
from adapters.uow import SqlUnitOfWork
from domain.audit import AuditEvent
from domain.enums import AuditOutcome
from tests.conftest import unique
from tests.repository_data import AT, LATER, NewUow, assert_utc


@pytest.fixture
def uow(engine: AsyncEngine) -> NewUow:
    return lambda: SqlUnitOfWork(engine)


async def test_audit_event_round_trips(uow: NewUow, engine: AsyncEngine) -> None:
    request_id = unique("REQ")
    refused = AuditEvent(
        at=AT,
        actor="gateway-7",
        request_id=request_id,
        action="createRun",
        entity_type="Run",
        entity_key="RUN-1",
        outcome=AuditOutcome.REFUSED,
        error_code="LINE_NOT_FOUND",
        details={"message": "line 'X' not found", "details": {"key": "X", "n": [1, 2.5, None]}},
    )
    ok = AuditEvent(
        at=LATER,
        actor="anonymous",
        request_id=request_id,
        action="upsertLine",
        entity_type="Line",
        entity_key=None,
        outcome=AuditOutcome.OK,
    )
    async with uow() as u:
        await u.audit.add(refused)
        await u.audit.add(ok)
        await u.commit()
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(t.audit_event)
                .where(t.audit_event.c.request_id == request_id)
                .order_by(t.audit_event.c.id)
            )
        ).all()
    events = [rows.audit_from_row(r) for r in found]
    assert [replace(e, id=None) for e in events] == [refused, ok]
    assert_utc(events[0].at, AT)
