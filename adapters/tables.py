"""All tables, as SQLAlchemy Core, in one MetaData (Alembic's target)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
)

from adapters.types import BigId, Json, SafeString, SafeText, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CODE = SafeString(100)
ENUM = SafeString(20)

# ---------------------------------------------------------------- master data

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

# ---------------------------------------------------------------- production

work_order = Table(
    "work_order",
    metadata,
    Column("wo_no", CODE, primary_key=True),
    Column("product_code", CODE, nullable=False),
    Column("planned_qty", Integer, nullable=False),
    Column("status", ENUM, nullable=False),
    # not a foreign key: ERP may send the work order before the routing exists
    Column("routing_code", CODE),
    Column("due_date", UtcDateTime),
)

run = Table(
    "run",
    metadata,
    Column("run_no", CODE, primary_key=True),
    Column("wo_no", CODE, ForeignKey("work_order.wo_no"), nullable=False, index=True),
    Column("status", ENUM, nullable=False),
    Column("plan_qty", Integer, nullable=False),
    Column("route_version_id", BigId, ForeignKey("route_version.id"), nullable=False, index=True),
    Column("line_code", CODE, ForeignKey("line.code")),
    Column("shift_code", CODE),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_run_status", run.c.status)

# the counter of generated serial numbers, per prefix across runs (issue 16)
sn_sequence = Table(
    "sn_sequence",
    metadata,
    Column("prefix", CODE, primary_key=True),
    Column("last_value", Integer, nullable=False),
)

unit = Table(
    "unit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sn", CODE, nullable=False, unique=True),
    Column("wo_no", CODE, ForeignKey("work_order.wo_no"), nullable=False),
    Column("run_no", CODE, ForeignKey("run.run_no"), nullable=False),
    Column("status", ENUM, nullable=False),
    Column("current_step_no", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("step_fails", Integer, nullable=False, server_default="0"),
    Column("held_from", ENUM),
)
Index("ix_unit_run_no_id", unit.c.run_no, unit.c.id)
Index("ix_unit_wo_no", unit.c.wo_no)

# ---------------------------------------------------------------- audit

audit_event = Table(
    "audit_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", SafeString(200), nullable=False),
    Column("request_id", SafeString(200), nullable=False),
    Column("action", SafeString(100), nullable=False),
    Column("entity_type", SafeString(100), nullable=False),
    Column("entity_key", SafeText),
    Column("outcome", ENUM, nullable=False),
    Column("error_code", SafeString(50)),
    Column("details", Json),
    # the X-Request-ID the client sent, kept beside (never instead of) the server's own
    Column("client_request_id", SafeString(200)),
)
Index("ix_audit_event_at", audit_event.c.at)
Index("ix_audit_event_entity", audit_event.c.entity_type, audit_event.c.entity_key)

# ---------------------------------------------------------------- execution and ingest

ingest_event = Table(
    "ingest_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_system", SafeString(200), nullable=False),
    Column("dedupe_key", SafeText, nullable=False),
    # sha-256 of the canonical input (RFC 8785): same input again → DUPLICATE
    Column("input_hash", SafeString(64), nullable=False),
    Column("event_type", ENUM, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("run_no", CODE),
    Column("step_no", Integer),
    Column("station_code", CODE),
    Column("line_code", CODE),
    Column("sn", CODE),
    Column("sn_list", Json, nullable=False),
    Column("carrier_code", CODE),
    Column("test_result_id", CODE),
    Column("result", ENUM),
    Column("payload", Json, nullable=False),
    Column("normalized", Json),
    Column("meta", Json),
    UniqueConstraint("source_system", "dedupe_key"),
)
Index("ix_ingest_event_received", ingest_event.c.received_at, ingest_event.c.id)
Index("ix_ingest_event_run_no", ingest_event.c.run_no, ingest_event.c.id)
Index("ix_ingest_event_station_code", ingest_event.c.station_code, ingest_event.c.id)
Index("ix_ingest_event_carrier_code", ingest_event.c.carrier_code, ingest_event.c.id)
Index("ix_ingest_event_occurred", ingest_event.c.occurred_at)

# every unit an event touched (through sn, snList or a carrier): the trace and the sn filter
ingest_event_unit = Table(
    "ingest_event_unit",
    metadata,
    Column("event_id", BigId, ForeignKey("ingest_event.id"), primary_key=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), primary_key=True),
)
Index("ix_ingest_event_unit_unit", ingest_event_unit.c.unit_id, ingest_event_unit.c.event_id)

# TEST events: (sourceSystem, testResultId, unit) is an idempotency key too (issue 16 item 3);
# `digest` is the unit's normalized reading (result and measurements) the first event recorded
test_result_key = Table(
    "test_result_key",
    metadata,
    Column("source_system", SafeString(200), primary_key=True),
    Column("test_result_id", CODE, primary_key=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), primary_key=True),
    Column("event_id", BigId, ForeignKey("ingest_event.id"), nullable=False, index=True),
    Column("digest", SafeString(64), nullable=False),
)

track = Table(
    "track",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), nullable=False),
    Column("run_no", CODE, nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("operation_code", CODE, nullable=False),
    Column("station_code", CODE),
    Column("source", ENUM, nullable=False),
    Column("in_at", UtcDateTime),
    Column("out_at", UtcDateTime),
    Column("result", ENUM),
    Column("operator_id", CODE),
    Column("ingest_event_id", BigId, ForeignKey("ingest_event.id")),
    Column("carrier_track_id", BigId),
    # LATE_KEY_FAIL: a KEY spec failed after the track passed (issue 16)
    Column("flag", ENUM),
)
Index("ix_track_unit", track.c.unit_id, track.c.id)
Index("ix_track_event", track.c.ingest_event_id)

data_value = Table(
    "data_value",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("track_id", BigId, ForeignKey("track.id")),
    Column("carrier_track_id", BigId),
    Column("spec_name", CODE, nullable=False),
    Column("data_type", ENUM, nullable=False),
    Column("value_number", Float),
    Column("value_text", SafeText),
    Column("value_boolean", Boolean),
    Column("value_json", Json),
    Column("value_unit", SafeString(50)),
    Column("judge", ENUM),
    Column("alarmed", Boolean, nullable=False),
    Column("source", ENUM, nullable=False),
    Column("collected_at", UtcDateTime, nullable=False),
    Column("ingest_event_id", BigId, ForeignKey("ingest_event.id")),
    # where a value came from besides an ingest event: a device record (trackOut: neither)
    Column("device_record_id", BigId, ForeignKey("device_data_record.id")),
)
Index("ix_data_value_track", data_value.c.track_id, data_value.c.id)
Index("ix_data_value_event", data_value.c.ingest_event_id, data_value.c.id)

ingest_rejection = Table(
    "ingest_rejection",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_system", SafeString(200), nullable=False),
    Column("dedupe_key", SafeText, nullable=False),
    Column("input_hash", SafeString(64), nullable=False),
    Column("event_type", ENUM, nullable=False),
    Column("occurred_at", UtcDateTime),
    Column("received_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime, nullable=False),
    Column("error_code", SafeString(50), nullable=False),
    Column("error_message", SafeText, nullable=False),
    Column("error_details", Json),
    Column("input", Json, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sns", Json, nullable=False),
    Column("replayable", Boolean, nullable=False),
    Column("restrict_to_sn", CODE),
    Column("resolved_by_event_id", BigId, ForeignKey("ingest_event.id")),
    # the token that sent the refused input: a replay checks its station binding again
    Column("token_name", CODE),
)
Index(
    "ix_ingest_rejection_key",
    ingest_rejection.c.source_system,
    ingest_rejection.c.dedupe_key,
    ingest_rejection.c.input_hash,
)
Index("ix_ingest_rejection_received", ingest_rejection.c.received_at, ingest_rejection.c.id)
Index("ix_ingest_rejection_code", ingest_rejection.c.error_code, ingest_rejection.c.id)

# the SNs a rejection names (found in step 3): the sn filter of ingestRejections
ingest_rejection_sn = Table(
    "ingest_rejection_sn",
    metadata,
    Column("rejection_id", BigId, ForeignKey("ingest_rejection.id"), primary_key=True),
    Column("sn", CODE, primary_key=True),
)
Index("ix_ingest_rejection_sn_sn", ingest_rejection_sn.c.sn, ingest_rejection_sn.c.rejection_id)

# ---------------------------------------------------------------- carriers (BATCH)

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

# ---------------------------------------------------------------- lifecycle

disposition = Table(
    "disposition",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), nullable=False),
    Column("action", ENUM, nullable=False),
    Column("reason", SafeText, nullable=False),
    Column("operator_id", CODE),
    Column("from_status", ENUM, nullable=False),
    Column("to_status", ENUM, nullable=False),
    Column("from_step_no", Integer),
    Column("to_step_no", Integer),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_disposition_unit", disposition.c.unit_id, disposition.c.id)

# every hold (issue 16): a unit stays ON_HOLD while any hold_unit row of it is open
hold = Table(
    "hold",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("reason", SafeText, nullable=False),
    Column("actor", SafeString(200), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
)
Index("ix_hold_closed_at", hold.c.closed_at, hold.c.id)

hold_unit = Table(
    "hold_unit",
    metadata,
    Column("hold_id", BigId, ForeignKey("hold.id"), primary_key=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), primary_key=True),
    Column("sn", CODE, nullable=False),
    Column("released_at", UtcDateTime),
)
Index("ix_hold_unit_unit", hold_unit.c.unit_id, hold_unit.c.hold_id)

# ---------------------------------------------------------------- security

api_token = Table(
    "api_token",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # unique among active tokens only (the index below): a revoked token's name can be reused
    Column("name", CODE, nullable=False),
    # the secret's first characters, to find the row; the secret itself is only ever hashed
    Column("lookup", SafeString(40), nullable=False, unique=True),
    Column("secret_hash", SafeString(64), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("sources", Json, nullable=False),
    # the stations (codes, and `group:CODE`) it may write for; NULL: none named
    Column("stations", Json),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)
# one active token per name; revoked ones keep theirs (`mes token rotate`, a name reused)
Index(
    "uq_api_token_active_name",
    api_token.c.name,
    unique=True,
    postgresql_where=api_token.c.revoked_at.is_(None),
    sqlite_where=api_token.c.revoked_at.is_(None),
)
