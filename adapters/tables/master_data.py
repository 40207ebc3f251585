"""Master data: lines and their shifts, station groups, stations, operations, data specs,
routings, execution configs, route versions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    Table,
    UniqueConstraint,
)

from adapters.tables.base import CODE, ENUM, metadata
from adapters.types import BigId, Json, SafeString, SafeText, UtcDateTime

line = Table(
    "line",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", SafeText, nullable=False),
)

# a line's shift calendar (issue 16): local wall-clock times "HH:MM" in MES_PLANT_TZ
line_shift = Table(
    "line_shift",
    metadata,
    Column("line_code", CODE, ForeignKey("line.code"), primary_key=True),
    Column("code", CODE, primary_key=True),
    Column("start_time", SafeString(5), nullable=False),
    Column("end_time", SafeString(5), nullable=False),
)

station_group = Table(
    "station_group",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", SafeText, nullable=False),
)

station = Table(
    "station",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", SafeText, nullable=False),
    Column("station_type", ENUM, nullable=False),
    Column("line_code", CODE, ForeignKey("line.code"), index=True),
    Column("group_code", CODE, ForeignKey("station_group.code"), index=True),
    Column("cfx_handle", CODE, unique=True, index=True),
)

operation = Table(
    "operation",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", SafeText, nullable=False),
    Column("default_station_type", ENUM, nullable=False),
)

data_spec = Table(
    "data_spec",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("operation_code", CODE, ForeignKey("operation.code"), nullable=False),
    Column("name", CODE, nullable=False),
    Column("data_type", ENUM, nullable=False),
    Column("method", ENUM, nullable=False),
    Column("item_type", ENUM, nullable=False),
    Column("trigger_type", ENUM, nullable=False),
    Column("is_required", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("limits_min", Float),
    Column("limits_max", Float),
    Column("limits_unit", SafeString(50)),
    Column("has_limits", Boolean, nullable=False),
    Column("alarm_min", Float),
    Column("alarm_max", Float),
    Column("alarm_action", ENUM),
    UniqueConstraint("operation_code", "name"),
)
Index("ix_data_spec_name", data_spec.c.name)

routing = Table(
    "routing",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", SafeText, nullable=False),
    Column("source_system", CODE, nullable=False),
    Column("source_key", CODE),
    Column("product_code", CODE),
    Column("is_active", Boolean, nullable=False),
)

routing_step = Table(
    "routing_step",
    metadata,
    Column("routing_code", CODE, ForeignKey("routing.code"), primary_key=True),
    # the order the steps were sent in; stepNo may repeat until compile refuses it
    Column("position", Integer, primary_key=True),
    Column("step_no", Integer, nullable=False),
    Column("operation_code", CODE, ForeignKey("operation.code"), nullable=False),
)

execution_config = Table(
    "execution_config",
    metadata,
    Column("routing_code", CODE, ForeignKey("routing.code"), primary_key=True),
    # STEP / OPERATION / ROUTE, and the scope's key ('' for the route scope)
    Column("scope", ENUM, primary_key=True),
    Column("scope_key", CODE, primary_key=True),
    Column("config", Json, nullable=False),
)

route_version = Table(
    "route_version",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("routing_code", CODE, ForeignKey("routing.code"), nullable=False),
    Column("version_no", Integer, nullable=False),
    Column("status", ENUM, nullable=False),
    Column("compiled_at", UtcDateTime, nullable=False),
    # the immutable snapshot: route identity and the compiled steps (data specs copied)
    Column("route", Json, nullable=False),
    Column("steps", Json, nullable=False),
    Column("errors", Json, nullable=False),
    # route-level execution semantics (NULL: compiled before the column, read as the default)
    Column("max_reworks", Integer),
    UniqueConstraint("routing_code", "version_no"),
)
