"""loadCarrier / unloadCarrier: explicit loads of a carrier (DOMAIN.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.actors import check_station_binding
from domain.carriers import Carrier, CarrierLoad
from domain.changes import UnitsChanged
from domain.errors import DomainError, ErrorCode
from domain.ports import UnitOfWork
from domain.runs_and_units import require_registered
from domain.usecases.bus import Command, Deps
from domain.validation import check_code

MAX_LOAD_UNITS = 1000


def _when(at: datetime | None, deps: Deps) -> datetime:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "at has no UTC offset (naive times are refused)",
            {"field": "at"},
        )
    return at or deps.clock.now()


async def _units(uow: UnitOfWork, sns: tuple[str, ...]) -> dict[int, str]:
    if len(sns) > MAX_LOAD_UNITS:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"at most {MAX_LOAD_UNITS} units per call",
            {"field": "sns", "count": len(sns), "max": MAX_LOAD_UNITS},
        )
    for sn in sns:
        check_code(sn, "sns")
    units = await uow.units.get_many(list(sns), for_update=True)
    require_registered(sns, units)
    return {u.id or 0: u.sn for u in units}


async def _at_station(uow: UnitOfWork, deps: Deps, station_code: str | None) -> None:
    """Where the loading happens: optional, but a station-bound token must name one of its
    own; a named station must exist."""
    if station_code is None:
        await check_station_binding(deps.actor, uow, None)
        return
    check_code(station_code, "stationCode")
    station = await uow.stations.get(station_code)
    refusal = deps.actor.station_refusal(station_code, station) if deps.actor else None
    if refusal is not None:
        raise refusal
    if station is None:
        raise DomainError(
            ErrorCode.STATION_NOT_FOUND,
            f"station {station_code!r} not found",
            {"stationCode": station_code},
        )


@dataclass(frozen=True, slots=True)
class LoadCarrier(Command):
    carrier_no: str
    sns: tuple[str, ...]
    at: datetime | None = None
    station_code: str | None = None
    action: ClassVar[str] = "loadCarrier"
    entity_type: ClassVar[str] = "Carrier"

    def entity_key(self) -> str:
        return self.carrier_no


async def load_carrier(cmd: LoadCarrier, uow: UnitOfWork, deps: Deps) -> Carrier:
    """Open loads for these units (closing each unit's open load on another carrier); a unit
    already loaded on this carrier stays as it is, so the same call twice changes nothing."""
    check_code(cmd.carrier_no, "carrierNo")
    await _at_station(uow, deps, cmd.station_code)
    if not cmd.sns:
        raise DomainError(ErrorCode.VALIDATION_FAILED, "sns must not be empty", {"field": "sns"})
    at = _when(cmd.at, deps)
    units = await _units(uow, cmd.sns)
    await _not_a_panel(uow, cmd.carrier_no)
    carrier = await uow.carriers.get_or_create(cmd.carrier_no, deps.clock.now())
    assert carrier.id is not None
    open_loads = await uow.carriers.open_loads_of_units(list(units))
    await uow.carriers.close_loads(
        [ld.id or 0 for ld in open_loads if ld.carrier_id != carrier.id], at
    )
    here = {ld.unit_id for ld in open_loads if ld.carrier_id == carrier.id}
    await uow.carriers.add_loads(
        [
            CarrierLoad(carrier_id=carrier.id, unit_id=u, loaded_at=at)
            for u in units
            if u not in here
        ]
    )
    uow.publish(UnitsChanged(tuple(sn for u, sn in units.items() if u not in here)))
    return carrier


@dataclass(frozen=True, slots=True)
class UnloadCarrier(Command):
    carrier_no: str
    sns: tuple[str, ...] | None = None
    at: datetime | None = None
    station_code: str | None = None
    action: ClassVar[str] = "unloadCarrier"
    entity_type: ClassVar[str] = "Carrier"

    def entity_key(self) -> str:
        return self.carrier_no


async def unload_carrier(cmd: UnloadCarrier, uow: UnitOfWork, deps: Deps) -> Carrier:
    """Close the loads of these units on this carrier (all when sns is omitted); a unit not
    loaded on it is left alone, so the same call twice changes nothing."""
    check_code(cmd.carrier_no, "carrierNo")
    await _at_station(uow, deps, cmd.station_code)
    at = _when(cmd.at, deps)
    carrier = await uow.carriers.get(cmd.carrier_no)
    if carrier is None or carrier.id is None:
        raise DomainError(
            ErrorCode.CARRIER_NOT_FOUND,
            f"carrier {cmd.carrier_no!r} not found",
            {"carrierNo": cmd.carrier_no},
        )
    loads = await uow.carriers.open_loads(carrier.id)
    # a unit's loads change only under its lock: a BATCH event that read these loads either
    # committed before we get the units (its loads are closed already and stay as it left
    # them) or looks again after we commit (and no longer finds the boards)
    if cmd.sns is not None:
        units = await _units(uow, cmd.sns)
        loads = [ld for ld in loads if ld.unit_id in units]
    else:
        found = await uow.units.get_many_by_id([ld.unit_id for ld in loads], for_update=True)
        units = {u.id or 0: u.sn for u in found}
    await uow.carriers.close_loads([ld.id or 0 for ld in loads], at)
    uow.publish(UnitsChanged(tuple(units[ld.unit_id] for ld in loads if ld.unit_id in units)))
    return carrier


async def _not_a_panel(uow: UnitOfWork, carrier_no: str) -> None:
    """A panel's barcode names the panel: a carrier of that name would be ambiguous."""
    if await uow.units.taken_barcodes([carrier_no], units=False, carriers=False):
        raise DomainError(
            ErrorCode.UNIT_ALREADY_EXISTS,
            f"{carrier_no!r} is a panel's barcode, not a carrier",
            {"sns": [carrier_no], "count": 1},
        )
