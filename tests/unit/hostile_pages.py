"""The listings of the fast executor's differential test (tests/unit/test_fast_execution.py):
a run's page of units, refusals and audit events, and the read store that answers their pages
from the test's data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import audit
from domain import enums as e
from domain.errors import ErrorCode
from domain.ingest import records

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Store:
    """The read store's pages and batch reads the queries and subscriptions here make,
    answered from `data[method]` (a page is every row there, with a next page after it)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _page(self, method: str, first: int) -> tuple[list[Any], bool]:
        rows: list[Any] = self.data.get(method, [])
        return rows[:first], len(rows) > first

    async def units_of_run(self, run_no: str, first: int, after: Any) -> tuple[list[Any], bool]:
        return self._page("units_of_run", first)

    async def rejections_page(self, where: Any, first: int, after: Any) -> tuple[list[Any], bool]:
        return self._page("rejections_page", first)

    async def audit_page(self, where: Any, first: int, after: Any) -> tuple[list[Any], bool]:
        return self._page("audit_page", first)

    async def units(self, sns: list[str]) -> dict[str, Any]:
        return {sn: self.data["unit"][sn] for sn in sns if sn in self.data["unit"]}


def rejection(i: int, **changes: Any) -> Any:
    """A stored refusal, as the domain has it (IngestRejection.of builds the served type)."""
    return replace(
        records.IngestRejection(
            source_system="TESTER",
            dedupe_key=f"R-{i}",
            input_hash=f"{i:064x}",
            event_type=e.IngestEventType.TEST,
            received_at=T0 + timedelta(seconds=i),
            error_code=ErrorCode.UNIT_NOT_FOUND,
            error_message=f"no unit SN-{i}",
            input={"sn": f"SN-{i}", "values": [1.5, None, True]},
            error_details={"sn": f"SN-{i}"} if i % 2 else None,
            occurred_at=T0 if i % 3 else None,
            attempts=1 + i % 3,
            sns=(f"SN-{i}",) if i % 2 else (),
            resolved_by_event_id=100 if i == 1 else None,
            id=500 + i,
        ),
        **changes,
    )


def audit_event(i: int, **changes: Any) -> Any:
    return replace(
        audit.AuditEvent(
            at=T0 + timedelta(minutes=i),
            actor="operator",
            request_id=f"req-{i}",
            action="trackOut",
            entity_type="Unit",
            entity_key=f"SN-{i}" if i % 2 else None,
            outcome=e.AuditOutcome.OK if i % 3 else e.AuditOutcome.REFUSED,
            error_code=None if i % 3 else "UNIT_NOT_FOUND",
            details={"n": i} if i % 2 else None,
            id=900 + i,
        ),
        **changes,
    )


PAGE_UNITS = 120  # the same unit again and again: one plan per list, objects completed by it
