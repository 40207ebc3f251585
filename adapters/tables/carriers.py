"""Carriers (BATCH), device data records, production counts."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
)

from adapters.tables.base import CODE, ENUM, metadata
from adapters.tables.ingest import data_value, track
from adapters.types import BigId, Json, SafeString, UtcDateTime

carrier = Table(
    "carrier",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("carrier_no", CODE, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

carrier_load = Table(
    "carrier_load",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("carrier_id", BigId, ForeignKey("carrier.id"), nullable=False),
    Column("unit_id", BigId, ForeignKey("unit.id"), nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("unloaded_at", UtcDateTime),
)
Index("ix_carrier_load_carrier", carrier_load.c.carrier_id, carrier_load.c.id)
Index("ix_carrier_load_unit", carrier_load.c.unit_id, carrier_load.c.id)
# a unit has at most one open load
Index(
    "uq_carrier_load_open_unit",
    carrier_load.c.unit_id,
    unique=True,
    postgresql_where=carrier_load.c.unloaded_at.is_(None),
    sqlite_where=carrier_load.c.unloaded_at.is_(None),
)

carrier_track = Table(
    "carrier_track",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("carrier_id", BigId, ForeignKey("carrier.id"), nullable=False),
    Column("run_no", CODE, nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("station_code", CODE),
    Column("source", ENUM, nullable=False),
    Column("in_at", UtcDateTime),
    Column("out_at", UtcDateTime),
    Column("result", ENUM),
    Column("ingest_event_id", BigId, ForeignKey("ingest_event.id")),
    Column("flag", ENUM),
)
Index("ix_carrier_track_carrier", carrier_track.c.carrier_id, carrier_track.c.id)
Index("ix_carrier_track_event", carrier_track.c.ingest_event_id)
Index("ix_track_carrier_track", track.c.carrier_track_id)
Index("ix_data_value_carrier_track", data_value.c.carrier_track_id, data_value.c.id)

# ---------------------------------------------------------------- device gateway, counts

device_data_record = Table(
    "device_data_record",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", SafeString(200), nullable=False, unique=True),
    Column("input_hash", SafeString(64), nullable=False),
    Column("source", ENUM, nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("track_id", BigId, ForeignKey("track.id")),
    Column("carrier_track_id", BigId, ForeignKey("carrier_track.id")),
    Column("equipment_id", CODE),
    Column("operator_id", CODE),
    Column("values_created", Integer, nullable=False),
    Column("meta", Json),
)
Index("ix_device_data_record_received", device_data_record.c.received_at, device_data_record.c.id)
Index("ix_device_data_record_track", device_data_record.c.track_id)

production_count = Table(
    "production_count",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", SafeString(200), nullable=False, unique=True),
    Column("input_hash", SafeString(64), nullable=False),
    Column("line_code", CODE, nullable=False),
    Column("station_code", CODE),
    Column("equipment_id", CODE),
    Column("run_no", CODE),
    Column("product_code", CODE),
    Column("quantity", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("modules", Json, nullable=False),
    Column("picked", BigId, nullable=False),
    Column("placed", BigId, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
Index("ix_production_count_started", production_count.c.started_at, production_count.c.line_code)
