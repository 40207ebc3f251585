"""token names (issue 15): unique among active tokens only, so a revoked token's name can be
given again (`mes token rotate`, a second `mes demo`)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text('revoked_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint('uq_api_token_name', type_='unique')
        batch_op.create_index(
            'uq_api_token_active_name', ['name'], unique=True,
            postgresql_where=ACTIVE, sqlite_where=ACTIVE,
        )


def downgrade() -> None:
    # fails while a name is held by more than one token (delete the revoked ones first)
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index('uq_api_token_active_name', postgresql_where=ACTIVE, sqlite_where=ACTIVE)
        batch_op.create_unique_constraint('uq_api_token_name', ['name'])
