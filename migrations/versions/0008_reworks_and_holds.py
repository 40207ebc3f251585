"""issue 16: route-level maxReworks frozen in each route version (item 9; NULL for versions
compiled before it, read as the default 3), and holds: every hold a row naming its units
(item 1). Units ON_HOLD before this migration have no hold row; disposeUnit RELEASE still
releases them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('route_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_reworks', sa.Integer(), nullable=True))

    op.create_table('hold',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('opened_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold'))
    )
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.create_index('ix_hold_closed_at', ['closed_at', 'id'], unique=False)

    op.create_table('hold_unit',
    sa.Column('hold_id', ID, nullable=False),
    sa.Column('unit_id', ID, nullable=False),
    sa.Column('sn', sa.String(length=100), nullable=False),
    sa.Column('released_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hold_id'], ['hold.id'], name=op.f('fk_hold_unit_hold_id_hold')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_hold_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('hold_id', 'unit_id', name=op.f('pk_hold_unit'))
    )
    with op.batch_alter_table('hold_unit', schema=None) as batch_op:
        batch_op.create_index('ix_hold_unit_unit', ['unit_id', 'hold_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hold_unit', schema=None) as batch_op:
        batch_op.drop_index('ix_hold_unit_unit')
    op.drop_table('hold_unit')
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.drop_index('ix_hold_closed_at')
    op.drop_table('hold')

    with op.batch_alter_table('route_version', schema=None) as batch_op:
        batch_op.drop_column('max_reworks')
