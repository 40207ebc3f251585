"""disposeUnit and validateUnits on the wire, on both databases (DOMAIN.md §6): the input, the
payload, the trace's dispositions, validateUnits agreeing with the pipeline. The rules of retest
and dispositions are tests/unit/test_lifecycle.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, count_statements, unique
from tests.ingest_builders import IngestFactory

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status error { code details } } }"""
DISPOSE = """mutation($i: DisposeUnitInput!) { disposeUnit(input: $i) {
  unit { sn status currentStepNo } error { code message details } } }"""
TRACE = """query($sn: String!) { unit(sn: $sn) { status currentStepNo
  tracks { stepNo attempt result }
  dispositions { action reason operatorId fromStepNo toStepNo fromStatus toStatus at } } }"""
VALIDATE = """query($s: String!, $sns: [String!]!) { validateUnits(stationCode: $s, sns: $sns) {
  sn ok code details currentStepNo } }"""


async def with_retest(services: Services, max_attempts: int = 2) -> IngestFactory:
    """The ingest route with maxAttempts at the ICT step, recompiled, new run."""
    f = await IngestFactory(services.bus).build(units=3)
    await f.with_retest(max_attempts)
    return f


async def ict(api: ApiClient, f: IngestFactory, sn: str, result: str) -> dict[str, Any]:
    r1 = 1000.0 if result == "Passed" else 1300.0
    return dict((await api.gql(INGEST, {"i": f.ict_input([(sn, result, r1, 3.3)])}))["ingestEvent"])


async def test_retest_and_rework_dispositions(api: ApiClient, services: Services) -> None:
    f = await with_retest(services, max_attempts=1)
    sn = f.sns[0]
    await api.gql(INGEST, {"i": f.aoi_input(sn)})  # step 10 PASS → 20
    await ict(api, f, sn, "Failed")  # → OUT_FAILED at 20
    r = (
        await api.gql(
            DISPOSE,
            {
                "i": {
                    "sn": sn,
                    "action": "RETEST",
                    "reason": "fixture reseated",
                    "operatorId": "QA-1",
                }
            },
        )
    )["disposeUnit"]
    assert r["error"] is None and r["unit"] == {"sn": sn, "status": "QUEUED", "currentStepNo": 20}
    await ict(api, f, sn, "Failed")  # attempt 1 again (counted afresh) → OUT_FAILED
    r = (
        await api.gql(
            DISPOSE, {"i": {"sn": sn, "action": "REWORK", "reason": "replace R1", "toStepNo": 10}}
        )
    )["disposeUnit"]
    assert r["unit"] == {"sn": sn, "status": "QUEUED", "currentStepNo": 10}
    assert (await api.gql(INGEST, {"i": f.aoi_input(sn)}))["ingestEvent"]["status"] == "ACCEPTED"
    assert (await ict(api, f, sn, "Passed"))["status"] == "ACCEPTED"
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 30)
    assert [(tr["stepNo"], tr["attempt"], tr["result"]) for tr in trace["tracks"]] == [
        (10, 1, "PASS"),
        (20, 1, "FAIL"),
        (20, 1, "FAIL"),
        (10, 1, "PASS"),
        (20, 1, "PASS"),
    ]
    assert [
        (d["action"], d["fromStatus"], d["toStatus"], d["fromStepNo"], d["toStepNo"])
        for d in trace["dispositions"]
    ] == [
        ("RETEST", "OUT_FAILED", "QUEUED", 20, 20),
        ("REWORK", "OUT_FAILED", "QUEUED", 20, 10),
    ]
    assert trace["dispositions"][0]["operatorId"] == "QA-1"


# ---------------------------------------------------------------- validateUnits


async def test_validate_units_agrees_with_the_pipeline(api: ApiClient, services: Services) -> None:
    """For units in every state, validateUnits answers what an ingest at that moment returns."""
    f = await IngestFactory(services.bus).build(units=8)
    states: list[dict[str, Any]] = [
        {},  # QUEUED at the AUTO step: ok
        {"current_step_no": 20},  # at the TEST step: STEP_MISMATCH
        {"status": "DONE"},
        {"status": "OUT_FAILED"},
        {"status": "ON_HOLD", "held_from": "QUEUED"},
        {"status": "SCRAPPED"},
        {"status": "IN_STATION"},
        {},  # left for the station mismatch below
    ]
    async with services.engine.begin() as conn:
        for sn, values in zip(f.sns, states, strict=True):
            if values:
                await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(**values))
    ghost = f.code("GHOST")
    for station in ("AOI-1", "AOI-9"):
        sns = [*f.sns[:7], ghost] if station == "AOI-1" else [f.sns[7]]
        answers = (await api.gql(VALIDATE, {"s": f.code(station), "sns": sns}))["validateUnits"]
        assert [a["sn"] for a in answers] == sns
        for answer in answers:
            result = (
                await api.gql(INGEST, {"i": f.aoi_input(answer["sn"], station=f.code(station))})
            )["ingestEvent"]
            expected = result["error"]["code"] if result["error"] else None
            assert (answer["ok"], answer["code"]) == (expected is None, expected), (answer, result)
    # and with the run no longer authorized
    async with services.engine.begin() as conn:
        await conn.execute(update(t.run).where(t.run.c.run_no == f.run_no).values(status="PREP"))
    [answer] = (await api.gql(VALIDATE, {"s": f.code("AOI-1"), "sns": [f.sns[7]]}))["validateUnits"]
    result = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[7])}))["ingestEvent"]
    assert answer["code"] == result["error"]["code"] == "RUN_NOT_AUTHORIZED"


async def test_validate_units_for_a_manual_station_and_unknown_station(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    [manual] = (await api.gql(VALIDATE, {"s": f.code("PACK-1"), "sns": f.sns}))["validateUnits"]
    assert (manual["ok"], manual["code"], manual["details"]["expectedStationType"]) == (
        False,
        "STEP_MISMATCH",
        "AUTO",
    )
    [unknown] = (await api.gql(VALIDATE, {"s": "NO-SUCH-STATION", "sns": f.sns}))["validateUnits"]
    assert unknown["code"] == "STATION_NOT_FOUND"
    [ok] = (await api.gql(VALIDATE, {"s": f.code("AOI-1"), "sns": f.sns}))["validateUnits"]
    assert (ok["ok"], ok["code"], ok["currentStepNo"]) == (True, None, 10)


async def test_validate_units_costs_a_fixed_number_of_statements(
    api: ApiClient, services: Services
) -> None:
    small = await IngestFactory(services.bus).build(units=1)
    big = await IngestFactory(services.bus).build(units=60)
    counts = []
    for f in (small, big):
        with count_statements(services.engine) as seen:
            answers = (
                await api.gql(VALIDATE, {"s": f.code("AOI-1"), "sns": [*f.sns, unique("NOPE")]})
            )["validateUnits"]
        assert len(answers) == len(f.sns) + 1
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    errors = await api.errors(VALIDATE, {"s": big.code("AOI-1"), "sns": ["x"] * 1001})
    assert "at most 1000" in errors[0]["message"]
