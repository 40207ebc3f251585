"""unit lifecycle

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:52:44.273139
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('disposition',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('operator_id', sa.String(length=100), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('from_step_no', sa.Integer(), nullable=True),
    sa.Column('to_step_no', sa.Integer(), nullable=True),
    sa.Column('at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_disposition_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition'))
    )
    with op.batch_alter_table('disposition', schema=None) as batch_op:
        batch_op.create_index('ix_disposition_unit', ['unit_id', 'id'], unique=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step_fails', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('held_from', sa.String(length=20), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('held_from')
        batch_op.drop_column('step_fails')

    with op.batch_alter_table('disposition', schema=None) as batch_op:
        batch_op.drop_index('ix_disposition_unit')

    op.drop_table('disposition')

