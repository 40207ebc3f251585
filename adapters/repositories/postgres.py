"""The PostgreSQL implementations of the hot repository methods: each `Pg*Repository` is its
Core repository with those methods written out for PostgreSQL and sent to asyncpg
(adapters/pg.py), chosen once, when the unit of work is built on PostgreSQL (adapters/uow.py).
The Core repositories stay the reference (SQLite runs them); the suite runs both.

Reads go straight to the driver; writes nobody waits for are deferred and sent as one
statement before the next one or the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters import rows
from adapters import tables as t
from adapters.pg import ChildRowsInsert, Pg, Piece, RowsInsert, columns
from adapters.repositories.carriers import SqlCarrierRepository
from adapters.repositories.ingest import (
    SqlDataValueRepository,
    SqlIngestEventRepository,
    SqlTrackRepository,
)
from adapters.repositories.master_data import SqlStationRepository
from adapters.repositories.runs_and_units import SqlRunRepository, SqlUnitRepository
from adapters.repositories.security import SqlAuditRepository, SqlTokenRepository
from domain.audit import AuditEvent
from domain.enums import UNFINISHED_RUN_STATUSES, RunStatus
from domain.ingest.records import IngestEvent, TesterResultKey
from domain.master import Station
from domain.ports import KeyClaim
from domain.runs_and_units import Run, Unit
from domain.tracks import DataValue, Track

# ---------------------------------------------------------------- master data

STATION_BY_CODE = f"SELECT {columns(t.station)} FROM station WHERE code = $1"


class PgStationRepository(SqlStationRepository):
    pg: Pg

    async def get(self, code: str) -> Station | None:
        r = await self.pg.fetchrow(STATION_BY_CODE, code)
        return rows.station_from_row(r) if r else None


# ---------------------------------------------------------------- runs and units

_UNFINISHED_VERSIONS = """SELECT route_version_id FROM (
  SELECT DISTINCT ON (route_version_id) route_version_id, created_at, run_no FROM run
  WHERE status = ANY($1::varchar[]) ORDER BY route_version_id, created_at, run_no) AS firsts
ORDER BY created_at, run_no"""
_RUN_STATUS_IF = "UPDATE run SET status = $3 WHERE run_no = $1 AND status = $2"


class PgRunRepository(SqlRunRepository):
    pg: Pg

    async def unfinished_versions(self) -> list[int]:
        statuses = [s.value for s in UNFINISHED_RUN_STATUSES]
        return [r.route_version_id for r in await self.pg.fetch(_UNFINISHED_VERSIONS, statuses)]

    async def _status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        return bool(await self.pg.execute(_RUN_STATUS_IF, run_no, expected.value, new.value))


_UNITS_BY_SN = f"SELECT {columns(t.unit)} FROM unit WHERE sn = ANY($1::varchar[]) ORDER BY sn"
# the units locked (in SN order), their runs read along and held against a status change
# (TransactionState.runs): KEY SHARE waits for an authorize, revoke or close (FOR UPDATE) and
# makes them wait, but never another execution of the run
_UNITS_LOCKED = f"""SELECT {columns(t.unit, "unit.")},
  {", ".join(f"run.{c.name} AS run__{c.name}" for c in t.run.c)}
FROM unit JOIN run ON run.run_no = unit.run_no
WHERE unit.{{key}} ORDER BY unit.sn FOR UPDATE OF unit FOR KEY SHARE OF run"""
UNITS_BY_SN_FOR_UPDATE = _UNITS_LOCKED.format(key="sn = ANY($1::varchar[])")
_UNITS_BY_ID_FOR_UPDATE = _UNITS_LOCKED.format(key="id = ANY($1::bigint[])")
_UNITS_UPDATE = """UPDATE unit
SET status = u.status, current_step_no = u.step, step_fails = u.fails, held_from = u.held
FROM unnest($1::bigint[], $2::varchar[], $3::integer[], $4::integer[], $5::varchar[])
  AS u(id, status, step, fails, held)
WHERE unit.id = u.id"""


class _Prefixed:
    """The columns of one table in a joined row, read by their own names."""

    __slots__ = ("prefix", "row")

    def __init__(self, row: Any, prefix: str):
        self.row = row
        self.prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, self.prefix + name)


def _run_of(row: Any) -> Run:
    return rows.run_from_row(_Prefixed(row, "run__"))  # type: ignore[arg-type]


class PgUnitRepository(SqlUnitRepository):
    pg: Pg

    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        if for_update:
            return self._seen(await self.pg.fetch(_UNITS_BY_ID_FOR_UPDATE, sorted(set(unit_ids))))
        return await super().get_many_by_id(unit_ids)

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        if for_update:
            return self._seen(await self.pg.fetch(UNITS_BY_SN_FOR_UPDATE, sorted(set(sns))))
        return [rows.unit_from_row(r) for r in await self.pg.fetch(_UNITS_BY_SN, sorted(set(sns)))]

    def _seen(self, locked: list[Any]) -> list[Unit]:
        """The locked units; their runs, held with them, are remembered (TransactionState)."""
        for r in locked:
            self.state.runs[r.run__run_no] = _run_of(r)
        return [self._locked(r, True) for r in locked]

    async def update_many(self, units: Sequence[Unit]) -> None:
        if not units:
            return
        await self.pg.defer(
            (
                None,
                _UNITS_UPDATE,
                [
                    [u.id for u in units],
                    [u.status.value for u in units],
                    [u.current_step_no for u in units],
                    [u.step_fails for u in units],
                    [u.held_from.value if u.held_from else None for u in units],
                ],
            )
        )


# ---------------------------------------------------------------- ingest

_LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_EVENT_BY_KEY = f"""SELECT {columns(t.ingest_event, "e.")}, EXISTS (
    SELECT 1 FROM ingest_rejection j WHERE j.source_system = $1 AND j.dedupe_key = $2
    AND j.resolved_by_event_id IS NULL) AS has_open_rejection
FROM (SELECT 1) AS one
LEFT JOIN ingest_event e ON e.source_system = $1 AND e.dedupe_key = $2"""
# the token held, the key locked and its event read in one round trip (migration 0013)
# (and the key's parked event: migration 0017)
_CLAIM_KEY = f"""SELECT c.token_held, c.has_open_rejection, {columns(t.ingest_event, "(c.event).")},
  c.parked_id, c.parked_hash
FROM ingest_claim_key($1, $2, $3, $4) AS c"""
_EVENT_ROW = RowsInsert(
    t.ingest_event, "ON CONFLICT (source_system, dedupe_key) DO NOTHING RETURNING id"
)
# the event and its units in one statement; no id (and no link) when the key is taken
_EVENT_AND_UNITS = (
    f"WITH e AS ({_EVENT_ROW.sql}), "
    "l AS (INSERT INTO ingest_event_unit (event_id, unit_id) SELECT e.id, u "
    "FROM e, unnest($2::bigint[]) AS u) SELECT id FROM e"
)
_TEST_RESULTS = f"""SELECT {columns(t.test_result_key)} FROM test_result_key
WHERE source_system = $1 AND test_result_id = ANY($2::varchar[]) AND unit_id = ANY($3::bigint[])"""
_TEST_RESULT_ROWS = RowsInsert(t.test_result_key)


def _lock_text(source_system: str, dedupe_key: str) -> str:
    return f"{source_system}\x1f{dedupe_key}"


class PgIngestEventRepository(SqlIngestEventRepository):
    pg: Pg

    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        # transaction-scoped: senders of one key queue here, other keys pass freely
        await self.pg.execute(_LOCK_KEY, _lock_text(source_system, dedupe_key))

    async def claim_key(
        self, source_system: str, dedupe_key: str, token_id: int | None
    ) -> KeyClaim:
        r = await self.pg.fetchrow(
            _CLAIM_KEY, _lock_text(source_system, dedupe_key), source_system, dedupe_key, token_id
        )
        if not r.token_held:
            return KeyClaim(token_held=False, event=None)
        return KeyClaim(
            token_held=True,
            event=self._learnt(source_system, dedupe_key, r),
            parked_id=r.parked_id,
            parked_hash=r.parked_hash,
        )

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        r = await self.pg.fetchrow(_EVENT_BY_KEY, source_system, dedupe_key)
        return self._learnt(source_system, dedupe_key, r)

    async def add(self, event: IngestEvent, unit_ids: Sequence[int]) -> IngestEvent | None:
        # the event and its units in one statement
        found = await self.pg.fetch(
            _EVENT_AND_UNITS,
            *_EVENT_ROW.args([rows.event_to_values(event)]),
            list(dict.fromkeys(unit_ids)),
        )
        return replace(event, id=found[0].id) if found else None

    async def tester_results(
        self, source_system: str, test_result_ids: Sequence[str], unit_ids: Sequence[int]
    ) -> list[TesterResultKey]:
        found = await self.pg.fetch(
            _TEST_RESULTS, source_system, list(test_result_ids), list(unit_ids)
        )
        return [rows.tester_key_from_row(r) for r in found]

    async def add_tester_results(self, keys: Sequence[TesterResultKey]) -> None:
        if not keys:
            return
        values = [rows.tester_key_to_values(k) for k in keys]
        # with the event's other deferred writes: no statement of its own
        await self.pg.defer((None, _TEST_RESULT_ROWS.sql, _TEST_RESULT_ROWS.args(values)))


_VALUES = RowsInsert(t.data_value)


class PgDataValueRepository(SqlDataValueRepository):
    pg: Pg

    async def add_many(self, values: Sequence[DataValue]) -> None:
        if values:
            rows_ = [rows.value_to_values(v) for v in values]
            await self.pg.defer((None, _VALUES.sql, _VALUES.args(rows_)))


_TRACKS = RowsInsert(t.track, "RETURNING id")
# the tracks of an event and their values, deferred as one statement (adapters/pg.py)
_NEW_TRACKS = RowsInsert(t.track, "RETURNING id, unit_id")
_VALUES_OF_NEW_TRACKS = ChildRowsInsert(t.data_value, "track_id", "new_tracks", "unit_id", "bigint")


def _value_on(v: DataValue, track: Track) -> dict[str, Any]:
    row = rows.value_to_values(v)
    if row["ingest_event_id"] is None:
        row["ingest_event_id"] = track.ingest_event_id
    return row


class PgTrackRepository(SqlTrackRepository):
    pg: Pg
    values_repository = PgDataValueRepository

    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        if not tracks:
            return []
        values = [rows.track_to_values(tr) for tr in tracks]
        found = await self.pg.insert(_TRACKS, values)
        ids = sorted(r.id for r in found)  # ascending in the order given (RowsInsert)
        return [replace(tr, id=i) for tr, i in zip(tracks, ids, strict=True)]

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        if not tracks:
            return
        units = [tr.unit_id for tr, _ in tracks]
        if len(set(units)) < len(units):
            await super().add_with_values(tracks)
            return
        # one piece per table, both sent with the writes deferred after them: the values find
        # their track by its unit (unique here), and take its event when they name none
        keys = [tr.unit_id for tr, vs in tracks for _ in vs]
        values = [_value_on(v, tr) for tr, vs in tracks for v in vs]
        pieces: list[Piece] = [
            (
                "new_tracks",
                _NEW_TRACKS.sql,
                _NEW_TRACKS.args([rows.track_to_values(tr) for tr, _ in tracks]),
            )
        ]
        if values:
            pieces.append(
                (None, _VALUES_OF_NEW_TRACKS.sql, _VALUES_OF_NEW_TRACKS.args(keys, values))
            )
        await self.pg.defer(*pieces)


# ---------------------------------------------------------------- carriers

_CLOSE_LOADS_OF_UNITS = """UPDATE carrier_load SET unloaded_at = $2
WHERE unit_id = ANY($1::bigint[]) AND unloaded_at IS NULL"""


class PgCarrierRepository(SqlCarrierRepository):
    pg: Pg

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        if unit_ids:
            # deferred: sent with the event's other writes as one statement (adapters/pg.py)
            await self.pg.defer((None, _CLOSE_LOADS_OF_UNITS, [sorted(set(unit_ids)), at]))


# ---------------------------------------------------------------- audit and tokens

_AUDIT = RowsInsert(t.audit_event)
_TOKEN_HOLD = "SELECT 1 AS active FROM api_token WHERE id = $1 AND revoked_at IS NULL FOR SHARE"


class PgAuditRepository(SqlAuditRepository):
    pg: Pg

    async def add(self, event: AuditEvent) -> None:
        await self.add_many([event])

    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        if events:
            values = [rows.audit_to_values(e) for e in events]
            await self.pg.defer((None, _AUDIT.sql, _AUDIT.args(values)))


class PgTokenRepository(SqlTokenRepository):
    pg: Pg

    async def hold(self, token_id: int) -> bool:
        # FOR SHARE: a revoke (UPDATE) waits for this transaction, and this statement for
        # a revoke in flight (then reads the revoked row); requests never wait for each other
        return bool(await self.pg.fetchrow(_TOKEN_HOLD, token_id))
