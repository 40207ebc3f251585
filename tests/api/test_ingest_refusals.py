"""Every refusal §4 names for AUTO/TEST, each checked to write nothing but its rejection.

Where no mutation can yet put a unit ON_HOLD, SCRAPPED or IN_STATION (or a run ON_HOLD), the
test sets that state in the tables, as the issue allows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

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


async def set_unit(services: Services, sn: str, **values: Any) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(**values))


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


async def test_ingest_payload_invalid(api: ApiClient, services: Services, f: IngestFactory) -> None:
    nothing = f.aoi_input(f.sns[0]) | {"payload": {"station": f.code("AOI-1"), "judgement": "OK"}}
    r = await refused(api, services, f, nothing, "INGEST_PAYLOAD_INVALID")
    assert "payload.pcb.id" in r["error"]["details"]["pathsTried"]
    maybe = f.aoi_input(f.sns[0], judgement="MAYBE")
    r = await refused(api, services, f, maybe, "INGEST_PAYLOAD_INVALID")
    assert r["error"]["details"]["path"] == "payload.judgement"


async def test_run_not_found_and_run_mismatch(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    await refused(
        api, services, f, f.aoi_input(f.sns[0]) | {"runNo": "NO-SUCH-RUN"}, "RUN_NOT_FOUND"
    )
    other = await IngestFactory(services.bus).build(units=1)
    r = await refused(
        api, services, f, f.aoi_input(f.sns[0]) | {"runNo": other.run_no}, "RUN_MISMATCH"
    )
    assert r["error"]["details"]["runNos"] == [f.run_no]


async def test_unit_not_found(api: ApiClient, services: Services, f: IngestFactory) -> None:
    r = await refused(api, services, f, f.aoi_input(f.code("NEVER-REGISTERED")), "UNIT_NOT_FOUND")
    assert r["error"]["details"]["sns"] == [f.code("NEVER-REGISTERED")]


async def test_ingest_mapping_missing(api: ApiClient, services: Services, f: IngestFactory) -> None:
    # the route has no BATCH... but TEST and AUTO exist: use a runNo-directed TEST event for a
    # route that lacks TEST steps: build one
    from domain import master as dm
    from domain.enums import StationType
    from domain.usecases import master_data as md
    from domain.usecases import production as prod

    c = f.code
    await f.do(
        md.UpsertRouting(dm.Routing(c("R2"), "AOI only", steps=(dm.RoutingStep(10, c("AOI")),)))
    )
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R2"),
                step_no=10,
                station_group_code=c("AOI-G"),
                ingest_mapping={
                    "snPath": "payload.pcb.id",
                    "stationCodePath": "payload.station",
                    "result": {"path": "payload.judgement"},
                },
            )
        )
    )
    assert (await f.do(md.CompileRouting(c("R2")))).is_ready
    await f.do(prod.ReceiveWorkOrder(c("WO2"), "P", 1, c("R2")))
    await f.do(prod.ReleaseWorkOrder(c("WO2")))
    run = await f.do(prod.CreateRun(c("WO2"), c("L"), 1, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    await f.do(prod.RegisterUnits(run.run_no, sns=(c("ONLY-AOI"),)))
    test_event = f.ict_input([(c("ONLY-AOI"), "Passed", 1000.0, 3.3)]) | {"runNo": run.run_no}
    before = await snapshot_of(services, f)
    r = (await api.gql(INGEST, {"i": test_event}))["ingestEvent"]
    assert r["error"]["code"] == "INGEST_MAPPING_MISSING"
    assert await snapshot_of(services, f) == before
    assert StationType.TEST.value in r["error"]["message"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("DONE", "UNIT_ALREADY_DONE"),
        ("OUT_FAILED", "UNIT_OUT_FAILED"),
        ("ON_HOLD", "UNIT_ON_HOLD"),
        ("SCRAPPED", "UNIT_SCRAPPED"),
        ("IN_STATION", "UNIT_ALREADY_IN_STATION"),
    ],
)
async def test_unit_state_refusals(
    api: ApiClient, services: Services, f: IngestFactory, status: str, code: str
) -> None:
    await set_unit(services, f.sns[0], status=status)
    r = await refused(api, services, f, f.aoi_input(f.sns[0]), code)
    assert r["error"]["details"]["status"] == status


@pytest.mark.parametrize("run_status", ["PREP", "ON_HOLD", "COMPLETED"])
async def test_run_not_authorized(api: ApiClient, services: Services, run_status: str) -> None:
    f = await IngestFactory(services.bus).build(units=1, authorize=False)
    async with services.engine.begin() as conn:
        await conn.execute(
            update(t.run).where(t.run.c.run_no == f.run_no).values(status=run_status)
        )
    data = f.aoi_input(f.sns[0]) | ({"runNo": f.run_no} if run_status == "COMPLETED" else {})
    r = await refused(api, services, f, data, "RUN_NOT_AUTHORIZED")
    assert r["error"]["details"]["runStatus"] == run_status


async def test_step_mismatch(api: ApiClient, services: Services, f: IngestFactory) -> None:
    await set_unit(services, f.sns[0], current_step_no=20)
    r = await refused(api, services, f, f.aoi_input(f.sns[0]), "STEP_MISMATCH")
    assert r["error"]["details"] == {
        "sn": f.sns[0],
        "currentStepNo": 20,
        "expectedStationType": "TEST",
        "eventType": "AUTO",
    }


async def test_units_of_one_event_at_different_steps_are_a_step_mismatch(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    for sn in f.sns[:2]:
        await set_unit(services, sn, current_step_no=20)
    await set_unit(services, f.sns[1], current_step_no=30)
    data = f.ict_input([(f.sns[0], "Passed", 1000.0, 3.3), (f.sns[1], "Passed", 1000.0, 3.3)])
    r = await refused(api, services, f, data, "STEP_MISMATCH")
    assert r["error"]["details"]["sn"] == f.sns[1]


async def test_station_not_found_and_mismatch(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    r = await refused(
        api, services, f, f.aoi_input(f.sns[0], station=f.code("NOPE")), "STATION_NOT_FOUND"
    )
    assert r["error"]["details"]["stationCode"] == f.code("NOPE")
    r = await refused(
        api, services, f, f.aoi_input(f.sns[0], station=f.code("AOI-9")), "STATION_MISMATCH"
    )
    assert r["error"]["details"]["stationGroupCode"] == f.code("AOI-G")
    r = await refused(
        api, services, f, f.aoi_input(f.sns[0], station=f.code("ICT-1")), "STATION_MISMATCH"
    )
    assert r["error"]["details"]["stationType"] == "TEST"


async def test_data_refusals(api: ApiClient, services: Services, f: IngestFactory) -> None:
    manual = [{"key": "op_note", "val": "looks fine"}]
    r = await refused(
        api, services, f, f.aoi_input(f.sns[0], extra=manual), "DATA_SPEC_METHOD_MISMATCH"
    )
    assert r["error"]["details"]["specName"] == "OperatorNote"
    r = await refused(api, services, f, f.aoi_input(f.sns[0], void="twelve"), "DATA_VALUE_INVALID")
    assert r["error"]["details"]["specName"] == "VoidRatio"
    r = await refused(api, services, f, f.aoi_input(f.sns[0], void=None), "REQUIRED_DATA_MISSING")
    assert r["error"]["details"]["missing"] == ["VoidRatio"]


async def test_a_fail_needs_no_required_data(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    result = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0], judgement="NG", void=None)}))[
        "ingestEvent"
    ]
    assert result["status"] == "ACCEPTED"
    unit = (await services.store.units([f.sns[0]]))[f.sns[0]]
    assert unit.status.value == "OUT_FAILED"


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
