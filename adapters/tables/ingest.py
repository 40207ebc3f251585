"""Execution and ingest: events and their units, tester result keys, tracks, data values,
rejections."""

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
    # a parked event re-driven (issue 20): when it was accepted; null: at receivedAt
    Column("accepted_at", UtcDateTime),
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
# a station's latest track (the run a CFX ComponentsPlaced counts for)
Index("ix_track_station", track.c.station_code, track.c.id)

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
    # as sent, when the value was converted into its spec's unit (issue 19); else null
    Column("original_value", Float),
    Column("original_unit", SafeString(50)),
    # the limits the machine sent with the value, as sent (issue 19); else null
    Column("low_limit", Float),
    Column("high_limit", Float),
    Column("expected", Float),
    Column("limit_unit", SafeString(50)),
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

# events that came before their units reached their step (issue 20): neither accepted nor
# refused until a move re-drives them or their time is up; the key is taken while parked
parked_event = Table(
    "parked_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_system", SafeString(200), nullable=False),
    Column("dedupe_key", SafeText, nullable=False),
    Column("input_hash", SafeString(64), nullable=False),
    Column("event_type", ENUM, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # waiting for units to reach a step of a run (issue 20)...
    Column("run_no", CODE),
    Column("waiting_for_step_no", Integer),
    Column("input", Json, nullable=False),
    Column("sns", Json, nullable=False),
    Column("restrict_to_sn", CODE),
    Column("token_name", CODE),
    # ...or for the WorkStarted of (source_system, this CFX TransactionID) (issue 21)
    Column("waiting_for_transaction", SafeString(200)),
    UniqueConstraint("source_system", "dedupe_key"),
)
Index("ix_parked_event_expires", parked_event.c.expires_at, parked_event.c.id)
Index("ix_parked_event_received", parked_event.c.received_at, parked_event.c.id)
Index(
    "ix_parked_event_transaction",
    parked_event.c.waiting_for_transaction,
    parked_event.c.source_system,
)

# the units a parked event waits for: what a move to a step looks up
parked_event_unit = Table(
    "parked_event_unit",
    metadata,
    Column("parked_event_id", BigId, ForeignKey("parked_event.id"), primary_key=True),
    Column("unit_id", BigId, ForeignKey("unit.id"), primary_key=True),
    Column("waiting_for_step_no", Integer, nullable=False),
)
Index(
    "ix_parked_event_unit_waiting",
    parked_event_unit.c.unit_id,
    parked_event_unit.c.waiting_for_step_no,
)
