"""carriers, device data, production counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:38:35.212484
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('carrier',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_no', sa.String(length=100), nullable=False),
    sa.Column('created_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier')),
    sa.UniqueConstraint('carrier_no', name=op.f('uq_carrier_carrier_no'))
    )
    op.create_table('production_count',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('line_code', sa.String(length=100), nullable=False),
    sa.Column('station_code', sa.String(length=100), nullable=True),
    sa.Column('equipment_id', sa.String(length=100), nullable=True),
    sa.Column('run_no', sa.String(length=100), nullable=True),
    sa.Column('product_code', sa.String(length=100), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('started_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('modules', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('picked', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('placed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_count')),
    sa.UniqueConstraint('event_id', name=op.f('uq_production_count_event_id'))
    )
    with op.batch_alter_table('production_count', schema=None) as batch_op:
        batch_op.create_index('ix_production_count_started', ['started_at', 'line_code'], unique=False)

    op.create_table('carrier_track',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_no', sa.String(length=100), nullable=False),
    sa.Column('step_no', sa.Integer(), nullable=False),
    sa.Column('station_code', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('in_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('out_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('ingest_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_carrier_track_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['ingest_event_id'], ['ingest_event.id'], name=op.f('fk_carrier_track_ingest_event_id_ingest_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_track'))
    )
    with op.batch_alter_table('carrier_track', schema=None) as batch_op:
        batch_op.create_index('ix_carrier_track_carrier', ['carrier_id', 'id'], unique=False)
        batch_op.create_index('ix_carrier_track_event', ['ingest_event_id'], unique=False)

    op.create_table('carrier_load',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loaded_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('unloaded_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carrier.id'], name=op.f('fk_carrier_load_carrier_id_carrier')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_carrier_load_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_load'))
    )
    with op.batch_alter_table('carrier_load', schema=None) as batch_op:
        batch_op.create_index('ix_carrier_load_carrier', ['carrier_id', 'id'], unique=False)
        batch_op.create_index('ix_carrier_load_unit', ['unit_id', 'id'], unique=False)
        batch_op.create_index('uq_carrier_load_open_unit', ['unit_id'], unique=True, postgresql_where=sa.text('unloaded_at IS NULL'), sqlite_where=sa.text('unloaded_at IS NULL'))

    op.create_table('device_data_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('event_time', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('received_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('track_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('carrier_track_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('equipment_id', sa.String(length=100), nullable=True),
    sa.Column('operator_id', sa.String(length=100), nullable=True),
    sa.Column('values_created', sa.Integer(), nullable=False),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['carrier_track_id'], ['carrier_track.id'], name=op.f('fk_device_data_record_carrier_track_id_carrier_track')),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], name=op.f('fk_device_data_record_track_id_track')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_data_record')),
    sa.UniqueConstraint('event_id', name=op.f('uq_device_data_record_event_id'))
    )
    with op.batch_alter_table('device_data_record', schema=None) as batch_op:
        batch_op.create_index('ix_device_data_record_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_device_data_record_track', ['track_id'], unique=False)

    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index('ix_data_value_carrier_track', ['carrier_track_id', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_data_value_device_record_id_device_data_record'), 'device_data_record', ['device_record_id'], ['id'])

    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.create_index('ix_track_carrier_track', ['carrier_track_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.drop_index('ix_track_carrier_track')

    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_data_value_device_record_id_device_data_record'), type_='foreignkey')
        batch_op.drop_index('ix_data_value_carrier_track')
        batch_op.drop_column('device_record_id')

    with op.batch_alter_table('device_data_record', schema=None) as batch_op:
        batch_op.drop_index('ix_device_data_record_track')
        batch_op.drop_index('ix_device_data_record_received')

    op.drop_table('device_data_record')
    with op.batch_alter_table('carrier_load', schema=None) as batch_op:
        batch_op.drop_index('uq_carrier_load_open_unit', postgresql_where=sa.text('unloaded_at IS NULL'), sqlite_where=sa.text('unloaded_at IS NULL'))
        batch_op.drop_index('ix_carrier_load_unit')
        batch_op.drop_index('ix_carrier_load_carrier')

    op.drop_table('carrier_load')
    with op.batch_alter_table('carrier_track', schema=None) as batch_op:
        batch_op.drop_index('ix_carrier_track_event')
        batch_op.drop_index('ix_carrier_track_carrier')

    op.drop_table('carrier_track')
    with op.batch_alter_table('production_count', schema=None) as batch_op:
        batch_op.drop_index('ix_production_count_started')

    op.drop_table('production_count')
    op.drop_table('carrier')

