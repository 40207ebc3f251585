"""ingest events, rejections, tracks, data values

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:24:28.765918
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('ingest_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_system', sa.String(length=200), nullable=False),
    sa.Column('dedupe_key', sa.Text(), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('received_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('run_no', sa.String(length=100), nullable=True),
    sa.Column('step_no', sa.Integer(), nullable=True),
    sa.Column('station_code', sa.String(length=100), nullable=True),
    sa.Column('line_code', sa.String(length=100), nullable=True),
    sa.Column('sn', sa.String(length=100), nullable=True),
    sa.Column('sn_list', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('carrier_code', sa.String(length=100), nullable=True),
    sa.Column('test_result_id', sa.String(length=100), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('normalized', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_event')),
    sa.UniqueConstraint('source_system', 'dedupe_key', name=op.f('uq_ingest_event_source_system_dedupe_key'))
    )
    with op.batch_alter_table('ingest_event', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_event_carrier_code', ['carrier_code', 'id'], unique=False)
        batch_op.create_index('ix_ingest_event_occurred', ['occurred_at'], unique=False)
        batch_op.create_index('ix_ingest_event_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_ingest_event_run_no', ['run_no', 'id'], unique=False)
        batch_op.create_index('ix_ingest_event_station_code', ['station_code', 'id'], unique=False)

    op.create_table('ingest_rejection',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_system', sa.String(length=200), nullable=False),
    sa.Column('dedupe_key', sa.Text(), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('received_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('error_code', sa.String(length=50), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('error_details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('input', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sns', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('replayable', sa.Boolean(), nullable=False),
    sa.Column('restrict_to_sn', sa.String(length=100), nullable=True),
    sa.Column('resolved_by_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['resolved_by_event_id'], ['ingest_event.id'], name=op.f('fk_ingest_rejection_resolved_by_event_id_ingest_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_rejection'))
    )
    with op.batch_alter_table('ingest_rejection', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_rejection_code', ['error_code', 'id'], unique=False)
        batch_op.create_index('ix_ingest_rejection_key', ['source_system', 'dedupe_key', 'input_hash'], unique=False)
        batch_op.create_index('ix_ingest_rejection_received', ['received_at', 'id'], unique=False)

    op.create_table('ingest_rejection_sn',
    sa.Column('rejection_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sn', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['rejection_id'], ['ingest_rejection.id'], name=op.f('fk_ingest_rejection_sn_rejection_id_ingest_rejection')),
    sa.PrimaryKeyConstraint('rejection_id', 'sn', name=op.f('pk_ingest_rejection_sn'))
    )
    with op.batch_alter_table('ingest_rejection_sn', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_rejection_sn_sn', ['sn', 'rejection_id'], unique=False)

    op.create_table('ingest_event_unit',
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ingest_event.id'], name=op.f('fk_ingest_event_unit_event_id_ingest_event')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_ingest_event_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('event_id', 'unit_id', name=op.f('pk_ingest_event_unit'))
    )
    with op.batch_alter_table('ingest_event_unit', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_event_unit_unit', ['unit_id', 'event_id'], unique=False)

    op.create_table('track',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_no', sa.String(length=100), nullable=False),
    sa.Column('step_no', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('operation_code', sa.String(length=100), nullable=False),
    sa.Column('station_code', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('in_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('out_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('operator_id', sa.String(length=100), nullable=True),
    sa.Column('ingest_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier_track_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['ingest_event_id'], ['ingest_event.id'], name=op.f('fk_track_ingest_event_id_ingest_event')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_track_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_track'))
    )
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.create_index('ix_track_event', ['ingest_event_id'], unique=False)
        batch_op.create_index('ix_track_unit', ['unit_id', 'id'], unique=False)

    op.create_table('data_value',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('track_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier_track_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('spec_name', sa.String(length=100), nullable=False),
    sa.Column('data_type', sa.String(length=20), nullable=False),
    sa.Column('value_number', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('value_boolean', sa.Boolean(), nullable=True),
    sa.Column('value_json', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('value_unit', sa.String(length=50), nullable=True),
    sa.Column('judge', sa.String(length=20), nullable=True),
    sa.Column('alarmed', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('collected_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ingest_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['ingest_event_id'], ['ingest_event.id'], name=op.f('fk_data_value_ingest_event_id_ingest_event')),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], name=op.f('fk_data_value_track_id_track')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_value'))
    )
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.create_index('ix_data_value_event', ['ingest_event_id', 'id'], unique=False)
        batch_op.create_index('ix_data_value_track', ['track_id', 'id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_index('ix_data_value_track')
        batch_op.drop_index('ix_data_value_event')

    op.drop_table('data_value')
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.drop_index('ix_track_unit')
        batch_op.drop_index('ix_track_event')

    op.drop_table('track')
    with op.batch_alter_table('ingest_event_unit', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_event_unit_unit')

    op.drop_table('ingest_event_unit')
    with op.batch_alter_table('ingest_rejection_sn', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_rejection_sn_sn')

    op.drop_table('ingest_rejection_sn')
    with op.batch_alter_table('ingest_rejection', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_rejection_received')
        batch_op.drop_index('ix_ingest_rejection_key')
        batch_op.drop_index('ix_ingest_rejection_code')

    op.drop_table('ingest_rejection')
    with op.batch_alter_table('ingest_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_event_station_code')
        batch_op.drop_index('ix_ingest_event_run_no')
        batch_op.drop_index('ix_ingest_event_received')
        batch_op.drop_index('ix_ingest_event_occurred')
        batch_op.drop_index('ix_ingest_event_carrier_code')

    op.drop_table('ingest_event')

