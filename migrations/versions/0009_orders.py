"""issue 16 items 10 and 11: generated serial numbers counted per prefix across runs (an
sn_sequence row per prefix replaces run.sn_seq; each run's counter becomes its default
prefix's counter); lines' shift calendars (line_shift); production counts of a run without a
product get the run's product

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sn_sequence',
        sa.Column('prefix', sa.String(length=100), nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('prefix', name=op.f('pk_sn_sequence')),
    )
    # the default prefix was `{runNo}-`; numbers of other prefixes that already exist are
    # skipped by registerUnits (it never hands out an SN that is taken)
    op.execute(
        "INSERT INTO sn_sequence (prefix, last_value) "
        "SELECT run_no || '-', sn_seq FROM run WHERE sn_seq > 0"
    )
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('sn_seq')
    op.create_table(
        'line_shift',
        sa.Column('line_code', sa.String(length=100), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('start_time', sa.String(length=5), nullable=False),
        sa.Column('end_time', sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ['line_code'], ['line.code'], name=op.f('fk_line_shift_line_code_line')
        ),
        sa.PrimaryKeyConstraint('line_code', 'code', name=op.f('pk_line_shift')),
    )
    # the product comes from the run: a record without one no longer splits its run's rows
    op.execute(
        "UPDATE production_count SET product_code = (SELECT w.product_code FROM run r "
        "JOIN work_order w ON w.wo_no = r.wo_no WHERE r.run_no = production_count.run_no) "
        "WHERE product_code IS NULL AND run_no IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM run r WHERE r.run_no = production_count.run_no)"
    )


def downgrade() -> None:
    # the filled-in products stay (they are the run's)
    op.drop_table('line_shift')
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sn_seq', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE run SET sn_seq = COALESCE((SELECT s.last_value FROM sn_sequence s "
        "WHERE s.prefix = run.run_no || '-'), 0)"
    )
    op.drop_table('sn_sequence')
