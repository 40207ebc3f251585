"""`startedAtPath` through GraphQL on both databases (issue 16 item 12): the machine's start
time is the track's (and the carrier track's) inAt; occurredAt stays the outAt."""

from __future__ import annotations

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.db_shortcuts import at_reflow
from tests.exec_builders import ExecFactory
from tests.ingest_builders import TIMED, IngestFactory
from tests.queries import INGEST

TRACKS = """query($sn: String!) { unit(sn: $sn) { tracks { stepNo inAt outAt }
  carrierTracks { inAt outAt } } }"""


async def test_an_auto_track_has_the_machines_duration(api: ApiClient, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=2, aoi_mapping=TIMED)
    sn = f.sns[0]
    data = f.aoi_input(sn)
    data["payload"] |= {
        "startedAt": "2026-03-02T08:14:20+01:00",
        "endedAt": "2026-03-02T08:15:02+01:00",
    }
    r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["normalized"]["startedAt"] == "2026-03-02T08:14:20+01:00"
    tracks = (await api.gql(TRACKS, {"sn": sn}))["unit"]["tracks"]
    assert tracks == [
        {"stepNo": 10, "inAt": "2026-03-02T07:14:20Z", "outAt": "2026-03-02T07:15:02Z"}
    ]
    late = f.aoi_input(f.sns[1])
    late["payload"]["startedAt"] = "2026-03-02T09:00:00+01:00"
    r = (await api.gql(INGEST, {"i": late}))["ingestEvent"]
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "INGEST_PAYLOAD_INVALID")
    assert r["error"]["details"]["path"] == "payload.startedAt"


async def test_a_batch_carrier_track_has_the_ovens_duration(
    api: ApiClient, services: Services
) -> None:
    f = await ExecFactory(services.bus).build(units=1)
    await at_reflow(services, f.sns)
    data = f.reflow_input(f.sns)
    data["payload"]["startedAt"] = "2026-03-02T08:05:00+01:00"
    r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    trace = (await api.gql(TRACKS, {"sn": f.sns[0]}))["unit"]
    spans = [(t["inAt"], t["outAt"]) for t in trace["tracks"]] + [
        (t["inAt"], t["outAt"]) for t in trace["carrierTracks"]
    ]
    assert spans == [("2026-03-02T07:05:00Z", "2026-03-02T08:00:00Z")] * 2
