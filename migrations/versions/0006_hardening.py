"""hardening (issue 14): token station bindings, the token behind a rejection, the client's
request id beside the server's in the audit trail

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stations', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
    with op.batch_alter_table('ingest_rejection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_name', sa.String(length=100), nullable=True))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_request_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('client_request_id')
    with op.batch_alter_table('ingest_rejection', schema=None) as batch_op:
        batch_op.drop_column('token_name')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('stations')
