"""Accepted ingest, the trace, batches, replay, and the event and rejection listings, through
GraphQL on both databases. Judging (limits, KEY failures, alarms) is
tests/unit/test_ingest_judging.py."""

from __future__ import annotations

import re

import pytest

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, count_statements, unique
from tests.ingest_builders import IngestFactory
from tests.ingest_calls import ingest, move
from tests.queries import INGEST, TRACE


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=3)


async def test_walkthrough_aoi_event_is_accepted_and_traced(
    api: ApiClient, f: IngestFactory
) -> None:
    sn = f.sns[0]
    r = await ingest(api, f.aoi_input(sn, judgement="ok"))
    assert r["status"] == "ACCEPTED" and r["error"] is None
    event = r["event"]
    assert (event["sn"], event["snList"], event["stepNo"], event["result"]) == (
        sn,
        [sn],
        10,
        "PASS",
    )
    # lamp_hours has no spec: listed, and kept as a value without one (unmappedNames: STORE)
    assert event["normalized"]["unmapped"] == ["lamp_hours"]
    assert event["dataValueCount"] == 3
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 20)
    assert trace["run"]["status"] == "IN_PROGRESS"
    [track] = trace["tracks"]
    assert (track["stepNo"], track["attempt"], track["source"], track["result"]) == (
        10,
        1,
        "AUTO",
        "PASS",
    )
    assert track["inAt"] == track["outAt"] == "2026-03-02T07:15:03Z"  # returned in UTC
    assert track["station"] == {
        "code": f.code("AOI-1"),
        "stationType": "AUTO",
        "group": {"code": f.code("AOI-G")},
    }
    values = {v["specName"]: v for v in track["dataValues"]}
    assert values["VoidRatio"]["valueNumber"] == 12.5
    assert values["VoidRatio"]["judge"] == "PASS"  # no judge sent, inside the limits
    assert values["VoidRatio"]["valueUnit"] == "%"
    assert values["Snapshot"]["judge"] == "NA"  # no limits, no judge
    lamp = values["lamp_hours"]
    assert (lamp["dataType"], lamp["valueNumber"], lamp["judge"]) == ("NUMBER", 5120.0, "NA")
    assert track["ingestEvent"]["dedupeKey"] == trace["ingestEvents"][0]["dedupeKey"]
    assert trace["ingestEvents"][0]["tracks"] == [{"id": track["id"]}]


async def test_a_measurement_without_a_name_is_counted_not_refused(
    api: ApiClient, f: IngestFactory
) -> None:
    data = f.aoi_input(f.sns[0])
    data["payload"]["features"].append({"key": None, "val": 3.0})
    data["payload"]["features"].append({"val": 4.0})
    r = await ingest(api, data)
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["normalized"]["unnamedMeasurements"] == 2
    # the named ones (lamp_hours kept without a spec), as without the nameless
    assert r["event"]["dataValueCount"] == 3


async def test_cfx_units_tested_for_two_boards(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    await move(services, f.sns[:2], 20)
    data = f.ict_input([(f.sns[0], "Passed", 1001.0, 3.31), (f.sns[1], "Failed", 1207.0, 3.30)])
    r = await ingest(api, data)
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["sn"] is None and r["event"]["snList"] == f.sns[:2]
    assert r["event"]["result"] == "FAIL"
    assert r["event"]["testResultId"] == data["dedupeKey"]
    assert [t["result"] for t in r["event"]["tracks"]] == ["PASS", "FAIL"]
    first = (await api.gql(TRACE, {"sn": f.sns[0]}))["unit"]
    second = (await api.gql(TRACE, {"sn": f.sns[1]}))["unit"]
    assert (first["status"], first["currentStepNo"]) == ("QUEUED", 30)
    assert second["status"] == "OUT_FAILED"
    assert {v["specName"]: v["valueNumber"] for v in first["tracks"][0]["dataValues"]} == {
        "R1": 1001.0,
        "VCC": 3.31,
    }
    r1 = next(v for v in second["tracks"][0]["dataValues"] if v["specName"] == "R1")
    assert (r1["valueNumber"], r1["judge"]) == (1207.0, "FAIL")
    assert first["ingestEvents"][0]["id"] == second["ingestEvents"][0]["id"]


async def test_ingest_events_batch_in_order_each_item_on_its_own(
    api: ApiClient, f: IngestFactory
) -> None:
    good = f.aoi_input(f.sns[0])
    naive = f.aoi_input(f.sns[1]) | {"occurredAt": "2026-03-02T08:15:03"}
    same_unit_again = f.aoi_input(f.sns[0])  # after the first item the unit is at step 20
    third = f.aoi_input(f.sns[2])
    data = await api.gql(
        "mutation($l: [IngestEventInput!]!) { ingestEvents(inputs: $l) { status error { code } } }",
        {"l": [good, naive, same_unit_again, third]},
    )
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in data["ingestEvents"]] == [
        ("ACCEPTED", None),
        ("REJECTED", "VALIDATION_FAILED"),
        ("REJECTED", "STEP_MISMATCH"),
        ("ACCEPTED", None),
    ]


async def test_ingest_events_list_limit(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    limit = services.settings.limits.max_ingest_batch
    items = [f.aoi_input(f.sns[0])] * (limit + 1)
    errors = await api.errors(
        "mutation($l: [IngestEventInput!]!) { ingestEvents(inputs: $l) { status } }", {"l": items}
    )
    assert f"at most {limit}" in errors[0]["message"]


async def test_an_unknown_event_type_fails_the_request(api: ApiClient, f: IngestFactory) -> None:
    errors = await api.errors(INGEST, {"i": f.aoi_input(f.sns[0]) | {"eventType": "MANUAL"}})
    assert "MANUAL" in errors[0]["message"]


REPLAY = """mutation($id: ID!) { replayRejection(id: $id) {
  status error { code } event { id } rejection { id attempts resolvedBy { id } } } }"""


async def test_replay_after_master_data_is_fixed(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """The walkthrough's step 8: a station of another group, moved, then replayed."""
    from domain import master as dm
    from domain.enums import StationType
    from domain.usecases import master_data as md

    r = await ingest(api, f.aoi_input(f.sns[0], station=f.code("AOI-9")))
    assert r["error"]["code"] == "STATION_MISMATCH"
    rejection_id = r["rejection"]["id"]
    still = (await api.gql(REPLAY, {"id": rejection_id}))["replayRejection"]
    assert (still["status"], still["error"]["code"]) == ("REJECTED", "STATION_MISMATCH")
    assert still["rejection"]["id"] == rejection_id and still["rejection"]["attempts"] == 2
    await f.do(
        md.UpsertStation(
            dm.Station(f.code("AOI-9"), "AOI-9", StationType.AUTO, f.code("L"), f.code("AOI-G"))
        )
    )
    done = (await api.gql(REPLAY, {"id": rejection_id}))["replayRejection"]
    assert done["status"] == "ACCEPTED"
    assert done["rejection"]["resolvedBy"] == {"id": done["event"]["id"]}
    again = (await api.gql(REPLAY, {"id": rejection_id}))["replayRejection"]
    assert (again["status"], again["event"]["id"]) == ("DUPLICATE", done["event"]["id"])
    missing = (await api.gql(REPLAY, {"id": "999999999"}))["replayRejection"]
    assert (missing["status"], missing["error"]["code"]) == ("REJECTED", "REJECTION_NOT_FOUND")


async def test_an_accepted_resend_resolves_the_rejections_of_its_key(
    api: ApiClient, f: IngestFactory
) -> None:
    key = unique("K")
    bad = await ingest(api, f.aoi_input(f.sns[0], key=key, station=f.code("NOPE")))
    assert bad["error"]["code"] == "STATION_NOT_FOUND"
    good = await ingest(api, f.aoi_input(f.sns[0], key=key))
    assert good["status"] == "ACCEPTED"
    listed = await api.gql(
        "query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) { edges { node { id resolvedBy { id } } } } }",
        {"s": f.code("AOI-1")},
    )
    node = next(
        e["node"]
        for e in listed["ingestRejections"]["edges"]
        if e["node"]["id"] == bad["rejection"]["id"]
    )
    assert node["resolvedBy"] == {"id": good["event"]["id"]}


async def test_an_accept_updates_rejections_only_when_its_key_has_open_ones(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """The duplicate check learns in the same statement whether the key has open rejections:
    the usual accept (none) spends no statement resolving them."""
    with count_statements(services.engine) as seen:
        assert (await ingest(api, f.aoi_input(f.sns[1])))["status"] == "ACCEPTED"
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE INGEST_REJECTION")]
    key = unique("K")
    await ingest(api, f.aoi_input(f.sns[2], key=key, station=f.code("NOPE")))
    with count_statements(services.engine) as seen:
        assert (await ingest(api, f.aoi_input(f.sns[2], key=key)))["status"] == "ACCEPTED"
    assert [s for s in seen if s.lstrip().upper().startswith("UPDATE INGEST_REJECTION")]


async def test_event_and_rejection_listings_filter_and_page(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    keys = []
    for sn in f.sns:
        keys.append((await ingest(api, f.aoi_input(sn)))["event"]["id"])
    await ingest(api, f.aoi_input(f.code("GHOST")))
    await ingest(api, f.aoi_input(f.sns[0], station=f.code("NOPE")))  # a rejection naming sns[0]
    q = """query($f: IngestEventFilter, $after: String) { ingestEvents(filter: $f, first: 2, after: $after) {
      edges { cursor node { id sn } } pageInfo { hasNextPage endCursor } } }"""
    page1 = (await api.gql(q, {"f": {"runNo": f.run_no}}))["ingestEvents"]
    assert [e["node"]["id"] for e in page1["edges"]] == keys[::-1][:2]  # newest first
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = (await api.gql(q, {"f": {"runNo": f.run_no}, "after": page1["pageInfo"]["endCursor"]}))[
        "ingestEvents"
    ]
    assert [e["node"]["id"] for e in page2["edges"]] == keys[::-1][2:]
    assert page2["pageInfo"]["hasNextPage"] is False
    by_sn = (await api.gql(q, {"f": {"sn": f.sns[1]}}))["ingestEvents"]
    assert [e["node"]["sn"] for e in by_sn["edges"]] == [f.sns[1]]
    by_station = (await api.gql(q, {"f": {"stationCode": f.code("AOI-1"), "eventType": "AUTO"}}))[
        "ingestEvents"
    ]
    assert len(by_station["edges"]) == 2
    window = (
        await api.gql(
            q,
            {
                "f": {
                    "runNo": f.run_no,
                    "occurredFrom": "2026-03-02T07:00:00Z",
                    "occurredTo": "2026-03-02T08:00:00Z",
                }
            },
        )
    )["ingestEvents"]
    assert len(window["edges"]) == 2
    empty = (await api.gql(q, {"f": {"runNo": f.run_no, "occurredTo": "2026-03-02T07:00:00Z"}}))[
        "ingestEvents"
    ]
    assert empty["edges"] == []
    rq = """query($f: IngestRejectionFilter) { ingestRejections(filter: $f) { edges { node { sns error { code } } } } }"""
    ghost = (await api.gql(rq, {"f": {"sn": f.code("GHOST")}}))["ingestRejections"]["edges"]
    assert [e["node"]["error"]["code"] for e in ghost] == ["UNIT_NOT_FOUND"]
    named = (
        await api.gql(rq, {"f": {"sn": f.sns[0], "code": "STEP_MISMATCH", "unresolvedOnly": True}})
    )["ingestRejections"]["edges"]
    assert len(named) == 1
    errors = await api.errors(q, {"f": {"occurredFrom": "2026-03-02T07:00:00"}})
    assert "offset" in errors[0]["message"]
    by_key = await api.gql(
        'query($k: ID!) { a: ingestEvent(id: $k) { id } b: ingestEvent(id: "0") { id } }',
        {"k": keys[0]},
    )
    assert by_key == {"a": {"id": keys[0]}, "b": None}


async def test_trace_costs_a_fixed_number_of_statements(api: ApiClient, services: Services) -> None:
    """1 track × 1 value against 20 tracks × 200 values: the same statement count."""
    from datetime import UTC, datetime

    from domain.enums import DataType, TrackResult, TrackSource
    from domain.tracks import DataValue, Track

    f = await IngestFactory(services.bus).build(units=2)
    small, big = f.sns
    units = await services.store.units([small, big])
    now = datetime(2026, 3, 2, tzinfo=UTC)
    async with services.bus.uow_factory() as uow:
        for sn, n_tracks, n_values in ((small, 1, 1), (big, 20, 200)):
            tracks = await uow.tracks.add_many(
                [
                    Track(
                        unit_id=units[sn].id or 0,
                        unit_sn=sn,
                        run_no=f.run_no,
                        step_no=10,
                        attempt=1,
                        operation_code=f.code("AOI"),
                        source=TrackSource.AUTO,
                        station_code=f.code("AOI-1"),
                        in_at=now,
                        out_at=now,
                        result=TrackResult.PASS,
                    )
                    for _ in range(n_tracks)
                ]
            )
            await uow.data_values.add_many(
                [
                    DataValue(
                        spec_name="VoidRatio",
                        data_type=DataType.NUMBER,
                        source=TrackSource.AUTO,
                        collected_at=now,
                        value_number=float(i),
                        track_id=tr.id,
                    )
                    for tr in tracks
                    for i in range(n_values)
                ]
            )
        await uow.commit()
    # steady state: the frozen route version is decoded once per process and then cached
    # (a cold cache costs one statement more, the same for every unit)
    for sn in (small, big):
        await api.gql(TRACE, {"sn": sn})
    counts = []
    for sn in (small, big):
        with count_statements(services.engine) as seen:
            trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
        counts.append(len(seen))
        assert len(trace["tracks"]) in (1, 20)
    assert sum(len(tr["dataValues"]) for tr in trace["tracks"]) == 4000
    assert counts[0] == counts[1], counts


async def test_an_accept_costs_the_same_statements_however_many_runs_are_open(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    """Step 3 reads the route versions of the unfinished runs (a few rows), not every run,
    and the event's own run comes with its locked units (PostgreSQL) or by key."""
    # (the run's first event also starts the run)
    assert (await ingest(api, f.aoi_input(f.sns[0])))["status"] == "ACCEPTED"
    with count_statements(services.engine) as before:
        assert (await ingest(api, f.aoi_input(f.sns[1])))["status"] == "ACCEPTED"
    for _ in range(4):
        await IngestFactory(services.bus).build(units=1)
    with count_statements(services.engine) as after:
        assert (await ingest(api, f.aoi_input(f.sns[2])))["status"] == "ACCEPTED"
    assert len(after) == len(before), after
    if services.engine.dialect.name == "postgresql":
        assert not [
            s for s in after if re.search(r"FROM run WHERE (run\.)?run_no", " ".join(s.split()))
        ]


async def test_a_units_tracks_follow_the_machines_time_and_show_when_they_arrived(
    api: ApiClient, f: IngestFactory
) -> None:
    """The ICT's clock says it tested the board before the AOI inspected it (a gateway
    spooled the AOI result, or the clocks disagree): the trace orders by outAt, and receivedAt
    shows the order the service heard them in."""
    sn = f.sns[0]
    aoi = f.aoi_input(sn) | {"occurredAt": "2026-03-02T09:00:00+00:00"}
    assert (await ingest(api, aoi))["status"] == "ACCEPTED"
    ict = f.ict_input([(sn, "Passed", 1001.0, 3.31)]) | {"occurredAt": "2026-03-02T08:00:00Z"}
    assert (await ingest(api, ict))["status"] == "ACCEPTED"
    query = "query($sn: String!) { unit(sn: $sn) { tracks { stepNo outAt receivedAt } } }"
    tracks = (await api.gql(query, {"sn": sn}))["unit"]["tracks"]
    assert [(tr["stepNo"], tr["outAt"]) for tr in tracks] == [
        (20, "2026-03-02T08:00:00Z"),
        (10, "2026-03-02T09:00:00Z"),
    ]
    ict_received, aoi_received = (tr["receivedAt"] for tr in tracks)
    assert aoi_received < ict_received  # heard first, shown second
