"""Order tolerance through GraphQL on both databases (issue 20 items 1–2): an early event is
PARKED, and the event, trackOut or release that brings its units to its step re-drives it in
the same transaction. The rules over the fakes: tests/unit/test_parking.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters import tables as t
from graphql_api.bootstrap import Services
from graphql_api.metrics import INGEST_PARKED, INGEST_REDRIVEN
from tests.conftest import ApiClient, count_statements, unique
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code details } event { id stepNo acceptedAt } rejection { id } } }"""
TRACE = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo result }
  ingestEvents { dedupeKey stepNo receivedAt acceptedAt } } }"""
HOLD = """mutation($f: UnitFilter!, $r: String!) { holdUnits(filter: $f, reason: $r) {
  hold { id } error { code } } }"""
VALIDATE = """query($s: String!, $sns: [String!]!) { validateUnits(stationCode: $s, sns: $sns) {
  sn ok code } }"""
RELEASE = """mutation($h: ID!) { releaseHold(holdId: $h) { hold { closedAt } error { code } } }"""


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=3)


async def ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    return dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])


def ict(f: IngestFactory, *sns: str, key: str, vcc: float | None = 3.3) -> dict[str, Any]:
    return f.ict_input([(sn, "Passed", 1001.0, vcc) for sn in sns], key=key)


async def parked_rows(services: Services, key: str) -> list[Any]:
    async with services.engine.connect() as conn:
        return list(
            (
                await conn.execute(select(t.parked_event).where(t.parked_event.c.dedupe_key == key))
            ).all()
        )


async def test_an_early_event_parks_and_is_accepted_when_its_unit_arrives(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    sn, key = f.sns[0], unique("ICT")
    parked_before, redriven_before = INGEST_PARKED._value.get(), INGEST_REDRIVEN._value.get()
    early = await ingest(api, ict(f, sn, key=key))
    assert early == {"status": "PARKED", "error": None, "event": None, "rejection": None}
    assert INGEST_PARKED._value.get() == parked_before + 1
    [row] = await parked_rows(services, key)
    assert row.waiting_for_step_no == 20 and row.sns == [sn]
    # validateUnits answers for now, as before: the unit is not at the ICT step yet
    [check] = (await api.gql(VALIDATE, {"s": f.code("ICT-1"), "sns": [sn]}))["validateUnits"]
    assert (check["ok"], check["code"]) == (False, "STEP_MISMATCH")
    assert (await ingest(api, ict(f, sn, key=key)))["status"] == "PARKED"
    other = await ingest(api, ict(f, sn, key=key, vcc=3.25))
    assert other["status"] == "REJECTED"
    assert other["error"] == {
        "code": "IDEMPOTENCY_CONFLICT",
        "details": {"parkedEventId": str(row.id)},
    }
    aoi = await ingest(api, f.aoi_input(sn))
    assert aoi["status"] == "ACCEPTED" and aoi["event"]["acceptedAt"] is None
    assert INGEST_REDRIVEN._value.get() == redriven_before + 1
    assert await parked_rows(services, key) == []
    unit = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (unit["status"], unit["currentStepNo"]) == ("QUEUED", 30)
    assert sorted((tr["stepNo"], tr["result"]) for tr in unit["tracks"]) == [
        (10, "PASS"),
        (20, "PASS"),
    ]
    [redriven] = [e for e in unit["ingestEvents"] if e["dedupeKey"] == key]
    assert redriven["stepNo"] == 20
    assert redriven["acceptedAt"] is not None
    assert redriven["receivedAt"] == row.received_at.isoformat().replace("+00:00", "Z")
    assert redriven["receivedAt"] < redriven["acceptedAt"]
    assert (await ingest(api, ict(f, sn, key=key)))["status"] == "DUPLICATE"


async def test_early_events_failing_other_checks_are_refused_and_late_ones_stay_step_mismatch(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    sn = f.sns[0]
    no_vcc = await ingest(api, ict(f, sn, key=unique("ICT"), vcc=None))
    assert no_vcc["error"]["code"] == "REQUIRED_DATA_MISSING"
    bad = ict(f, sn, key=unique("ICT"))
    bad["payload"]["MessageBody"]["TestedUnits"][0]["Tests"][0]["Measurements"][0]["MeasuredValue"][
        "Value"
    ] = "lots"
    assert (await ingest(api, bad))["error"]["code"] == "DATA_VALUE_INVALID"
    assert (await ingest(api, f.aoi_input(sn)))["status"] == "ACCEPTED"
    late = await ingest(api, f.aoi_input(sn))
    assert late["error"]["code"] == "STEP_MISMATCH"
    async with services.engine.connect() as conn:
        parked = select(t.parked_event.c.id).where(t.parked_event.c.run_no == f.run_no)
        assert (await conn.execute(parked)).all() == []


async def test_a_redrive_that_now_fails_is_an_ordinary_rejection(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    a, b = f.sns[:2]
    key = unique("ICT")
    assert (await ingest(api, ict(f, a, b, key=key)))["status"] == "PARKED"
    # b fails its AOI (and stays at step 10): the event still waits for it
    assert (await ingest(api, f.aoi_input(b, judgement="NG")))["status"] == "ACCEPTED"
    assert len(await parked_rows(services, key)) == 1
    # a arrives: the event runs again, and b is OUT_FAILED now
    assert (await ingest(api, f.aoi_input(a)))["status"] == "ACCEPTED"
    assert await parked_rows(services, key) == []
    async with services.engine.connect() as conn:
        [rejection] = (
            await conn.execute(
                select(t.ingest_rejection).where(t.ingest_rejection.c.dedupe_key == key)
            )
        ).all()
    assert rejection.error_code == "UNIT_OUT_FAILED" and rejection.replayable
    unit = (await api.gql(TRACE, {"sn": a}))["unit"]
    assert (unit["currentStepNo"], [tr["stepNo"] for tr in unit["tracks"]]) == (20, [10])


async def test_a_held_unit_keeps_its_parked_event_until_its_release(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    sn, key = f.sns[0], unique("ICT")
    assert (await ingest(api, ict(f, sn, key=key)))["status"] == "PARKED"
    hold = (await api.gql(HOLD, {"f": {"sns": [sn]}, "r": "paste lot"}))["holdUnits"]["hold"]
    # where an alarm HOLD would leave it: at the ICT step, held
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(current_step_no=20))
    assert len(await parked_rows(services, key)) == 1
    released = (await api.gql(RELEASE, {"h": hold["id"]}))["releaseHold"]
    assert released["error"] is None and released["hold"]["closedAt"] is not None
    assert await parked_rows(services, key) == []
    unit = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (unit["status"], unit["currentStepNo"]) == ("QUEUED", 30)
    assert [e["acceptedAt"] is not None for e in unit["ingestEvents"]] == [True]


async def test_the_early_event_and_the_one_that_unblocks_it_sent_at_once(
    api: ApiClient, services: Services
) -> None:
    """Whichever commits first, the ICT event ends ACCEPTED exactly once, never PARKED."""
    f = await IngestFactory(services.bus).build(units=8)
    for sn in f.sns:
        key = unique("ICT")
        early, aoi = await asyncio.gather(
            ingest(api, ict(f, sn, key=key)), ingest(api, f.aoi_input(sn))
        )
        assert early["status"] in ("PARKED", "ACCEPTED"), early
        assert aoi["status"] == "ACCEPTED", aoi
        assert await parked_rows(services, key) == []
        unit = (await api.gql(TRACE, {"sn": sn}))["unit"]
        assert unit["currentStepNo"] == 30, unit
        assert sorted(tr["stepNo"] for tr in unit["tracks"]) == [10, 20]


async def test_an_accepted_move_of_units_without_parked_events_costs_no_statement(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """Order tolerance is paid by the units that had early events: the others' moves look for
    no parked event (the unit's flag is read with its lock)."""
    with count_statements(services.engine) as seen:
        assert (await ingest(api, f.aoi_input(f.sns[0])))["status"] == "ACCEPTED"
    # (SQLite reads the key's parked event apart; PostgreSQL with the key's lock)
    assert not [s for s in seen if "parked_event_unit" in s]
    assert (await ingest(api, ict(f, f.sns[1], key=unique("ICT"))))["status"] == "PARKED"
    with count_statements(services.engine) as seen:
        assert (await ingest(api, f.aoi_input(f.sns[1])))["status"] == "ACCEPTED"
    assert [s for s in seen if "parked_event_unit" in s]


async def test_a_keys_open_rejection_is_resolved_when_its_parked_event_is_accepted(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    sn, key = f.sns[2], unique("ICT")
    refused = await ingest(api, ict(f, sn, key=key, vcc=None))
    assert refused["error"]["code"] == "REQUIRED_DATA_MISSING"
    assert (await ingest(api, ict(f, sn, key=key)))["status"] == "PARKED"  # the fixed input
    assert (await ingest(api, f.aoi_input(sn)))["status"] == "ACCEPTED"
    async with services.engine.connect() as conn:
        [rejection] = (
            await conn.execute(
                select(t.ingest_rejection).where(t.ingest_rejection.c.dedupe_key == key)
            )
        ).all()
        [event] = (
            await conn.execute(select(t.ingest_event).where(t.ingest_event.c.dedupe_key == key))
        ).all()
    assert rejection.resolved_by_event_id == event.id


ROUTE_TRACE = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo attempt result station { code } dataValues { specName valueNumber judge } } } }"""


async def test_a_routes_events_in_any_order_end_as_in_order(
    api: ApiClient, services: Services
) -> None:
    """Issue 20's "done when": the same tracks and unit states, whatever order the AOI and
    ICT events of a batch of units arrive in."""
    import random

    f = await IngestFactory(services.bus).build(units=9)
    groups = [f.sns[0:3], f.sns[3:6], f.sns[6:9]]

    def events(sns: list[str]) -> list[dict[str, Any]]:
        return [f.aoi_input(sn) for sn in sns] + [ict(f, sn, key=unique("ICT")) for sn in sns]

    in_order, reverse, shuffled = (events(g) for g in groups)
    random.Random(20).shuffle(shuffled)
    for data in in_order + reverse[::-1] + shuffled:
        assert (await ingest(api, data))["status"] in ("ACCEPTED", "PARKED")

    async def trace(sn: str) -> Any:
        return (await api.gql(ROUTE_TRACE, {"sn": sn}))["unit"]

    expected = [await trace(sn) for sn in groups[0]]
    assert {(u["status"], u["currentStepNo"]) for u in expected} == {("QUEUED", 30)}
    for group in groups[1:]:
        assert [await trace(sn) for sn in group] == expected
    async with services.engine.connect() as conn:
        parked = select(t.parked_event.c.id).where(t.parked_event.c.run_no == f.run_no)
        assert (await conn.execute(parked)).all() == []
