"""track flags (issue 16 item 8): a KEY spec judged FAIL by device data after its track (or
carrier track) passed marks it LATE_KEY_FAIL; its result stands

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("track", sa.Column("flag", adapters.types.SafeString(length=20), nullable=True))
    op.add_column(
        "carrier_track", sa.Column("flag", adapters.types.SafeString(length=20), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("carrier_track", schema=None) as batch_op:
        batch_op.drop_column("flag")
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.drop_column("flag")
