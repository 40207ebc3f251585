"""Retests by the tester's own id through GraphQL, on both databases (DOMAIN.md §4, issue 10):
for TEST events (sourceSystem, testResultId, sn) is an idempotency key too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, count_statements, unique
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code details } event { id dedupeKey snList }
  rejection { id dedupeKey replayable } } }"""
REPLAY = """mutation($id: ID!) { replayRejection(id: $id) {
  status error { code } event { id dedupeKey snList } } }"""


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])


def result(f: IngestFactory, boards: list[Any], tx: str, key: str | None = None) -> dict[str, Any]:
    """The tester's result `tx` under a dedupeKey of its own."""
    return {**f.ict_input(boards, key=key), "payload": f.ict_payload(boards, tx=tx)}


async def tracks_of(services: Services, sns: list[str]) -> int:
    async with services.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(t.track.join(t.unit, t.unit.c.id == t.track.c.unit_id))
                    .where(t.unit.c.sn.in_(sns))
                )
            ).scalar_one()
        )


async def test_a_test_result_resent_after_the_board_moved_on_is_a_duplicate(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2)
    a, b = f.sns
    for sn in f.sns:
        assert (await ingest(api, f.aoi_input(sn)))["status"] == "ACCEPTED"
    boards = [(a, "Failed", 1000.0, 3.3), (b, "Passed", 1000.0, 3.3)]
    tx = unique("TX")
    first = await ingest(api, result(f, boards, tx))
    assert first["status"] == "ACCEPTED", first
    tracks = await tracks_of(services, f.sns)
    # A failed out, B went on to PACK: the resend under a new key is still recognised
    again = await ingest(api, result(f, boards[::-1], tx))
    assert again["status"] == "DUPLICATE", again
    assert again["event"]["id"] == first["event"]["id"]
    assert await tracks_of(services, f.sns) == tracks
    # another result for a unit under that id
    other = await ingest(api, result(f, [(b, "Failed", 1000.0, 3.3)], tx))
    assert other["status"] == "REJECTED"
    assert other["error"] == {
        "code": "IDEMPOTENCY_CONFLICT",
        "details": {"existingEventId": first["event"]["id"], "sn": b, "testResultId": tx},
    }
    assert other["rejection"]["replayable"] is False
    assert await tracks_of(services, f.sns) == tracks


async def test_panel_wide_ids_and_partial_replays_keep_working(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2, ict_partial=True)
    a, b = f.sns
    assert (await ingest(api, f.aoi_input(a)))["status"] == "ACCEPTED"
    panel = [(a, "Passed", 1000.0, 3.3), (b, "Passed", 1000.0, 3.3)]
    tx, key = unique("PANEL"), unique("K")
    # B is still at AOI: PARTIAL records A and keeps B replayable under `key#B`
    sent = await ingest(api, result(f, panel, tx, key=key))
    assert sent["status"] == "ACCEPTED" and sent["event"]["snList"] == [a], sent
    listed = await api.gql(
        "query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) {"
        " edges { node { id dedupeKey } } } }",
        {"s": f.code("ICT-1")},
    )
    (rejection,) = [
        e["node"]
        for e in listed["ingestRejections"]["edges"]
        if e["node"]["dedupeKey"] == f"{key}#{b}"
    ]
    assert (await ingest(api, f.aoi_input(b)))["status"] == "ACCEPTED"
    replayed = (await api.gql(REPLAY, {"id": rejection["id"]}))["replayRejection"]
    assert replayed["status"] == "ACCEPTED", replayed
    assert replayed["event"]["snList"] == [b]
    # both boards recorded under the panel's id now: the whole panel again is a DUPLICATE
    again = await ingest(api, result(f, panel, tx))
    assert again["status"] == "DUPLICATE", again
    assert again["event"]["id"] == sent["event"]["id"]


async def test_the_tester_id_costs_a_test_event_one_lookup_and_no_other_statement(
    api: ApiClient, services: Services
) -> None:
    """The key's lookup follows the units' locks (a statement sees what committed before it
    began); on PostgreSQL its insert goes with the event's deferred writes. Other event types
    never look."""
    f = await IngestFactory(services.bus).build(units=2)
    assert (await ingest(api, f.aoi_input(f.sns[1])))["status"] == "ACCEPTED"
    with count_statements(services.engine) as aoi:
        assert (await ingest(api, f.aoi_input(f.sns[0])))["status"] == "ACCEPTED"
    boards = [(f.sns[0], "Passed", 1000.0, 3.3)]
    with count_statements(services.engine) as seen:
        assert (await ingest(api, result(f, boards, unique("TX"))))["status"] == "ACCEPTED"
    lookups = [
        s for s in seen if " ".join(s.split()).startswith("SELECT") and "test_result_key" in s
    ]
    assert len(lookups) == 1, seen
    assert not [s for s in aoi if "test_result_key" in s]
    if services.engine.dialect.name == "postgresql":
        inserts = [s for s in seen if "INSERT INTO test_result_key" in s]
        assert len(inserts) == 1 and inserts[0].startswith("WITH"), inserts
