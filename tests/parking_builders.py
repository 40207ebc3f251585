"""Parked events for tests of expiry and reads (issue 20): built as the pipeline parks them,
an ICT result that came before its unit reached step 20, and stored with `uow.parked.add`."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.ingest.envelope import canonical_hash, stored_input
from domain.ingest.records import ParkedEvent
from tests.ingest_builders import IngestFactory


def parked_ict(
    f: IngestFactory,
    sn: str,
    unit_id: int,
    received_at: datetime,
    ttl_s: int = 3600,
    key: str | None = None,
    token_name: str | None = None,
) -> ParkedEvent:
    """The ICT result of one board, parked at `received_at`, waiting for step 20."""
    env = f.envelope(f.ict_input([(sn, "Passed", 1000.0, 3.3)], key=key))
    assert env.occurred_at is not None
    return ParkedEvent(
        source_system=env.source_system,
        dedupe_key=env.dedupe_key,
        input_hash=canonical_hash(env),
        event_type=env.event_type,
        occurred_at=env.occurred_at,
        received_at=received_at,
        expires_at=received_at + timedelta(seconds=ttl_s),
        run_no=f.run_no,
        waiting_for_step_no=20,
        input=stored_input(env),
        unit_ids=(unit_id,),
        sns=(sn,),
        token_name=token_name,
    )
