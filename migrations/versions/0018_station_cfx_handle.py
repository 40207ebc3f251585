"""station.cfx_handle (issue 21): the machine's IPC-CFX handle, an envelope's `Source`, unique
across stations

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cfx_handle", adapters.types.SafeString(length=100), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_station_cfx_handle"), ["cfx_handle"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_cfx_handle"))
        batch_op.drop_column("cfx_handle")
