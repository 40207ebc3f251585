"""CFX work transactions (issue 21): one row per pairing key, written by upserts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, or_, select, update

from adapters import tables as t
from adapters.repositories.base import SqlRepository
from domain.cfx.work import CfxWork


def _work(row: Row[Any]) -> CfxWork:
    m = row._mapping
    return CfxWork(
        m["source_system"],
        m["transaction_id"],
        m["started_at"],
        tuple(m["units"] or ()),
        m["recipe"],
        m["start_event_id"],
        m["result_event_id"],
        m["result_key"],
        m["id"],
    )


class SqlCfxWorkRepository(SqlRepository):
    async def get(self, source_system: str, transaction_id: str) -> CfxWork | None:
        w = t.cfx_work
        row = (
            await self._exec(
                select(w).where(
                    w.c.source_system == source_system, w.c.transaction_id == transaction_id
                )
            )
        ).first()
        return _work(row) if row is not None else None

    async def record_start(
        self,
        source_system: str,
        transaction_id: str,
        started_at: datetime,
        units: tuple[dict[str, Any], ...],
        recipe: str | None,
        start_event_id: int,
    ) -> CfxWork:
        values = {
            "source_system": source_system,
            "transaction_id": transaction_id,
            "started_at": started_at,
            "recipe": recipe,
            "start_event_id": start_event_id,
        }
        w = t.cfx_work
        ins = self._conflict_insert(w).values(units=list(units), **values)
        changes = {
            k: _first(w.c.start_event_id, ins.excluded[k], w.c[k])
            for k in ("started_at", "recipe", "start_event_id", "units")
        }
        stmt = ins.on_conflict_do_update(
            index_elements=["source_system", "transaction_id"], set_=changes
        ).returning(w)
        return _work((await self._exec(stmt)).one())

    async def record_result(
        self, source_system: str, transaction_id: str, event_id: int, dedupe_key: str
    ) -> CfxWork:
        w = t.cfx_work
        ins = self._conflict_insert(w).values(
            source_system=source_system,
            transaction_id=transaction_id,
            units=[],
            result_event_id=event_id,
            result_key=dedupe_key,
        )
        changes = {
            k: _first(w.c.result_event_id, ins.excluded[k], w.c[k])
            for k in ("result_event_id", "result_key")
        }
        stmt = ins.on_conflict_do_update(
            index_elements=["source_system", "transaction_id"], set_=changes
        ).returning(w)
        return _work((await self._exec(stmt)).one())

    async def fill_in_at(self, event_id: int, started_at: datetime) -> int:
        tr = t.track
        result = await self._exec(
            update(tr)
            .where(
                tr.c.ingest_event_id == event_id,
                or_(tr.c.in_at.is_(None), tr.c.in_at == tr.c.out_at),
                or_(tr.c.out_at.is_(None), tr.c.out_at >= started_at),
            )
            .values(in_at=started_at)
        )
        return int(result.rowcount or 0)


def _first(marker: Any, new: Any, old: Any) -> Any:
    """The new value where the marker column is still null (nothing recorded yet), else the
    old one: the first writer's stands."""
    return case((marker.is_(None), new), else_=old)
