"""data_value.low_limit / high_limit / expected / limit_unit (issue 19 item 4): the limits a
machine sends with a measurement, stored on the value; they judge it when no spec gives limits

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("data_value", sa.Column("low_limit", sa.Float(), nullable=True))
    op.add_column("data_value", sa.Column("high_limit", sa.Float(), nullable=True))
    op.add_column("data_value", sa.Column("expected", sa.Float(), nullable=True))
    op.add_column(
        "data_value",
        sa.Column("limit_unit", adapters.types.SafeString(length=50), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("data_value", schema=None) as batch_op:
        batch_op.drop_column("limit_unit")
        batch_op.drop_column("expected")
        batch_op.drop_column("high_limit")
        batch_op.drop_column("low_limit")
