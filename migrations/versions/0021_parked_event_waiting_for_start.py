"""parked_event.waiting_for_transaction (issue 21): a CFX result message that names no units
waits parked for its transaction's WorkStarted (its key: the event's source_system and this
TransactionID) instead of a step; such an event has no run and no step

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.alter_column(
            "run_no", existing_type=adapters.types.SafeString(length=100), nullable=True
        )
        batch_op.alter_column("waiting_for_step_no", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column(
                "waiting_for_transaction", adapters.types.SafeString(length=200), nullable=True
            )
        )
        batch_op.create_index(
            "ix_parked_event_transaction",
            ["waiting_for_transaction", "source_system"],
            unique=False,
        )


def downgrade() -> None:
    # events waiting for a start have no step: they cannot be kept under NOT NULL
    op.execute("DELETE FROM parked_event WHERE waiting_for_transaction IS NOT NULL")
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_event_transaction")
        batch_op.drop_column("waiting_for_transaction")
        batch_op.alter_column("waiting_for_step_no", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "run_no", existing_type=adapters.types.SafeString(length=100), nullable=False
        )
