"""ix_track_station (issue 21): a station's latest track is read by an index, not by a scan of
every track backwards (the run a CFX ComponentsPlaced counts for)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.create_index("ix_track_station", ["station_code", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("track", schema=None) as batch_op:
        batch_op.drop_index("ix_track_station")
