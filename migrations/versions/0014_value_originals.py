"""data_value.original_value / original_unit (issue 19 item 5): a value sent in another unit
than its spec's is stored converted into the spec's unit, with the number and unit as sent

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("data_value", sa.Column("original_value", sa.Float(), nullable=True))
    op.add_column(
        "data_value",
        sa.Column("original_unit", adapters.types.SafeString(length=50), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("data_value", schema=None) as batch_op:
        batch_op.drop_column("original_unit")
        batch_op.drop_column("original_value")
