"""parked_event and parked_event_unit, and ingest_event.accepted_at (issue 20): events that
came before their units reached their step wait there until a move re-drives them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accepted_at", adapters.types.UtcDateTime(), nullable=True)
        )
    op.create_table(
        "parked_event",
        sa.Column("id", adapters.types.BigId, autoincrement=True, nullable=False),
        sa.Column("source_system", adapters.types.SafeString(length=200), nullable=False),
        sa.Column("dedupe_key", adapters.types.SafeText(), nullable=False),
        sa.Column("input_hash", adapters.types.SafeString(length=64), nullable=False),
        sa.Column("event_type", adapters.types.SafeString(length=20), nullable=False),
        sa.Column("occurred_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("received_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("run_no", adapters.types.SafeString(length=100), nullable=False),
        sa.Column("waiting_for_step_no", sa.Integer(), nullable=False),
        sa.Column("input", adapters.types.Json, nullable=False),
        sa.Column("sns", adapters.types.Json, nullable=False),
        sa.Column("restrict_to_sn", adapters.types.SafeString(length=100), nullable=True),
        sa.Column("token_name", adapters.types.SafeString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_event")),
        sa.UniqueConstraint(
            "source_system", "dedupe_key", name=op.f("uq_parked_event_source_system_dedupe_key")
        ),
    )
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.create_index("ix_parked_event_expires", ["expires_at", "id"], unique=False)
        batch_op.create_index("ix_parked_event_received", ["received_at", "id"], unique=False)
    op.create_table(
        "parked_event_unit",
        sa.Column("parked_event_id", adapters.types.BigId, nullable=False),
        sa.Column("unit_id", adapters.types.BigId, nullable=False),
        sa.Column("waiting_for_step_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parked_event_id"],
            ["parked_event.id"],
            name=op.f("fk_parked_event_unit_parked_event_id_parked_event"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_parked_event_unit_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("parked_event_id", "unit_id", name=op.f("pk_parked_event_unit")),
    )
    with op.batch_alter_table("parked_event_unit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parked_event_unit_waiting", ["unit_id", "waiting_for_step_no"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("parked_event_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_event_unit_waiting")
    op.drop_table("parked_event_unit")
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_event_received")
        batch_op.drop_index("ix_parked_event_expires")
    op.drop_table("parked_event")
    with op.batch_alter_table("ingest_event", schema=None) as batch_op:
        batch_op.drop_column("accepted_at")
