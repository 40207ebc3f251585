"""Ingest: accepted events, rejections, tester result keys, tracks and their data values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg
from adapters.repositories.base import SqlRepository, chunks
from adapters.repositories.security import SqlTokenRepository
from adapters.repositories.transaction import TransactionState
from domain.enums import (
    Judge,
    TrackFlag,
)
from domain.ingest.records import IngestEvent, IngestRejection, TesterResultKey
from domain.ports import KeyClaim
from domain.tracks import DataValue, Track

# built once: the values go as parameters (the hot path builds no statement per event)
_EVENT_INSERT = {
    name: dialect_insert(t.ingest_event)
    .on_conflict_do_nothing(index_elements=["source_system", "dedupe_key"])
    .returning(t.ingest_event.c.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


class SqlIngestEventRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, state: TransactionState, pg: Pg | None = None):
        super().__init__(conn, pg)
        #: whether each dedupe key this transaction locked has open rejections
        #: (TransactionState.open_rejections)
        self.state = state

    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        """Nothing to lock: SQLite serializes writers."""

    async def claim_key(
        self, source_system: str, dedupe_key: str, token_id: int | None
    ) -> KeyClaim:
        """The separate steps (PostgreSQL overrides it with one round trip)."""
        if token_id is not None and not await SqlTokenRepository(self.conn, self.pg).hold(token_id):
            return KeyClaim(token_held=False, event=None)
        await self.lock_key(source_system, dedupe_key)
        event = await self.get_by_key(source_system, dedupe_key)
        p = t.parked_event
        parked = (
            await self._exec(
                select(p.c.id, p.c.input_hash).where(
                    p.c.source_system == source_system, p.c.dedupe_key == dedupe_key
                )
            )
        ).first()
        return KeyClaim(
            token_held=True,
            event=event,
            parked_id=parked.id if parked else None,
            parked_hash=parked.input_hash if parked else None,
        )

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        """The event of a key, and in the same statement whether the key has open rejections
        (remembered for this transaction: an accept then resolves them only if there are)."""
        r = await self._one(self._by_key(source_system, dedupe_key))
        return self._learnt(source_system, dedupe_key, r)

    def _learnt(self, source_system: str, dedupe_key: str, r: Any) -> IngestEvent | None:
        """The event of the row of `get_by_key`; whether its key has open rejections is
        remembered (TransactionState.open_rejections)."""
        assert r is not None
        self.state.open_rejections[(source_system, dedupe_key)] = bool(r.has_open_rejection)
        return rows.event_from_row(r) if r.id is not None else None

    @staticmethod
    def _by_key(source_system: str, dedupe_key: str) -> Select[Any]:
        e, j = t.ingest_event, t.ingest_rejection
        has_open = (
            select(j.c.id)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.resolved_by_event_id.is_(None),
            )
            .exists()
        )
        one = select(literal(1).label("one")).subquery()
        return select(e, has_open.label("has_open_rejection")).select_from(
            one.outerjoin(e, and_(e.c.source_system == source_system, e.c.dedupe_key == dedupe_key))
        )

    async def get_by_id(self, event_id: int) -> IngestEvent | None:
        r = await self._one(select(t.ingest_event).where(t.ingest_event.c.id == event_id))
        return rows.event_from_row(r) if r else None

    async def add(self, event: IngestEvent, unit_ids: Sequence[int]) -> IngestEvent | None:
        stmt = _EVENT_INSERT[self.conn.dialect.name]
        new_id = (await self._exec(stmt, rows.event_to_values(event))).scalar_one_or_none()
        if new_id is None:
            return None
        if unit_ids:
            await self._exec(
                insert(t.ingest_event_unit),
                [{"event_id": new_id, "unit_id": u} for u in dict.fromkeys(unit_ids)],
            )
        return replace(event, id=new_id)

    async def tester_results(
        self, source_system: str, test_result_ids: Sequence[str], unit_ids: Sequence[int]
    ) -> list[TesterResultKey]:
        k = t.test_result_key
        result: list[TesterResultKey] = []
        for part in chunks(unit_ids):
            stmt = select(k).where(
                k.c.source_system == source_system,
                k.c.test_result_id.in_(list(test_result_ids)),
                k.c.unit_id.in_(part),
            )
            result += [rows.tester_key_from_row(r) for r in await self._exec(stmt)]
        return result

    async def add_tester_results(self, keys: Sequence[TesterResultKey]) -> None:
        if not keys:
            return
        await self._exec(insert(t.test_result_key), [rows.tester_key_to_values(k) for k in keys])


class SqlRejectionRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, state: TransactionState, pg: Pg | None = None):
        super().__init__(conn, pg)
        #: whether each dedupe key this transaction locked has open rejections
        #: (TransactionState.open_rejections)
        self.state = state

    async def find_open(
        self, source_system: str, dedupe_key: str, input_hash: str
    ) -> IngestRejection | None:
        j = t.ingest_rejection
        r = await self._one(
            select(j)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.input_hash == input_hash,
                j.c.resolved_by_event_id.is_(None),
            )
            .order_by(j.c.id)
            .limit(1),
            for_update=True,
        )
        return rows.rejection_from_row(r) if r else None

    async def get(self, rejection_id: int, *, for_update: bool = False) -> IngestRejection | None:
        r = await self._one(
            select(t.ingest_rejection).where(t.ingest_rejection.c.id == rejection_id), for_update
        )
        return rows.rejection_from_row(r) if r else None

    async def add(self, rejection: IngestRejection) -> IngestRejection:
        new_id = (
            await self._exec(
                insert(t.ingest_rejection).returning(t.ingest_rejection.c.id),
                rows.rejection_to_values(rejection),
            )
        ).scalar_one()
        await self._link_sns(new_id, rejection.sns)
        return replace(rejection, id=new_id)

    async def update(self, rejection: IngestRejection) -> None:
        await self._exec(
            update(t.ingest_rejection)
            .where(t.ingest_rejection.c.id == rejection.id)
            .values(rows.rejection_to_values(rejection))
        )
        await self._link_sns(rejection.id or 0, rejection.sns)

    async def _link_sns(self, rejection_id: int, sns: Sequence[str]) -> None:
        if not sns:
            return
        linked = set(
            (
                await self._exec(
                    select(t.ingest_rejection_sn.c.sn).where(
                        t.ingest_rejection_sn.c.rejection_id == rejection_id
                    )
                )
            ).scalars()
        )
        new = [sn for sn in dict.fromkeys(sns) if sn not in linked]
        if new:
            await self._exec(
                insert(t.ingest_rejection_sn),
                [{"rejection_id": rejection_id, "sn": sn} for sn in new],
            )

    async def resolve_key(self, source_system: str, dedupe_key: str, event_id: int) -> int:
        if self.state.open_rejections.get((source_system, dedupe_key)) is False:
            return 0  # none open when this transaction looked, under the key's lock
        j = t.ingest_rejection
        result = await self._exec(
            update(j)
            .where(
                j.c.source_system == source_system,
                j.c.dedupe_key == dedupe_key,
                j.c.resolved_by_event_id.is_(None),
            )
            .values(resolved_by_event_id=event_id)
        )
        return int(result.rowcount or 0)


class SqlDataValueRepository(SqlRepository):
    async def add_many(self, values: Sequence[DataValue]) -> None:
        for part in chunks(list(values)):
            await self._exec(insert(t.data_value), [rows.value_to_values(v) for v in part])

    async def failed_spec_names(self, track_id: int) -> set[str]:
        found = await self._exec(
            select(t.data_value.c.spec_name)
            .where(t.data_value.c.track_id == track_id, t.data_value.c.judge == Judge.FAIL.value)
            .distinct()
        )
        return set(found.scalars())


class SqlTrackRepository(SqlRepository):
    #: where `add_with_values` writes the values
    values_repository: type[SqlDataValueRepository] = SqlDataValueRepository

    async def get(self, track_id: int) -> Track | None:
        r = await self._one(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(t.track.c.id == track_id)
        )
        return rows.track_from_row(r) if r else None

    async def open_of_unit(self, unit_id: int) -> Track | None:
        r = await self._one(
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(t.track.c.unit_id == unit_id, t.track.c.out_at.is_(None))
            .order_by(t.track.c.id.desc())
            .limit(1)
        )
        return rows.track_from_row(r) if r else None

    async def close(self, track: Track) -> None:
        await self._exec(
            update(t.track)
            .where(t.track.c.id == track.id)
            .values(
                out_at=track.out_at,
                result=track.result.value if track.result else None,
                operator_id=track.operator_id,
            )
        )

    async def set_flag(self, track_id: int, flag: TrackFlag) -> None:
        await self._exec(update(t.track).where(t.track.c.id == track_id).values(flag=flag.value))

    async def units_of_carrier_track(self, carrier_track_id: int) -> list[int]:
        result = await self._exec(
            select(t.track.c.unit_id).where(t.track.c.carrier_track_id == carrier_track_id)
        )
        return list(result.scalars())

    async def matching(
        self, run_no: str, unit_id: int, step_no: int, station_code: str | None
    ) -> list[Track]:
        stmt = (
            select(t.track, t.unit.c.sn)
            .join(t.unit, t.unit.c.id == t.track.c.unit_id)
            .where(
                t.track.c.unit_id == unit_id,
                t.track.c.run_no == run_no,
                t.track.c.step_no == step_no,
            )
        )
        if station_code is not None:
            stmt = stmt.where(t.track.c.station_code == station_code)
        result = await self._exec(stmt.order_by(t.track.c.id.desc()))
        return [rows.track_from_row(r) for r in result]

    async def latest_run_at(self, station_code: str) -> str | None:
        # newest first by id: ix_track_station (station_code, id), read backwards
        result = await self._exec(
            select(t.track.c.run_no)
            .where(t.track.c.station_code == station_code)
            .order_by(t.track.c.id.desc())
            .limit(1)
        )
        run_no = result.scalar()
        return str(run_no) if run_no is not None else None

    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        if not tracks:
            return []
        result = await self._exec(
            insert(t.track).returning(t.track.c.id, sort_by_parameter_order=True),
            [rows.track_to_values(tr) for tr in tracks],
        )
        return [replace(tr, id=i) for tr, i in zip(tracks, result.scalars(), strict=True)]

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        if not tracks:
            return
        stored = await self.add_many([tr for tr, _ in tracks])
        await self.values_repository(self.conn, self.pg).add_many(
            [
                replace(
                    v,
                    track_id=track.id,
                    ingest_event_id=v.ingest_event_id or track.ingest_event_id,
                )
                for track, (_, vs) in zip(stored, tracks, strict=True)
                for v in vs
            ]
        )
