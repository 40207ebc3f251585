"""Production: work orders, runs, the SN sequences, units, dispositions and holds."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    UniqueConstraint,
    false,
)

from adapters.tables.base import CODE, ENUM, metadata
from adapters.types import BigId, SafeString, SafeText, UtcDateTime

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

# a panel's barcode (issue 19 item 1); its boards are units with panel_sn and position
panel = Table(
    "panel",
    metadata,
    Column("panel_sn", CODE, primary_key=True),
    Column("positions", Integer, nullable=False),
    Column("run_no", CODE, ForeignKey("run.run_no"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
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
    Column("panel_sn", CODE, ForeignKey("panel.panel_sn")),
    Column("position", Integer),
    # events were parked for it (issue 20; never cleared): a move of a unit without looks
    # for none (TransactionState.unparked)
    Column("has_parked", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("panel_sn", "position"),
)
Index("ix_unit_run_no_id", unit.c.run_no, unit.c.id)
Index("ix_unit_wo_no", unit.c.wo_no)

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
