"""CFX work transactions (issue 21): WorkStarted → result pairing by `(Source, TransactionID)`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from domain.cfx.work import CfxWork


class CfxWorkRepository(Protocol):
    async def get(self, source_system: str, transaction_id: str) -> CfxWork | None: ...

    async def record_start(
        self,
        source_system: str,
        transaction_id: str,
        started_at: datetime,
        units: tuple[dict[str, Any], ...],
        recipe: str | None,
        start_event_id: int,
    ) -> CfxWork:
        """The key's start (kept when one is already recorded: the first start stands), in
        one statement that concurrent writers of the key cannot collide in; the key's row as
        it now stands (with the result a concurrent writer recorded)."""
        ...

    async def record_result(
        self, source_system: str, transaction_id: str, event_id: int, dedupe_key: str
    ) -> CfxWork:
        """The event that wrote the key's tracks (the first stands), as `record_start`."""
        ...

    async def fill_in_at(self, event_id: int, started_at: datetime) -> int:
        """The event's tracks that had no start (inAt null, or equal to outAt) start then;
        how many."""
        ...
