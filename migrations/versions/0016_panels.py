"""panel, and unit.panel_sn / unit.position (issue 19 item 1): a panel's barcode over its boards

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel",
        sa.Column("panel_sn", adapters.types.SafeString(length=100), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("run_no", adapters.types.SafeString(length=100), nullable=False),
        sa.Column("created_at", adapters.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_no"], ["run.run_no"], name=op.f("fk_panel_run_no_run")),
        sa.PrimaryKeyConstraint("panel_sn", name=op.f("pk_panel")),
    )
    with op.batch_alter_table("panel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_panel_run_no"), ["run_no"], unique=False)
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("panel_sn", adapters.types.SafeString(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_unit_panel_sn_position"), ["panel_sn", "position"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_unit_panel_sn_panel"), "panel", ["panel_sn"], ["panel_sn"]
        )


def downgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_unit_panel_sn_panel"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_unit_panel_sn_position"), type_="unique")
        batch_op.drop_column("position")
        batch_op.drop_column("panel_sn")
    with op.batch_alter_table("panel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_panel_run_no"))
    op.drop_table("panel")
