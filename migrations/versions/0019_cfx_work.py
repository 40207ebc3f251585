"""cfx_work (issue 21): a CFX WorkStarted's start (time, units, recipe) under its pairing key
(Source, TransactionID), and the event that wrote the key's tracks

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cfx_work",
        sa.Column("id", adapters.types.BigId, autoincrement=True, nullable=False),
        sa.Column("source_system", adapters.types.SafeString(length=200), nullable=False),
        sa.Column("transaction_id", adapters.types.SafeString(length=200), nullable=False),
        sa.Column("started_at", adapters.types.UtcDateTime(), nullable=True),
        sa.Column("units", adapters.types.Json, nullable=False),
        sa.Column("recipe", adapters.types.SafeText(), nullable=True),
        sa.Column("start_event_id", adapters.types.BigId, nullable=True),
        sa.Column("result_event_id", adapters.types.BigId, nullable=True),
        sa.Column("result_key", adapters.types.SafeText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cfx_work")),
        sa.UniqueConstraint(
            "source_system", "transaction_id", name=op.f("uq_cfx_work_source_system_transaction_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("cfx_work")
