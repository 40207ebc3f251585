"""api tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 03:01:06.478784
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('api_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('lookup', sa.String(length=40), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', adapters.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', adapters.types.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('lookup', name=op.f('uq_api_token_lookup')),
    sa.UniqueConstraint('name', name=op.f('uq_api_token_name'))
    )



def downgrade() -> None:

    op.drop_table('api_token')

