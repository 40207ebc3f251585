"""parked_event and parked_event_unit, and ingest_event.accepted_at (issue 20): events that
came before their units reached their step wait there until a move re-drives them;
ingest_claim_key (0013) replaced by one that also answers the key's parked event (its id and
input hash), so a resend of a parked event costs no statement more than any other send;
unit.has_parked, set when an event is parked for the unit, so a move of a unit without
looks for no parked event

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import adapters.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 0013's function, as it was (the downgrade puts it back)
CLAIM_KEY_0013 = """
CREATE FUNCTION ingest_claim_key(p_lock text, p_source varchar, p_key varchar, p_token bigint)
RETURNS TABLE (token_held boolean, has_open_rejection boolean, event ingest_event)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_token IS NOT NULL THEN
    PERFORM 1 FROM api_token WHERE id = p_token AND revoked_at IS NULL FOR SHARE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT false, false, NULL::ingest_event;
      RETURN;
    END IF;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
  RETURN QUERY SELECT true, EXISTS (
      SELECT 1 FROM ingest_rejection j WHERE j.source_system = p_source
      AND j.dedupe_key = p_key AND j.resolved_by_event_id IS NULL), e
    FROM (SELECT 1) AS one
    LEFT JOIN ingest_event e ON e.source_system = p_source AND e.dedupe_key = p_key;
END
$$
"""
# the same, and the event parked under the key (read after the lock, as the event is)
CLAIM_KEY = """
CREATE FUNCTION ingest_claim_key(p_lock text, p_source varchar, p_key varchar, p_token bigint)
RETURNS TABLE (token_held boolean, has_open_rejection boolean, event ingest_event,
  parked_id bigint, parked_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_token IS NOT NULL THEN
    PERFORM 1 FROM api_token WHERE id = p_token AND revoked_at IS NULL FOR SHARE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT false, false, NULL::ingest_event, NULL::bigint, NULL::varchar;
      RETURN;
    END IF;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(p_lock, 0));
  RETURN QUERY SELECT true, EXISTS (
      SELECT 1 FROM ingest_rejection j WHERE j.source_system = p_source
      AND j.dedupe_key = p_key AND j.resolved_by_event_id IS NULL), e, p.id, p.input_hash
    FROM (SELECT 1) AS one
    LEFT JOIN ingest_event e ON e.source_system = p_source AND e.dedupe_key = p_key
    LEFT JOIN parked_event p ON p.source_system = p_source AND p.dedupe_key = p_key;
END
$$
"""
DROP_CLAIM_KEY = "DROP FUNCTION ingest_claim_key(text, varchar, varchar, bigint)"


def upgrade() -> None:
    with op.batch_alter_table("ingest_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accepted_at", adapters.types.UtcDateTime(), nullable=True)
        )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_parked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "parked_event",
        sa.Column("id", adapters.types.BigId, autoincrement=True, nullable=False),
        sa.Column("source_system", adapters.types.SafeString(length=200), nullable=False),
        sa.Column("dedupe_key", adapters.types.SafeText(), nullable=False),
        sa.Column("input_hash", adapters.types.SafeString(length=64), nullable=False),
        sa.Column("event_type", adapters.types.SafeString(length=20), nullable=False),
        sa.Column("occurred_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("received_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", adapters.types.UtcDateTime(), nullable=False),
        sa.Column("run_no", adapters.types.SafeString(length=100), nullable=False),
        sa.Column("waiting_for_step_no", sa.Integer(), nullable=False),
        sa.Column("input", adapters.types.Json, nullable=False),
        sa.Column("sns", adapters.types.Json, nullable=False),
        sa.Column("restrict_to_sn", adapters.types.SafeString(length=100), nullable=True),
        sa.Column("token_name", adapters.types.SafeString(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_event")),
        sa.UniqueConstraint(
            "source_system", "dedupe_key", name=op.f("uq_parked_event_source_system_dedupe_key")
        ),
    )
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.create_index("ix_parked_event_expires", ["expires_at", "id"], unique=False)
        batch_op.create_index("ix_parked_event_received", ["received_at", "id"], unique=False)
    op.create_table(
        "parked_event_unit",
        sa.Column("parked_event_id", adapters.types.BigId, nullable=False),
        sa.Column("unit_id", adapters.types.BigId, nullable=False),
        sa.Column("waiting_for_step_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parked_event_id"],
            ["parked_event.id"],
            name=op.f("fk_parked_event_unit_parked_event_id_parked_event"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_parked_event_unit_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("parked_event_id", "unit_id", name=op.f("pk_parked_event_unit")),
    )
    with op.batch_alter_table("parked_event_unit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parked_event_unit_waiting", ["unit_id", "waiting_for_step_no"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_CLAIM_KEY)
        op.execute(CLAIM_KEY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_CLAIM_KEY)
        op.execute(CLAIM_KEY_0013)
    with op.batch_alter_table("parked_event_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_event_unit_waiting")
    op.drop_table("parked_event_unit")
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_event_received")
        batch_op.drop_index("ix_parked_event_expires")
    op.drop_table("parked_event")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("has_parked")
    with op.batch_alter_table("ingest_event", schema=None) as batch_op:
        batch_op.drop_column("accepted_at")
