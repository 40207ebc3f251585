"""Rows ↔ carriers, device data records, production counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.device_records import DeviceDataRecord, ModuleCount, ProductionCountRecord
from domain.enums import (
    TrackFlag,
    TrackResult,
    TrackSource,
)


def carrier_from_row(r: Row[Any]) -> Carrier:
    return Carrier(id=r.id, carrier_no=r.carrier_no, created_at=r.created_at)


def load_from_row(r: Row[Any]) -> CarrierLoad:
    return CarrierLoad(
        id=r.id,
        carrier_id=r.carrier_id,
        unit_id=r.unit_id,
        loaded_at=r.loaded_at,
        unloaded_at=r.unloaded_at,
    )


def carrier_track_to_values(ct: CarrierTrack) -> dict[str, Any]:
    return {
        "carrier_id": ct.carrier_id,
        "run_no": ct.run_no,
        "step_no": ct.step_no,
        "station_code": ct.station_code,
        "source": ct.source.value,
        "in_at": ct.in_at,
        "out_at": ct.out_at,
        "result": ct.result.value if ct.result else None,
        "ingest_event_id": ct.ingest_event_id,
        "flag": ct.flag.value if ct.flag else None,
    }


def carrier_track_from_row(r: Row[Any]) -> CarrierTrack:
    return CarrierTrack(
        id=r.id,
        carrier_id=r.carrier_id,
        run_no=r.run_no,
        step_no=r.step_no,
        station_code=r.station_code,
        source=TrackSource(r.source),
        in_at=r.in_at,
        out_at=r.out_at,
        result=TrackResult(r.result) if r.result else None,
        ingest_event_id=r.ingest_event_id,
        flag=TrackFlag(r.flag) if r.flag else None,
    )


def device_record_to_values(d: DeviceDataRecord) -> dict[str, Any]:
    return {
        "event_id": d.event_id,
        "input_hash": d.input_hash,
        "source": d.source,
        "event_time": d.event_time,
        "received_at": d.received_at,
        "track_id": d.track_id,
        "carrier_track_id": d.carrier_track_id,
        "equipment_id": d.equipment_id,
        "operator_id": d.operator_id,
        "values_created": d.values_created,
        "meta": d.meta,
    }


def device_record_from_row(r: Row[Any]) -> DeviceDataRecord:
    return DeviceDataRecord(
        id=r.id,
        event_id=r.event_id,
        input_hash=r.input_hash,
        source=r.source,
        event_time=r.event_time,
        received_at=r.received_at,
        track_id=r.track_id,
        carrier_track_id=r.carrier_track_id,
        equipment_id=r.equipment_id,
        operator_id=r.operator_id,
        values_created=r.values_created,
        meta=r.meta,
    )


def count_to_values(c: ProductionCountRecord) -> dict[str, Any]:
    return {
        "event_id": c.event_id,
        "input_hash": c.input_hash,
        "line_code": c.line_code,
        "station_code": c.station_code,
        "equipment_id": c.equipment_id,
        "run_no": c.run_no,
        "product_code": c.product_code,
        "quantity": c.quantity,
        "started_at": c.started_at,
        "ended_at": c.ended_at,
        "modules": [
            {"module": m.module, "picked": m.picked, "placed": m.placed} for m in c.modules
        ],
        "picked": c.picked,
        "placed": c.placed,
        "received_at": c.received_at,
    }


def count_from_row(r: Row[Any]) -> ProductionCountRecord:
    return ProductionCountRecord(
        id=r.id,
        event_id=r.event_id,
        input_hash=r.input_hash,
        line_code=r.line_code,
        station_code=r.station_code,
        equipment_id=r.equipment_id,
        run_no=r.run_no,
        product_code=r.product_code,
        quantity=r.quantity,
        started_at=r.started_at,
        ended_at=r.ended_at,
        modules=tuple(ModuleCount(m["module"], m["picked"], m["placed"]) for m in r.modules),
        received_at=r.received_at,
    )
