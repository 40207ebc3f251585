"""The CFX messages whose meaning is a change the mappings cannot say (issue 21 item 3):

- `UnitsLoaded` / `UnitsUnloaded`: the carrier (`UniqueIdentifier`) loads / unloads the units
  it names (LoadCarrier / UnloadCarrier at the Source's station, at the message's TimeStamp;
  an UnitsUnloaded naming no units unloads them all);
- `ComponentsPlaced`: a production-count record (RecordProductionCounts: eventId the
  UniqueID, the station's line, equipment the Source, one module — the station's code — with
  picked = TotalComponentsPlaced + TotalComponentsNotPlaced and placed =
  TotalComponentsPlaced, StartTime–EndTime, the run of the station's latest track if it has
  one). Quantity 0: the message counts components, not boards;
- `UnitsDisqualified`: X-outs (domain/cfx/disqualify.py).

Each is ALSO an INFO ingest event keyed by its UniqueID, written in the same transaction as
its command (through the pipeline's envelope checks, dedupe and refusal storage,
`IngestService.ingest(..., meaning)`): a resend is DUPLICATE and changes nothing, the message
is listed on its units' trace, a refusal is stored (not replayable: a replay reads by the
mappings) with the command's code. The token's sources and station binding apply.

Units are named as the machine labels them (domain/cfx/units.py): a unit's SN, a panel's
barcode with a position (that board) or without (every board)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from domain.actors import Actor
from domain.cfx.disqualify import NAME as UNITS_DISQUALIFIED
from domain.cfx.disqualify import disqualify, reason_of
from domain.cfx.envelope import CfxEnvelope, parse_time
from domain.cfx.units import boards_named, invalid, named_units, sns_of
from domain.changes import IngestCommitted, UnitsChanged
from domain.device_records import ModuleCount
from domain.enums import IngestStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import Meaning
from domain.ingest.records import IngestEnvelope, IngestEvent
from domain.ingest.resolve import Progress
from domain.master import Station
from domain.ports import EventWrites, UnitOfWork
from domain.runs_and_units import Disposition, Unit, require_registered
from domain.usecases.bus import MessageBus
from domain.usecases.carriers import MAX_LOAD_UNITS, LoadCarrier, UnloadCarrier
from domain.usecases.counts import CountsResult, RecordProductionCounts

UNITS_LOADED = "CFX.Production.LoadingAndUnloading.UnitsLoaded"
UNITS_UNLOADED = "CFX.Production.LoadingAndUnloading.UnitsUnloaded"
COMPONENTS_PLACED = "CFX.ResourcePerformance.SMTPlacement.ComponentsPlaced"


@dataclass(frozen=True, slots=True)
class Done:
    """What a message did, for its event row: the units it is about (after the change), the
    boards it made X_OUT with their dispositions, what `normalized` says besides."""

    units: tuple[Unit, ...]
    normalized: dict[str, Any]
    changed: tuple[Unit, ...] = ()
    dispositions: tuple[Disposition, ...] = ()
    carrier_code: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message as its meaning sees it."""

    cfx: CfxEnvelope
    station: Station
    actor: Actor
    at: datetime

    @property
    def name(self) -> str:
        return self.cfx.message_name or ""

    @property
    def body(self) -> dict[str, Any]:
        body = self.cfx.raw.get("MessageBody")
        if not isinstance(body, dict):
            raise invalid(self.name, "MessageBody is not an object")
        return body


Handler = Callable[["CfxMeanings", UnitOfWork, Message, Progress], Awaitable[Done]]


class CfxMeanings:
    """The meanings above, over the command bus (its handlers run in the ingest's
    transaction)."""

    def __init__(self, bus: MessageBus):
        self.bus = bus

    def meaning_of(self, cfx: CfxEnvelope, station: Station, actor: Actor) -> Meaning | None:
        """The message's meaning for the pipeline; None for a message read as today."""
        handler = HANDLERS.get(cfx.message_name or "")
        return None if handler is None else partial(self._record, handler, cfx, station, actor)

    async def _record(
        self,
        handler: Handler,
        cfx: CfxEnvelope,
        station: Station,
        actor: Actor,
        uow: UnitOfWork,
        env: IngestEnvelope,
        input_hash: str,
        received_at: datetime,
        progress: Progress,
    ) -> IngestEvent | None:
        refusal = actor.station_refusal(station.code, station)
        if refusal is not None:
            raise refusal
        assert env.occurred_at is not None  # the envelope check requires it
        done = await handler(self, uow, Message(cfx, station, actor, env.occurred_at), progress)
        event = _event_row(env, input_hash, received_at, station, done)
        stored = await uow.ingest_writes.record(
            EventWrites(
                event=event,
                unit_ids=tuple(u.id for u in done.units if u.id is not None),
                tester_keys=(),
                carrier=None,
                tracks=(),
                units=done.changed,
                run_start=None,
                dispositions=done.dispositions,
            )
        )
        if stored is None or stored.id is None:
            return None
        uow.publish(
            IngestCommitted(
                IngestStatus.ACCEPTED, stored.source_system, station.line_code, event_id=stored.id
            )
        )
        if done.units:
            uow.publish(UnitsChanged.of(done.units))
        return stored

    # ------------------------------------------------------------ the messages

    async def _loaded(self, uow: UnitOfWork, m: Message, progress: Progress) -> Done:
        carrier = _carrier_of(m)
        sns = await _named_sns(uow, m, progress, required=True)
        await self.bus.run_in(
            LoadCarrier(carrier, tuple(sns), at=m.at, station_code=m.station.code), uow, m.actor
        )
        units = await uow.units.get_many(sns)
        return Done(
            tuple(units), {"meaning": "carrierLoaded", "carrierNo": carrier}, (), (), carrier
        )

    async def _unloaded(self, uow: UnitOfWork, m: Message, progress: Progress) -> Done:
        carrier = _carrier_of(m)
        sns = await _named_sns(uow, m, progress, required=False)
        if sns:
            cmd = UnloadCarrier(carrier, tuple(sns), at=m.at, station_code=m.station.code)
            units = await uow.units.get_many(sns)
        else:
            # every open load of the carrier: its units are the message's
            cmd = UnloadCarrier(carrier, None, at=m.at, station_code=m.station.code)
            found = await uow.carriers.get(carrier)
            loads = await uow.carriers.open_loads(found.id) if found and found.id else []
            units = await uow.units.get_many_by_id([ld.unit_id for ld in loads])
        await self.bus.run_in(cmd, uow, m.actor)
        normalized = {"meaning": "carrierUnloaded", "carrierNo": carrier, "allUnits": not sns}
        return Done(tuple(units), normalized, (), (), carrier)

    async def _placed(self, uow: UnitOfWork, m: Message, progress: Progress) -> Done:
        body = m.body
        placed = _count(m, body, "TotalComponentsPlaced")
        not_placed = _count(m, body, "TotalComponentsNotPlaced")
        started_at, ended_at = _time(m, body, "StartTime"), _time(m, body, "EndTime")
        if m.station.line_code is None:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"{m.name}: station {m.station.code} is on no line (production counts need one)",
                {"stationCode": m.station.code},
            )
        run_no = await uow.tracks.latest_run_at(m.station.code)
        cmd = RecordProductionCounts(
            event_id=m.cfx.unique_id,
            line_code=m.station.line_code,
            # the message counts components, not boards
            quantity=0,
            started_at=started_at,
            ended_at=ended_at,
            modules=(ModuleCount(m.station.code, placed + not_placed, placed),),
            station_code=m.station.code,
            equipment_id=m.cfx.source,
            run_no=run_no,
        )
        result: CountsResult = await self.bus.run_in(cmd, uow, m.actor)
        normalized = {
            "meaning": "productionCounts",
            "productionCountRecordId": result.record.id,
            "runNo": run_no,
            "picked": placed + not_placed,
            "placed": placed,
        }
        return Done((), normalized)

    async def _disqualified(self, uow: UnitOfWork, m: Message, progress: Progress) -> Done:
        body = m.body
        sns = await _named_sns(uow, m, progress, required=True)
        units = await uow.units.get_many(sns, for_update=True)
        require_registered(sns, units)
        out = await disqualify(uow, units, reason_of(m.cfx.source, body), m.at)
        changed = {u.sn: u for u in out.units}
        after = tuple(changed.get(u.sn, u) for u in units)
        normalized = {
            "meaning": "unitsDisqualified",
            "reason": body.get("Reason") if isinstance(body.get("Reason"), str) else None,
            "xOuts": [u.sn for u in out.units],
            "unchanged": [{"sn": u.sn, "status": u.status.value} for u in out.unchanged],
        }
        return Done(after, normalized, out.units, out.dispositions)


HANDLERS: dict[str, Handler] = {
    UNITS_LOADED: CfxMeanings._loaded,
    UNITS_UNLOADED: CfxMeanings._unloaded,
    COMPONENTS_PLACED: CfxMeanings._placed,
    UNITS_DISQUALIFIED: CfxMeanings._disqualified,
}


# ---------------------------------------------------------------- reading the body


def _carrier_of(m: Message) -> str:
    carrier = m.body.get("UniqueIdentifier")
    if not isinstance(carrier, str) or not carrier.strip():
        raise invalid(m.name, "UniqueIdentifier (the carrier) is not a barcode")
    return carrier.strip()


def _count(m: Message, body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(m.name, f"{field} is not a whole number from 0")
    return value


def _time(m: Message, body: dict[str, Any], field: str) -> datetime:
    at, error = parse_time(body.get(field))
    if at is None:
        raise invalid(m.name, error.replace("TimeStamp", field) if error else f"no {field}")
    return at


async def _named_sns(
    uow: UnitOfWork, m: Message, progress: Progress, *, required: bool
) -> list[str]:
    """The SNs the message's Units stand for (noted for a refusal)."""
    asked = named_units(m.body, m.name, required=required)
    barcodes = list(dict.fromkeys(a.barcode for a in asked))
    if len(barcodes) > MAX_LOAD_UNITS:
        raise invalid(m.name, f"a message names at most {MAX_LOAD_UNITS} units")
    units = {u.sn for u in await uow.units.get_many(barcodes)} if barcodes else set()
    others = [b for b in barcodes if b not in units]
    panels: dict[str, list[Unit]] = {}
    for board in await uow.units.boards_of_panels(others) if others else []:
        panels.setdefault(board.panel_sn or "", []).append(board)
    sns = sns_of(asked, boards_named(asked, units, panels))
    progress.sns = sns
    return sns


# ---------------------------------------------------------------- the event row


def _event_row(
    env: IngestEnvelope, input_hash: str, received_at: datetime, station: Station, done: Done
) -> IngestEvent:
    assert env.occurred_at is not None
    run_nos = sorted({u.run_no for u in done.units})
    return IngestEvent(
        source_system=env.source_system,
        dedupe_key=env.dedupe_key,
        input_hash=input_hash,
        event_type=env.event_type,
        occurred_at=env.occurred_at,
        received_at=received_at,
        payload=env.payload,
        run_no=run_nos[0] if len(run_nos) == 1 else None,
        station_code=station.code,
        line_code=station.line_code,
        sn=done.units[0].sn if len(done.units) == 1 else None,
        sn_list=tuple(u.sn for u in done.units),
        carrier_code=done.carrier_code,
        normalized={
            "stationCode": station.code,
            "lineCode": station.line_code,
            **done.normalized,
            "units": [{"sn": u.sn, "status": u.status.value} for u in done.units],
        },
        meta=env.meta,
    )
