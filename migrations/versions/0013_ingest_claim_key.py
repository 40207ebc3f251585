"""ingest_claim_key (issue 18 item 5): on PostgreSQL, an event's token hold, key lock and
duplicate check in one round trip (SQLite keeps the separate steps)

A plain statement (a CTE) would read the event with a snapshot taken before the advisory
lock is granted, and miss an event or an open rejection committed by the sender it waited
for. A VOLATILE plpgsql function takes a fresh snapshot for each of its statements (READ
COMMITTED), so the read after the lock sees what the lock's previous holder committed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the token held FOR SHARE as PgTokenRepository.hold holds it, the lock taken as
# PgIngestEventRepository.lock_key takes it, the row read as get_by_key reads it; a revoked
# token takes no lock and reads nothing
CLAIM_KEY = """
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CLAIM_KEY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ingest_claim_key(text, varchar, varchar, bigint)")
