"""route-level maxReworks frozen in each route version (issue 16 item 9); NULL for versions
compiled before it, read as the default 3

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('route_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_reworks', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('route_version', schema=None) as batch_op:
        batch_op.drop_column('max_reworks')
