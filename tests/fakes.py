"""In-memory Fake* implementations of the ports (no mocks: they break when a port changes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from adapters.changes import LocalFeed
from adapters.repositories.ingest_writes import RepositoryIngestWrites
from domain.audit import AuditEvent
from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.cfx.work import CfxWork
from domain.changes import Change
from domain.device_records import DeviceDataRecord, ProductionCountRecord
from domain.enums import (
    UNFINISHED_RUN_STATUSES,
    DispositionAction,
    Judge,
    RunStatus,
    TrackFlag,
    UnitStatus,
)
from domain.errors import KeyTaken
from domain.holds import Hold
from domain.ingest.records import (
    IngestEvent,
    IngestRejection,
    PairingKey,
    ParkedEvent,
    TesterResultKey,
)
from domain.limits import Limits
from domain.master import (
    DataCollectionSpec,
    ExecutionConfig,
    Line,
    Operation,
    Routing,
    Station,
    StationGroup,
)
from domain.panels import Panel
from domain.ports import KeyClaim, UnitMismatch
from domain.routes import RouteVersion
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder
from domain.security import ApiToken
from domain.shifts import Shift
from domain.tracks import DataValue, Track
from domain.usecases.bus import MessageBus
from domain.usecases.handlers import HANDLERS


class FakeClock:
    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current


class FakeUnitsOfMeasure:
    """A few units of three kinds, by their factor to the kind's base: enough for rules over
    the fakes (adapters/units_of_measure.py has pint's every unit, tested on its own)."""

    FACTORS = {
        "Ohm": ("resistance", 1.0),
        "kOhm": ("resistance", 1e3),
        "mOhm": ("resistance", 1e-3),
        "V": ("voltage", 1.0),
        "mV": ("voltage", 1e-3),
        "mm": ("length", 1e-3),
        "um": ("length", 1e-6),
    }

    def convert(self, value: float, from_unit: str, to_unit: str) -> float:
        source, target = self.FACTORS.get(from_unit), self.FACTORS.get(to_unit)
        if source is None or target is None:
            unknown = from_unit if source is None else to_unit
            raise UnitMismatch(from_unit, to_unit, f"unknown unit {unknown!r}")
        if source[0] != target[0]:
            raise UnitMismatch(from_unit, to_unit, "they measure different things")
        return value * source[1] / target[1]


class FakeStore:
    """The committed state. A FakeUnitOfWork works on a copy and writes it back on commit."""

    def __init__(self) -> None:
        self.lines: dict[str, Line] = {}
        self.shifts: dict[str, tuple[Shift, ...]] = {}
        self.groups: dict[str, StationGroup] = {}
        self.stations: dict[str, Station] = {}
        self.operations: dict[str, Operation] = {}
        self.specs: dict[tuple[str, str], DataCollectionSpec] = {}
        self.routings: dict[str, Routing] = {}
        self.configs: dict[tuple[str, str, str], ExecutionConfig] = {}
        self.versions: list[RouteVersion] = []
        self.work_orders: dict[str, WorkOrder] = {}
        self.runs: dict[str, Run] = {}
        self.units: dict[str, Unit] = {}
        self.sn_sequences: dict[str, int] = {}
        self.audit: list[AuditEvent] = []
        self.events: list[IngestEvent] = []
        self.test_results: list[TesterResultKey] = []
        self.rejections: list[IngestRejection] = []
        self.parked: list[ParkedEvent] = []
        self.parked_ids: list[int] = []
        self.tracks: list[Track] = []
        self.values: list[DataValue] = []
        self.carriers: dict[str, Carrier] = {}
        self.panels: dict[str, Panel] = {}
        self.loads: list[CarrierLoad] = []
        self.carrier_tracks: list[CarrierTrack] = []
        self.device_records: list[DeviceDataRecord] = []
        self.counts: list[ProductionCountRecord] = []
        self.dispositions: list[Disposition] = []
        self.tokens: list[ApiToken] = []
        self.holds: dict[int, Hold] = {}
        self.cfx_work: dict[tuple[str, str], CfxWork] = {}
        #: what committed units of work announced, in order
        self.published: list[Change] = []
        #: this store's subscribers (the feed a server process would have)
        self.feed = LocalFeed()

    def copy(self) -> FakeStore:
        other = FakeStore()
        for name, value in vars(self).items():
            if name != "feed":
                setattr(other, name, value.copy())
        return other


class _Repo:
    def __init__(self, state: FakeStore):
        self.s = state


class FakeLines(_Repo):
    async def get(self, code: str) -> Line | None:
        return self.s.lines.get(code)

    async def upsert(self, line: Line) -> None:
        self.s.lines[line.code] = line

    async def shifts(self, code: str) -> tuple[Shift, ...]:
        return self.s.shifts.get(code, ())

    async def replace_shifts(self, code: str, shifts: Sequence[Shift]) -> None:
        self.s.shifts[code] = tuple(sorted(shifts, key=lambda s: s.start))


class FakeGroups(_Repo):
    async def get(self, code: str) -> StationGroup | None:
        return self.s.groups.get(code)

    async def upsert(self, group: StationGroup) -> None:
        self.s.groups[group.code] = group

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        return {c for c in codes if c in self.s.groups}


class FakeStations(_Repo):
    async def get(self, code: str) -> Station | None:
        return self.s.stations.get(code)

    async def get_by_handle(self, cfx_handle: str) -> Station | None:
        return next((s for s in self.s.stations.values() if s.cfx_handle == cfx_handle), None)

    async def lock_handle(self, cfx_handle: str) -> None:
        """A fake unit of work is one transaction at a time already."""

    async def upsert(self, station: Station) -> None:
        self.s.stations[station.code] = station

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        return {c for c in codes if c in self.s.stations}


class FakeOperations(_Repo):
    async def get(self, code: str) -> Operation | None:
        return self.s.operations.get(code)

    async def get_many(self, codes: Iterable[str]) -> dict[str, Operation]:
        return {c: self.s.operations[c] for c in codes if c in self.s.operations}

    async def upsert(self, operation: Operation) -> None:
        self.s.operations[operation.code] = operation


class FakeSpecs(_Repo):
    async def upsert(self, spec: DataCollectionSpec) -> DataCollectionSpec:
        key = (spec.operation_code, spec.name)
        old = self.s.specs.get(key)
        stored = replace(spec, id=old.id if old else len(self.s.specs) + 1)
        self.s.specs[key] = stored
        return stored

    async def for_operations(self, operation_codes: Iterable[str]) -> list[DataCollectionSpec]:
        codes = set(operation_codes)
        return [s for s in self.s.specs.values() if s.operation_code in codes]

    async def with_names(self, names: Iterable[str]) -> list[DataCollectionSpec]:
        wanted = set(names)
        return [s for s in self.s.specs.values() if s.name in wanted]


class FakeRoutings(_Repo):
    async def get(self, code: str, *, for_update: bool = False) -> Routing | None:
        return self.s.routings.get(code)

    async def upsert(self, routing: Routing) -> None:
        self.s.routings[routing.code] = routing


class FakeConfigs(_Repo):
    async def for_routing(self, routing_code: str) -> list[ExecutionConfig]:
        return [c for k, c in self.s.configs.items() if k[0] == routing_code]

    async def put(self, config: ExecutionConfig) -> None:
        key = (config.routing_code, str(config.step_no), str(config.operation_code))
        self.s.configs[key] = config


class FakeVersions(_Repo):
    async def add(self, version: RouteVersion) -> RouteVersion:
        stored = replace(version, id=len(self.s.versions) + 1)
        self.s.versions.append(stored)
        return stored

    async def max_version_no(self, routing_code: str) -> int:
        return max(
            (v.version_no for v in self.s.versions if v.routing_code == routing_code), default=0
        )

    async def latest_ready(self, routing_code: str) -> RouteVersion | None:
        ready = [v for v in self.s.versions if v.routing_code == routing_code and v.is_ready]
        return max(ready, key=lambda v: v.version_no) if ready else None

    async def get_by_id(self, version_id: int) -> RouteVersion | None:
        return next((v for v in self.s.versions if v.id == version_id), None)

    async def get_many(self, version_ids: Sequence[int]) -> dict[int, RouteVersion]:
        return {v.id: v for v in self.s.versions if v.id in set(version_ids) and v.id is not None}


class FakeWorkOrders(_Repo):
    async def get(self, wo_no: str, *, for_update: bool = False) -> WorkOrder | None:
        return self.s.work_orders.get(wo_no)

    async def add(self, work_order: WorkOrder) -> None:
        assert work_order.wo_no not in self.s.work_orders
        self.s.work_orders[work_order.wo_no] = work_order

    async def update(self, work_order: WorkOrder) -> None:
        self.s.work_orders[work_order.wo_no] = work_order


class FakeRuns(_Repo):
    async def get(
        self, run_no: str, *, for_update: bool = False, for_share: bool = False
    ) -> Run | None:
        return self.s.runs.get(run_no)

    async def add(self, run: Run) -> None:
        assert run.run_no not in self.s.runs
        self.s.runs[run.run_no] = run

    async def update(self, run: Run) -> None:
        self.s.runs[run.run_no] = run

    async def count_for_work_order(self, wo_no: str) -> int:
        return sum(1 for r in self.s.runs.values() if r.wo_no == wo_no)

    async def statuses_for_work_order(self, wo_no: str) -> dict[str, RunStatus]:
        return {r.run_no: r.status for r in self.s.runs.values() if r.wo_no == wo_no}

    async def unfinished_versions(self) -> list[int]:
        runs = [r for r in self.s.runs.values() if r.status in UNFINISHED_RUN_STATUSES]
        runs.sort(key=lambda r: (r.created_at or datetime.min.replace(tzinfo=UTC), r.run_no))
        return list(dict.fromkeys(r.route_version_id for r in runs))

    async def set_status_if(self, run_no: str, expected: RunStatus, new: RunStatus) -> bool:
        run = self.s.runs.get(run_no)
        if run is None or run.status is not expected:
            return False
        self.s.runs[run_no] = replace(run, status=new)
        return True


class FakeUnits(_Repo):
    async def get(self, sn: str, *, for_update: bool = False) -> Unit | None:
        return self.s.units.get(sn)

    async def existing_sns(self, sns: Sequence[str]) -> list[str]:
        return sorted(sn for sn in set(sns) if sn in self.s.units)

    async def taken_barcodes(
        self, barcodes: Sequence[str], *, units: bool = True, carriers: bool = True
    ) -> list[str]:
        names = set(self.s.panels)
        names |= self.s.units.keys() if units else set()
        names |= self.s.carriers.keys() if carriers else set()
        return sorted(b for b in set(barcodes) if b in names)

    async def lock_registrations(self) -> None:
        """A fake unit of work is one transaction at a time already."""

    async def add_panels(self, panels: Sequence[Panel]) -> None:
        taken = [p.panel_sn for p in panels if p.panel_sn in self.s.panels]
        if taken:
            raise KeyTaken(taken)
        self.s.panels.update((p.panel_sn, p) for p in panels)

    async def get_panel(self, panel_sn: str) -> Panel | None:
        return self.s.panels.get(panel_sn)

    async def add_many(self, units: Sequence[Unit]) -> None:
        taken = [u.sn for u in units if u.sn in self.s.units]
        if taken:
            raise KeyTaken(taken)
        for u in sorted(units, key=lambda u: u.sn):  # SN order, as the adapters insert
            self.s.units[u.sn] = replace(u, id=len(self.s.units) + 1)

    async def get_by_id(self, unit_id: int, *, for_update: bool = False) -> Unit | None:
        return next((u for u in self.s.units.values() if u.id == unit_id), None)

    async def get_many_by_id(
        self, unit_ids: Sequence[int], *, for_update: bool = False
    ) -> list[Unit]:
        wanted = set(unit_ids)
        return sorted((u for u in self.s.units.values() if u.id in wanted), key=lambda u: u.sn)

    async def get_many(self, sns: Sequence[str], *, for_update: bool = False) -> list[Unit]:
        return [self.s.units[sn] for sn in sorted(set(sns)) if sn in self.s.units]

    async def boards_of_panels(
        self, panel_sns: Sequence[str], *, for_update: bool = False
    ) -> list[Unit]:
        wanted = set(panel_sns)
        return sorted(
            (u for u in self.s.units.values() if u.panel_sn in wanted), key=lambda u: u.sn
        )

    async def update_many(self, units: Sequence[Unit]) -> None:
        for u in units:
            self.s.units[u.sn] = u

    async def add_disposition(self, disposition: Disposition) -> Disposition:
        stored = replace(disposition, id=len(self.s.dispositions) + 1)
        self.s.dispositions.append(stored)
        return stored

    async def sns_of_run(self, run_no: str, limit: int) -> list[str]:
        return sorted(u.sn for u in self.s.units.values() if u.run_no == run_no)[:limit]

    async def count_dispositions(self, unit_id: int, actions: Iterable[DispositionAction]) -> int:
        wanted = set(actions)
        return sum(1 for d in self.s.dispositions if d.unit_id == unit_id and d.action in wanted)

    async def status_counts(self, run_no: str) -> dict[UnitStatus, int]:
        return dict(Counter(u.status for u in self.s.units.values() if u.run_no == run_no))

    async def count_for_work_order(self, wo_no: str, statuses: Sequence[UnitStatus]) -> int:
        return sum(1 for u in self.s.units.values() if u.wo_no == wo_no and u.status in statuses)

    async def next_sn_numbers(self, prefix: str, count: int) -> int:
        last = self.s.sn_sequences.get(prefix, 0)
        self.s.sn_sequences[prefix] = last + count
        return last + 1


class FakeIngestEvents(_Repo):
    async def lock_key(self, source_system: str, dedupe_key: str) -> None:
        return None

    async def get_by_key(self, source_system: str, dedupe_key: str) -> IngestEvent | None:
        return next(
            (
                e
                for e in self.s.events
                if (e.source_system, e.dedupe_key) == (source_system, dedupe_key)
            ),
            None,
        )

    async def claim_key(
        self, source_system: str, dedupe_key: str, token_id: int | None
    ) -> KeyClaim:
        if token_id is not None and not await FakeTokens(self.s).hold(token_id):
            return KeyClaim(token_held=False, event=None)
        await self.lock_key(source_system, dedupe_key)
        parked = await FakeParked(self.s).get_by_key(source_system, dedupe_key)
        return KeyClaim(
            token_held=True,
            event=await self.get_by_key(source_system, dedupe_key),
            parked_id=parked.id if parked else None,
            parked_hash=parked.input_hash if parked else None,
        )

    async def get_by_id(self, event_id: int) -> IngestEvent | None:
        return next((e for e in self.s.events if e.id == event_id), None)

    async def add(self, event: IngestEvent, unit_ids: Sequence[int]) -> IngestEvent | None:
        if await self.get_by_key(event.source_system, event.dedupe_key):
            return None
        stored = replace(event, id=len(self.s.events) + 1)
        self.s.events.append(stored)
        return stored

    async def tester_results(
        self, source_system: str, test_result_ids: Sequence[str], unit_ids: Sequence[int]
    ) -> list[TesterResultKey]:
        return [
            k
            for k in self.s.test_results
            if k.source_system == source_system
            and k.test_result_id in test_result_ids
            and k.unit_id in unit_ids
        ]

    async def add_tester_results(self, keys: Sequence[TesterResultKey]) -> None:
        taken = {(k.source_system, k.test_result_id, k.unit_id) for k in self.s.test_results}
        for k in keys:
            assert (k.source_system, k.test_result_id, k.unit_id) not in taken  # the unique key
        self.s.test_results.extend(keys)


class FakeRejections(_Repo):
    async def find_open(
        self, source_system: str, dedupe_key: str, input_hash: str
    ) -> IngestRejection | None:
        return next(
            (
                j
                for j in self.s.rejections
                if (j.source_system, j.dedupe_key, j.input_hash)
                == (source_system, dedupe_key, input_hash)
                and j.resolved_by_event_id is None
            ),
            None,
        )

    async def get(self, rejection_id: int, *, for_update: bool = False) -> IngestRejection | None:
        return next((j for j in self.s.rejections if j.id == rejection_id), None)

    async def add(self, rejection: IngestRejection) -> IngestRejection:
        stored = replace(rejection, id=len(self.s.rejections) + 1)
        self.s.rejections.append(stored)
        return stored

    async def update(self, rejection: IngestRejection) -> None:
        self.s.rejections = [rejection if j.id == rejection.id else j for j in self.s.rejections]

    async def resolve_key(self, source_system: str, dedupe_key: str, event_id: int) -> int:
        n = 0
        for i, j in enumerate(self.s.rejections):
            if (j.source_system, j.dedupe_key) == (
                source_system,
                dedupe_key,
            ) and j.resolved_by_event_id is None:
                self.s.rejections[i] = replace(j, resolved_by_event_id=event_id)
                n += 1
        return n


class FakeParked(_Repo):
    async def get_by_key(self, source_system: str, dedupe_key: str) -> ParkedEvent | None:
        return next(
            (
                p
                for p in self.s.parked
                if (p.source_system, p.dedupe_key) == (source_system, dedupe_key)
            ),
            None,
        )

    async def add(self, parked: ParkedEvent) -> ParkedEvent:
        # ids are never reused, as a sequence's are not
        self.s.parked_ids = [*self.s.parked_ids, len(self.s.parked_ids) + 1]
        stored = replace(
            parked, id=self.s.parked_ids[-1], unit_ids=tuple(dict.fromkeys(parked.unit_ids))
        )
        self.s.parked.append(stored)
        return stored

    async def waiting(self, unit_ids: Sequence[int], step_no: int) -> list[ParkedEvent]:
        ids = set(unit_ids)
        found = [
            p
            for p in self.s.parked
            if p.waiting_for_step_no == step_no and ids.intersection(p.unit_ids)
        ]
        return sorted(found, key=lambda p: (p.occurred_at, p.id or 0))

    async def waiting_for_start(self, source_system: str, transaction_id: str) -> list[ParkedEvent]:
        found = [
            p
            for p in self.s.parked
            if (p.source_system, p.waiting_for_transaction) == (source_system, transaction_id)
        ]
        return sorted(found, key=lambda p: (p.occurred_at, p.id or 0))

    async def expired(self, now: datetime, limit: int) -> list[ParkedEvent]:
        found = [p for p in self.s.parked if p.expires_at <= now]
        return sorted(found, key=lambda p: (p.expires_at, p.id or 0))[:limit]

    async def started_waits(self, limit: int) -> list[PairingKey]:
        keys = [
            PairingKey(p.source_system, p.waiting_for_transaction)
            for p in self.s.parked
            if p.waiting_for_transaction is not None
        ]
        started = [
            k
            for k in dict.fromkeys(keys)
            if (w := self.s.cfx_work.get((k.source_system, k.transaction_id))) is not None
            and w.started_at is not None
        ]
        return started[:limit]

    async def remove(self, parked_id: int) -> bool:
        kept = [p for p in self.s.parked if p.id != parked_id]
        gone = len(kept) != len(self.s.parked)
        self.s.parked = kept
        return gone


class FakeTracks(_Repo):
    async def get(self, track_id: int) -> Track | None:
        return next((tr for tr in self.s.tracks if tr.id == track_id), None)

    async def open_of_unit(self, unit_id: int) -> Track | None:
        return next(
            (tr for tr in reversed(self.s.tracks) if tr.unit_id == unit_id and tr.out_at is None),
            None,
        )

    async def close(self, track: Track) -> None:
        self.s.tracks = [track if tr.id == track.id else tr for tr in self.s.tracks]

    async def set_flag(self, track_id: int, flag: TrackFlag) -> None:
        self.s.tracks = [
            replace(tr, flag=flag) if tr.id == track_id else tr for tr in self.s.tracks
        ]

    async def units_of_carrier_track(self, carrier_track_id: int) -> list[int]:
        return [tr.unit_id for tr in self.s.tracks if tr.carrier_track_id == carrier_track_id]

    async def matching(
        self, run_no: str, unit_id: int, step_no: int, station_code: str | None
    ) -> list[Track]:
        return [
            tr
            for tr in reversed(self.s.tracks)
            if (tr.run_no, tr.unit_id, tr.step_no) == (run_no, unit_id, step_no)
            and (station_code is None or tr.station_code == station_code)
        ]

    async def latest_run_at(self, station_code: str) -> str | None:
        return next(
            (tr.run_no for tr in reversed(self.s.tracks) if tr.station_code == station_code),
            None,
        )

    async def add_many(self, tracks: Sequence[Track]) -> list[Track]:
        stored = [replace(tr, id=len(self.s.tracks) + i + 1) for i, tr in enumerate(tracks)]
        self.s.tracks.extend(stored)
        return stored

    async def add_with_values(self, tracks: Sequence[tuple[Track, Sequence[DataValue]]]) -> None:
        stored = await self.add_many([tr for tr, _ in tracks])
        for track, (_, values) in zip(stored, tracks, strict=True):
            self.s.values.extend(
                replace(
                    v,
                    track_id=track.id,
                    ingest_event_id=v.ingest_event_id or track.ingest_event_id,
                )
                for v in values
            )


class FakeCfxWork(_Repo):
    async def get(self, source_system: str, transaction_id: str) -> CfxWork | None:
        return self.s.cfx_work.get((source_system, transaction_id))

    def _put(self, work: CfxWork) -> CfxWork:
        if work.id is None:
            work = replace(work, id=len(self.s.cfx_work) + 1)
        self.s.cfx_work[(work.source_system, work.transaction_id)] = work
        return work

    async def record_start(
        self,
        source_system: str,
        transaction_id: str,
        started_at: datetime,
        units: tuple[dict[str, Any], ...],
        recipe: str | None,
        start_event_id: int,
    ) -> CfxWork:
        work = await self.get(source_system, transaction_id) or CfxWork(
            source_system, transaction_id
        )
        if work.start_event_id is not None:
            return work
        started = started_at.astimezone(UTC)
        return self._put(
            replace(
                work,
                started_at=started,
                units=tuple(units),
                recipe=recipe,
                start_event_id=start_event_id,
            )
        )

    async def record_result(
        self, source_system: str, transaction_id: str, event_id: int, dedupe_key: str
    ) -> CfxWork:
        work = await self.get(source_system, transaction_id) or CfxWork(
            source_system, transaction_id
        )
        if work.result_event_id is not None:
            return work
        return self._put(replace(work, result_event_id=event_id, result_key=dedupe_key))

    async def fill_in_at(self, event_id: int, started_at: datetime) -> int:
        filled = 0
        tracks = []
        for tr in self.s.tracks:
            if (
                tr.ingest_event_id == event_id
                and (tr.in_at is None or tr.in_at == tr.out_at)
                and (tr.out_at is None or tr.out_at >= started_at)
            ):
                tr = replace(tr, in_at=started_at)
                filled += 1
            tracks.append(tr)
        self.s.tracks = tracks
        return filled


class FakeCarriers(_Repo):
    async def get(self, carrier_no: str) -> Carrier | None:
        return self.s.carriers.get(carrier_no)

    async def get_or_create(self, carrier_no: str, at: datetime) -> Carrier:
        if carrier_no not in self.s.carriers:
            self.s.carriers[carrier_no] = Carrier(carrier_no, at, id=len(self.s.carriers) + 1)
        return self.s.carriers[carrier_no]

    async def open_loads(self, carrier_id: int) -> list[CarrierLoad]:
        return [ld for ld in self.s.loads if ld.carrier_id == carrier_id and ld.unloaded_at is None]

    async def open_loads_of_units(self, unit_ids: Sequence[int]) -> list[CarrierLoad]:
        wanted = set(unit_ids)
        return [ld for ld in self.s.loads if ld.unit_id in wanted and ld.unloaded_at is None]

    async def add_loads(self, loads: Sequence[CarrierLoad]) -> None:
        for ld in loads:
            self.s.loads.append(replace(ld, id=len(self.s.loads) + 1))

    async def close_loads(self, load_ids: Sequence[int], at: datetime) -> None:
        ids = set(load_ids)
        self.s.loads = [
            replace(ld, unloaded_at=at) if ld.id in ids and ld.unloaded_at is None else ld
            for ld in self.s.loads
        ]

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        ids = set(unit_ids)
        self.s.loads = [
            replace(ld, unloaded_at=at) if ld.unit_id in ids and ld.unloaded_at is None else ld
            for ld in self.s.loads
        ]

    async def add_track(self, track: CarrierTrack) -> CarrierTrack:
        stored = replace(track, id=len(self.s.carrier_tracks) + 1)
        self.s.carrier_tracks.append(stored)
        return stored

    async def get_track(self, carrier_track_id: int) -> CarrierTrack | None:
        return next((ct for ct in self.s.carrier_tracks if ct.id == carrier_track_id), None)

    async def set_track_flag(self, carrier_track_id: int, flag: TrackFlag) -> None:
        self.s.carrier_tracks = [
            replace(ct, flag=flag) if ct.id == carrier_track_id else ct
            for ct in self.s.carrier_tracks
        ]


class FakeDeviceData(_Repo):
    async def get_by_event_id(self, event_id: str) -> DeviceDataRecord | None:
        return next((d for d in self.s.device_records if d.event_id == event_id), None)

    async def add(self, record: DeviceDataRecord) -> DeviceDataRecord | None:
        if await self.get_by_event_id(record.event_id):
            return None
        stored = replace(record, id=len(self.s.device_records) + 1)
        self.s.device_records.append(stored)
        return stored

    async def set_values_created(self, record_id: int, count: int) -> None:
        self.s.device_records = [
            replace(d, values_created=count) if d.id == record_id else d
            for d in self.s.device_records
        ]


class FakeProductionCounts(_Repo):
    async def get_by_event_id(self, event_id: str) -> ProductionCountRecord | None:
        return next((c for c in self.s.counts if c.event_id == event_id), None)

    async def add(self, record: ProductionCountRecord) -> ProductionCountRecord | None:
        if await self.get_by_event_id(record.event_id):
            return None
        stored = replace(record, id=len(self.s.counts) + 1)
        self.s.counts.append(stored)
        return stored


class FakeTokens(_Repo):
    async def add(self, token: ApiToken) -> ApiToken:
        existing = await self.get(token.name)
        if existing is not None and existing.active:
            raise KeyTaken([token.name])
        stored = replace(token, id=len(self.s.tokens) + 1)
        self.s.tokens.append(stored)
        return stored

    async def get(self, name: str) -> ApiToken | None:
        return next((tk for tk in reversed(self.s.tokens) if tk.name == name), None)

    async def all(self) -> list[ApiToken]:
        return sorted(self.s.tokens, key=lambda tk: (tk.name, tk.id or 0))

    async def hold(self, token_id: int) -> bool:
        return any(tk.id == token_id and tk.active for tk in self.s.tokens)

    async def revoke(self, name: str, at: datetime) -> bool:
        token = await self.get(name)
        if token is None or token.revoked_at is not None:
            return False
        self.s.tokens[self.s.tokens.index(token)] = replace(token, revoked_at=at)
        return True


class FakeDataValues(_Repo):
    async def add_many(self, values: Sequence[DataValue]) -> None:
        self.s.values.extend(values)

    async def failed_spec_names(self, track_id: int) -> set[str]:
        return {
            v.spec_name for v in self.s.values if v.track_id == track_id and v.judge is Judge.FAIL
        }


class FakeAudit(_Repo):
    async def add(self, event: AuditEvent) -> None:
        self.s.audit.append(event)

    async def add_many(self, events: Sequence[AuditEvent]) -> None:
        self.s.audit.extend(events)


class FakeHolds(_Repo):
    async def add(self, hold: Hold) -> Hold:
        stored = replace(hold, id=len(self.s.holds) + 1)
        self.s.holds[stored.id or 0] = stored
        return stored

    async def get(self, hold_id: int, *, for_update: bool = False) -> Hold | None:
        return self.s.holds.get(hold_id)

    async def open_of_units(self, unit_ids: Sequence[int]) -> dict[int, list[Hold]]:
        found: dict[int, list[Hold]] = {}
        for hold in self.s.holds.values():
            for u in hold.units:
                if u.unit_id in unit_ids and u.is_open:
                    found.setdefault(u.unit_id, []).append(replace(hold, units=(u,)))
        return found

    async def release(
        self, unit_ids: Sequence[int], at: datetime, hold_id: int | None = None
    ) -> None:
        for hid, hold in list(self.s.holds.items()):
            if hold_id is not None and hid != hold_id:
                continue
            units = tuple(
                replace(u, released_at=at) if u.unit_id in unit_ids and u.is_open else u
                for u in hold.units
            )
            if units != hold.units:
                done = hold.closed_at or (at if not any(u.is_open for u in units) else None)
                self.s.holds[hid] = replace(hold, units=units, closed_at=done)


class FakeUnitOfWork:
    def __init__(self, store: FakeStore):
        self.store = store
        self.committed = False
        self.changes: list[Change] = []

    async def __aenter__(self) -> Self:
        self.state = state = self.store.copy()
        self.lines = FakeLines(state)
        self.station_groups = FakeGroups(state)
        self.stations = FakeStations(state)
        self.operations = FakeOperations(state)
        self.data_specs = FakeSpecs(state)
        self.routings = FakeRoutings(state)
        self.execution_configs = FakeConfigs(state)
        self.route_versions = FakeVersions(state)
        self.work_orders = FakeWorkOrders(state)
        self.runs = FakeRuns(state)
        self.units = FakeUnits(state)
        self.audit = FakeAudit(state)
        self.ingest_events = FakeIngestEvents(state)
        self.rejections = FakeRejections(state)
        self.parked = FakeParked(state)
        self.tracks = FakeTracks(state)
        self.cfx_work = FakeCfxWork(state)
        self.data_values = FakeDataValues(state)
        self.carriers = FakeCarriers(state)
        self.device_data = FakeDeviceData(state)
        self.production_counts = FakeProductionCounts(state)
        self.tokens = FakeTokens(state)
        self.holds = FakeHolds(state)
        # the same steps as the SQL units of work, over the fakes
        self.ingest_writes = RepositoryIngestWrites(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.changes.clear()

    def publish(self, change: Change) -> None:
        self.changes.append(change)

    async def commit(self) -> None:
        for name, value in vars(self.state).items():
            if name != "feed":
                setattr(self.store, name, value)
        changes, self.changes = self.changes, []
        self.store.published.extend(changes)
        self.store.feed.publish(changes)
        self.committed = True

    async def rollback(self) -> None:
        self.changes.clear()


class FakeUnitOfWorkFactory:
    def __init__(self, store: FakeStore | None = None):
        self.store = store or FakeStore()

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)


def fake_bus(limits: Limits | None = None) -> tuple[MessageBus, FakeStore]:
    from domain.ingest.parking import Redriver
    from domain.ingest.resolve import MappingCache

    factory = FakeUnitOfWorkFactory()
    clock, limits = FakeClock(), limits or Limits()
    redriver = Redriver(MappingCache(), clock, limits, FakeUnitsOfMeasure())
    bus = MessageBus(factory, clock, limits, HANDLERS, redriver)
    return bus, factory.store
