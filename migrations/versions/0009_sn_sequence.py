"""generated serial numbers counted per prefix across runs (issue 16 item 10): an sn_sequence
row per prefix replaces run.sn_seq; each run's counter becomes its default prefix's counter

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0007'
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


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sn_seq', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE run SET sn_seq = COALESCE((SELECT s.last_value FROM sn_sequence s "
        "WHERE s.prefix = run.run_no || '-'), 0)"
    )
    op.drop_table('sn_sequence')
