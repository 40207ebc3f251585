"""test result keys (issue 16 item 3): for TEST events (sourceSystem, testResultId, unit) is
an idempotency key too; the digest is the unit's normalized reading the first event recorded

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 06:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('test_result_key',
    sa.Column('source_system', adapters.types.SafeString(length=200), nullable=False),
    sa.Column('test_result_id', adapters.types.SafeString(length=100), nullable=False),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest', adapters.types.SafeString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ingest_event.id'], name=op.f('fk_test_result_key_event_id_ingest_event')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_test_result_key_unit_id_unit')),
    sa.PrimaryKeyConstraint('source_system', 'test_result_id', 'unit_id', name=op.f('pk_test_result_key'))
    )
    with op.batch_alter_table('test_result_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_result_key_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('test_result_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_result_key_event_id'))
    op.drop_table('test_result_key')
