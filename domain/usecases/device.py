"""The device gateway: values for an existing track or carrier track (DOMAIN.md §7)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from domain.actors import check_station_binding
from domain.carriers import CarrierTrack
from domain.changes import UnitsChanged
from domain.device_records import DeviceDataRecord
from domain.enums import (
    CollectionMethod,
    DeviceDataSource,
    LateKeyFailAction,
    TrackFlag,
    TrackResult,
    TrackSource,
)
from domain.errors import DomainError, ErrorCode
from domain.holding import open_hold
from domain.holds import ALARM_REASON, LATE_KEY_FAIL_REASON
from domain.ingest.data import JudgedValue
from domain.lifecycle import can_be_held
from domain.ports import UnitOfWork
from domain.routes import RouteStep, StepDataSpec
from domain.runs_and_units import Unit
from domain.tracks import Track
from domain.usecases.bus import Command, Deps
from domain.usecases.holds import SYSTEM_ACTOR
from domain.validation import check_code, check_json_input, check_optional_code, check_values
from domain.values import ValueInput, judged_inputs

MAX_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class DeviceDataResult:
    duplicate: bool
    values_created: int
    track: Track | None = None
    carrier_track: CarrierTrack | None = None


@dataclass(frozen=True, slots=True)
class RecordDeviceData(Command):
    event_id: str
    event_time: datetime
    source: DeviceDataSource
    data: tuple[ValueInput, ...]
    run_no: str | None = None
    unit_sn: str | None = None
    station_code: str | None = None
    step_no: int | None = None
    track_id: int | None = None
    carrier_track_id: int | None = None
    equipment_id: str | None = None
    operator_id: str | None = None
    meta: Any = field(default=None, hash=False)
    action: ClassVar[str] = "recordDeviceData"
    entity_type: ClassVar[str] = "DeviceDataRecord"
    source_bound: ClassVar[bool] = True

    def sender(self) -> str | None:
        """The sender: the equipment, else the station, else nothing."""
        return self.equipment_id or self.station_code

    def entity_key(self) -> str:
        return self.event_id

    def input_hash(self) -> str:
        """Everything but meta: the same input again is a duplicate, another is a conflict."""
        doc = {
            "eventTime": self.event_time.isoformat(),
            "source": self.source.value,
            "runNo": self.run_no,
            "unitSn": self.unit_sn,
            "stationCode": self.station_code,
            "stepNo": self.step_no,
            "trackId": self.track_id,
            "carrierTrackId": self.carrier_track_id,
            "equipmentId": self.equipment_id,
            "operatorId": self.operator_id,
            "data": [
                {
                    "specName": d.spec_name,
                    "values": d.values,
                    "judge": d.judge.value if d.judge else None,
                    "collectedAt": d.collected_at.isoformat() if d.collected_at else None,
                }
                for d in self.data
            ],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _check(cmd: RecordDeviceData, max_json_depth: int) -> None:
    check_code(cmd.event_id, "eventId")
    check_optional_code(cmd.run_no, "runNo")
    check_optional_code(cmd.unit_sn, "unitSn")
    check_optional_code(cmd.station_code, "stationCode")
    check_optional_code(cmd.equipment_id, "equipmentId")
    check_optional_code(cmd.operator_id, "operatorId")
    check_values([d.values for d in cmd.data], "data", max_json_depth)
    check_json_input(cmd.meta, "meta", max_json_depth)
    if cmd.event_time.tzinfo is None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, "eventTime has no UTC offset", {"field": "eventTime"}
        )
    if not cmd.data or len(cmd.data) > MAX_ITEMS:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"data takes 1 to {MAX_ITEMS} items",
            {"field": "data", "count": len(cmd.data), "max": MAX_ITEMS},
        )
    if cmd.track_id is not None and cmd.carrier_track_id is not None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "give trackId or carrierTrackId, not both",
            {"field": "trackId"},
        )
    if cmd.source is DeviceDataSource.MANUAL and not cmd.operator_id:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "source MANUAL needs an operatorId",
            {"field": "operatorId"},
        )
    if (
        cmd.track_id is None
        and cmd.carrier_track_id is None
        and not (cmd.run_no and cmd.unit_sn and cmd.step_no is not None)
    ):
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "resolve the track by trackId, carrierTrackId, or runNo + unitSn + stepNo",
            {"field": "trackId"},
        )


async def _target(cmd: RecordDeviceData, uow: UnitOfWork) -> Track | CarrierTrack:
    if cmd.track_id is not None:
        track = await uow.tracks.get(cmd.track_id)
        if track is None:
            raise DomainError(
                ErrorCode.TRACK_NOT_FOUND,
                f"track {cmd.track_id} not found",
                {"trackId": str(cmd.track_id)},
            )
        return track
    if cmd.carrier_track_id is not None:
        ct = await uow.carriers.get_track(cmd.carrier_track_id)
        if ct is None:
            raise DomainError(
                ErrorCode.TRACK_NOT_FOUND,
                f"carrier track {cmd.carrier_track_id} not found",
                {"carrierTrackId": str(cmd.carrier_track_id)},
            )
        return ct
    assert cmd.run_no and cmd.unit_sn and cmd.step_no is not None
    unit = await uow.units.get(cmd.unit_sn)
    matches = (
        await uow.tracks.matching(cmd.run_no, unit.id or 0, cmd.step_no, cmd.station_code)
        if unit
        else []
    )
    if not matches:
        raise DomainError(
            ErrorCode.TRACK_NOT_FOUND,
            f"no track of unit {cmd.unit_sn} at step {cmd.step_no} of run {cmd.run_no}"
            + (f" at station {cmd.station_code}" if cmd.station_code else ""),
            {
                "runNo": cmd.run_no,
                "unitSn": cmd.unit_sn,
                "stepNo": cmd.step_no,
                "stationCode": cmd.station_code,
            },
        )
    stations = sorted({m.station_code or "" for m in matches})
    if cmd.station_code is None and len(stations) > 1:
        raise DomainError(
            ErrorCode.TRACK_AMBIGUOUS,
            f"unit {cmd.unit_sn} has tracks at step {cmd.step_no} at {len(stations)} stations: "
            "name the stationCode",
            {"stationCodes": stations, "stepNo": cmd.step_no},
        )
    return matches[0]  # the most recently recorded


def _values(
    cmd: RecordDeviceData, step: RouteStep, carrier_level: bool
) -> list[tuple[JudgedValue, datetime]]:
    def writable(spec: StepDataSpec) -> None:
        if cmd.source is DeviceDataSource.AUTO and spec.method is not CollectionMethod.AUTO:
            raise DomainError(
                ErrorCode.DATA_SPEC_METHOD_MISMATCH,
                f"spec {spec.name} is collected {spec.method.value}: source AUTO cannot write it",
                {"specName": spec.name, "method": spec.method.value, "source": cmd.source.value},
            )

    return judged_inputs(
        step, cmd.data, cmd.event_time, carrier_level=carrier_level, check_method=writable
    )


async def record_device_data(
    cmd: RecordDeviceData, uow: UnitOfWork, deps: Deps
) -> DeviceDataResult:
    """Attach values to a track; the track's result and the unit's position never change,
    but an alarm or a late KEY failure may contain the unit (_contain). Idempotent by
    eventId."""
    _check(cmd, deps.limits.max_json_depth)
    # a bound token writes only to tracks of its stations: the one it names, the one it hits
    if cmd.station_code is not None:
        await check_station_binding(deps.actor, uow, cmd.station_code)
    input_hash = cmd.input_hash()
    existing = await uow.device_data.get_by_event_id(cmd.event_id)
    if existing is None:
        target = await _target(cmd, uow)
        await check_station_binding(deps.actor, uow, target.station_code)
        is_carrier = isinstance(target, CarrierTrack)
        run = await uow.runs.get(target.run_no)
        assert run is not None
        version = (await uow.route_versions.get_many([run.route_version_id]))[run.route_version_id]
        step = version.step(target.step_no)
        assert step is not None
        values = _values(cmd, step, carrier_level=is_carrier)
        record = await uow.device_data.add(
            DeviceDataRecord(
                event_id=cmd.event_id,
                input_hash=input_hash,
                source=cmd.source.value,
                event_time=cmd.event_time,
                received_at=deps.clock.now(),
                values_created=len(values),
                track_id=None if is_carrier else target.id,
                carrier_track_id=target.id if is_carrier else None,
                equipment_id=cmd.equipment_id,
                operator_id=cmd.operator_id,
                meta=cmd.meta,
            )
        )
        if record is not None:
            await uow.data_values.add_many(
                [
                    v.data_value(
                        TrackSource(cmd.source.value),
                        at,
                        track_id=None if is_carrier else target.id,
                        carrier_track_id=target.id if is_carrier else None,
                        device_record_id=record.id,
                    )
                    for v, at in values
                ]
            )
            if isinstance(target, Track):
                uow.publish(UnitsChanged((target.unit_sn,)))  # its track's data values
            target = await _contain(uow, deps, target, step, [v for v, _ in values])
            if isinstance(target, Track):
                return DeviceDataResult(False, len(values), track=target)
            return DeviceDataResult(False, len(values), carrier_track=target)
        existing = await uow.device_data.get_by_event_id(cmd.event_id)
        assert existing is not None
    if existing.input_hash != input_hash:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            f"eventId {cmd.event_id!r} was recorded with another input",
            {"eventId": cmd.event_id, "existingRecordId": str(existing.id)},
        )
    track = await uow.tracks.get(existing.track_id) if existing.track_id else None
    ct = (
        await uow.carriers.get_track(existing.carrier_track_id)
        if existing.carrier_track_id
        else None
    )
    hit = track or ct
    await check_station_binding(deps.actor, uow, hit.station_code if hit else None)
    return DeviceDataResult(True, 0, track=track, carrier_track=ct)


async def _contain(
    uow: UnitOfWork,
    deps: Deps,
    target: Track | CarrierTrack,
    step: RouteStep,
    values: list[JudgedValue],
) -> Track | CarrierTrack:
    """What new values do beyond themselves (DOMAIN.md §7): an alarm with action HOLD holds
    the unit as it is now (a carrier's: the boards that rode through the step); a KEY spec
    judged FAIL after the track passed flags the track and, unless the step's onLateKeyFail
    is FLAG, holds the same units (reason LATE_KEY_FAIL). The track's result never changes.
    Returns the target as it now is."""
    alarm = any(v.holds for v in values)
    key_failed = any(v.key_failure for v in values)
    if not (alarm or key_failed) or target.id is None:
        return target
    units = await _locked_units(uow, target)
    if key_failed and isinstance(target, Track):
        # read again under the unit's lock: a trackOut that closed it meanwhile is seen
        target = await uow.tracks.get(target.id) or target
    reasons = [ALARM_REASON] if alarm else []
    if key_failed and target.result is TrackResult.PASS:
        target = replace(target, flag=TrackFlag.LATE_KEY_FAIL)
        if isinstance(target, Track):
            await uow.tracks.set_flag(target.id or 0, TrackFlag.LATE_KEY_FAIL)
        else:
            await uow.carriers.set_track_flag(target.id or 0, TrackFlag.LATE_KEY_FAIL)
        if step.on_late_key_fail is LateKeyFailAction.HOLD:
            reasons.append(LATE_KEY_FAIL_REASON)
    held = [u for u in units if can_be_held(u)]
    for reason in reasons if held else []:
        _, held = await open_hold(uow, held, reason, _actor(deps), deps.clock.now())
    return target


async def _locked_units(uow: UnitOfWork, target: Track | CarrierTrack) -> list[Unit]:
    """The track's unit, or the boards that rode through with the carrier, locked."""
    if isinstance(target, Track):
        unit = await uow.units.get_by_id(target.unit_id, for_update=True)
        return [unit] if unit is not None else []
    unit_ids = await uow.tracks.units_of_carrier_track(target.id or 0)
    return await uow.units.get_many_by_id(unit_ids, for_update=True)


def _actor(deps: Deps) -> str:
    return deps.actor.name if deps.actor else SYSTEM_ACTOR
