"""ingestEvent's refusals on the wire, on both databases: the input's parsing
(VALIDATION_FAILED), a truncated unreplayable input, a conflict's details naming the event by
its id, meta ignored by duplicates, attempts counted on one rejection row; each checked to write
nothing but its rejection. Every rule's refusal is tests/unit/test_ingest_refusals.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details } event { id }
  rejection { id attempts dedupeKey error { code } input } } }"""


async def snapshot_of(services: Services, f: IngestFactory) -> dict[str, Any]:
    """What a refusal must not change: the units, their tracks and values, the events."""
    async with services.engine.connect() as conn:
        units = (
            await conn.execute(
                select(t.unit.c.sn, t.unit.c.status, t.unit.c.current_step_no)
                .where(t.unit.c.run_no == f.run_no)
                .order_by(t.unit.c.sn)
            )
        ).all()
        unit_ids = select(t.unit.c.id).where(t.unit.c.run_no == f.run_no)
        tracks = (
            await conn.execute(
                select(func.count()).select_from(t.track).where(t.track.c.unit_id.in_(unit_ids))
            )
        ).scalar_one()
        values = (
            await conn.execute(
                select(func.count())
                .select_from(t.data_value)
                .join(t.track, t.track.c.id == t.data_value.c.track_id)
                .where(t.track.c.unit_id.in_(unit_ids))
            )
        ).scalar_one()
        events = (
            await conn.execute(
                select(func.count())
                .select_from(t.ingest_event)
                .where(t.ingest_event.c.source_system.like(f"{f.tag}%"))
            )
        ).scalar_one()
        run = (
            await conn.execute(select(t.run.c.status).where(t.run.c.run_no == f.run_no))
        ).scalar_one()
    return {
        "units": [tuple(u) for u in units],
        "tracks": tracks,
        "values": values,
        "events": events,
        "run": run,
    }


async def refused(
    api: ApiClient, services: Services, f: IngestFactory, data: dict[str, Any], code: str
) -> dict[str, Any]:
    before = await snapshot_of(services, f)
    result = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert result["status"] == "REJECTED", result
    assert result["error"]["code"] == code, result["error"]
    assert result["event"] is None
    assert result["rejection"]["dedupeKey"] == data["dedupeKey"]
    assert await snapshot_of(services, f) == before, "a refusal wrote something"
    return dict(result)


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=3)


async def test_validation_failed_for_empty_keys_and_naive_times(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    data = f.aoi_input(f.sns[0])
    await refused(
        api,
        services,
        f,
        data | {"dedupeKey": "", "sourceSystem": data["sourceSystem"]},
        "VALIDATION_FAILED",
    )
    r = await refused(
        api, services, f, data | {"occurredAt": "2026-03-02T08:15:03"}, "VALIDATION_FAILED"
    )
    assert "offset" in r["error"]["message"]
    r = await refused(api, services, f, data | {"occurredAt": "yesterday"}, "VALIDATION_FAILED")
    assert "ISO-8601" in r["error"]["message"]
    r = await refused(api, services, f, data | {"payload": [1, 2]}, "VALIDATION_FAILED")
    r = await refused(api, services, f, data | {"dedupeKey": "k" * 201}, "VALIDATION_FAILED")
    nul = f.aoi_payload(f.sns[0]) | {"note": "bad\x00byte"}
    r = await refused(api, services, f, data | {"payload": nul}, "VALIDATION_FAILED")
    assert "NUL" in r["error"]["message"]


async def test_payload_too_large_keeps_a_truncated_unreplayable_input(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    data = f.aoi_input(f.sns[0])
    data["payload"]["blob"] = "x" * (1024 * 1024 + 10)
    r = await refused(api, services, f, data, "PAYLOAD_TOO_LARGE")
    stored = r["rejection"]["input"]["payload"]
    assert stored["truncated"] is True and len(stored["head"]) <= 4096
    replay = await api.gql(
        "mutation($id: ID!) { replayRejection(id: $id) { status error { code message } } }",
        {"id": r["rejection"]["id"]},
    )
    assert replay["replayRejection"]["status"] == "REJECTED"
    assert "cannot be replayed" in replay["replayRejection"]["error"]["message"]


async def test_idempotency_conflict(api: ApiClient, services: Services, f: IngestFactory) -> None:
    key = unique("K")
    first = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0], key=key)}))["ingestEvent"]
    assert first["status"] == "ACCEPTED"
    changed = f.aoi_input(f.sns[0], key=key, judgement="NG")
    r = await refused(api, services, f, changed, "IDEMPOTENCY_CONFLICT")
    assert r["error"]["details"]["existingEventId"] == first["event"]["id"]


async def test_duplicate_ignores_meta_and_offsets(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    data = f.aoi_input(f.sns[0])
    first = (await api.gql(INGEST, {"i": data | {"meta": {"try": 1}}}))["ingestEvent"]
    before = await snapshot_of(services, f)
    again = data | {"meta": {"try": 2}, "occurredAt": "2026-03-02T07:15:03Z"}  # the same instant
    second = (await api.gql(INGEST, {"i": again}))["ingestEvent"]
    assert (second["status"], second["event"]["id"]) == ("DUPLICATE", first["event"]["id"])
    assert await snapshot_of(services, f) == before


async def test_same_refused_input_counts_attempts_on_one_rejection(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    data = f.aoi_input(f.code("NOBODY"))
    ids = set()
    for attempt in (1, 2, 3):
        r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
        assert r["rejection"]["attempts"] == attempt
        ids.add(r["rejection"]["id"])
    assert len(ids) == 1
    async with services.engine.connect() as conn:
        n = (
            await conn.execute(
                select(func.count())
                .select_from(t.ingest_rejection)
                .where(t.ingest_rejection.c.dedupe_key == data["dedupeKey"])
            )
        ).scalar_one()
    assert n == 1


async def test_an_occurred_at_ahead_of_the_clock_past_the_skew_is_refused(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """MES_MAX_CLOCK_SKEW (300 s by default): a machine whose clock runs ahead would record
    tracks in the future. Within the skew the event is accepted."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    data = f.aoi_input(f.sns[0])
    ahead = (now + timedelta(hours=1)).isoformat()
    r = await refused(api, services, f, data | {"occurredAt": ahead}, "VALIDATION_FAILED")
    details = r["error"]["details"]
    assert details["field"] == "occurredAt" and details["limit"] == 300
    assert 3590 <= details["skewSeconds"] <= 3600
    assert "MES_MAX_CLOCK_SKEW" in r["error"]["message"]
    within = (now + timedelta(seconds=60)).isoformat()
    ok = await api.gql(INGEST, {"i": data | {"occurredAt": within, "dedupeKey": unique("k")}})
    assert ok["ingestEvent"]["status"] == "ACCEPTED", ok
