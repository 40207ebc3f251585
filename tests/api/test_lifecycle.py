"""Retest, dispositions and validateUnits (DOMAIN.md §6), on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from adapters import tables as t
from domain import master as dm
from domain.usecases import master_data as md
from domain.usecases import production as prod
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
    """The ingest route with maxAttempts at the ICT step (step scope), recompiled, new run."""
    f = IngestFactory(services.bus)
    await f.build(units=3)
    c = f.code
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                c("R"),
                step_no=20,
                station_group_code=c("ICT-G"),
                ingest_mapping=(await services.store.versions_of_routings([c("R")]))[c("R")][0]
                .steps[1]
                .ingest_mapping,
                max_attempts=max_attempts,
            )
        )
    )
    version = await f.do(md.CompileRouting(c("R")))
    assert version.is_ready and version.steps[1].max_attempts == max_attempts
    run = await f.do(prod.CreateRun(c("WO"), c("L"), 3, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    f.run_no = run.run_no
    f.sns = [u.sn for u in await f.do(prod.RegisterUnits(run.run_no, count=3, sn_prefix=c("RT-")))]
    return f


async def at_ict(services: Services, sns: list[str]) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn.in_(sns)).values(current_step_no=20))


async def ict(api: ApiClient, f: IngestFactory, sn: str, result: str) -> dict[str, Any]:
    r1 = 1000.0 if result == "Passed" else 1300.0
    return dict((await api.gql(INGEST, {"i": f.ict_input([(sn, result, r1, 3.3)])}))["ingestEvent"])


async def test_retest_fail_then_pass_advances(api: ApiClient, services: Services) -> None:
    f = await with_retest(services)
    sn = f.sns[0]
    await at_ict(services, [sn])
    assert (await ict(api, f, sn, "Failed"))["status"] == "ACCEPTED"
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 20)  # a retest remains
    assert (await ict(api, f, sn, "Passed"))["status"] == "ACCEPTED"
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("QUEUED", 30)
    assert [(tr["stepNo"], tr["attempt"], tr["result"]) for tr in trace["tracks"]] == [
        (20, 1, "FAIL"),
        (20, 2, "PASS"),
    ]


async def test_the_fail_that_reaches_max_attempts_is_out_failed(
    api: ApiClient, services: Services
) -> None:
    f = await with_retest(services)
    sn = f.sns[0]
    await at_ict(services, [sn])
    await ict(api, f, sn, "Failed")
    await ict(api, f, sn, "Failed")
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("OUT_FAILED", 20)
    assert [tr["attempt"] for tr in trace["tracks"]] == [1, 2]
    third = await ict(api, f, sn, "Passed")
    assert third["error"]["code"] == "UNIT_OUT_FAILED"


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


async def test_hold_release_and_scrap(api: ApiClient, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=2)
    sn = f.sns[0]
    await api.gql(INGEST, {"i": f.aoi_input(sn, judgement="NG")})  # OUT_FAILED at 10
    held = (
        await api.gql(DISPOSE, {"i": {"sn": sn, "action": "HOLD", "reason": "failure analysis"}})
    )["disposeUnit"]
    assert held["unit"]["status"] == "ON_HOLD"
    refused = (await api.gql(INGEST, {"i": f.aoi_input(sn)}))["ingestEvent"]
    assert refused["error"]["code"] == "UNIT_ON_HOLD"
    released = (
        await api.gql(DISPOSE, {"i": {"sn": sn, "action": "RELEASE", "reason": "FA done"}})
    )["disposeUnit"]
    assert released["unit"] == {
        "sn": sn,
        "status": "OUT_FAILED",
        "currentStepNo": 10,
    }  # as before the hold
    scrapped = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "SCRAP", "reason": "burnt"}}))[
        "disposeUnit"
    ]
    assert scrapped["unit"]["status"] == "SCRAPPED"
    again = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "RELEASE", "reason": "x"}}))[
        "disposeUnit"
    ]
    assert again["error"]["code"] == "DISPOSITION_INVALID"


async def test_alarm_hold_then_release_returns_to_the_next_step(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1, aoi_hold=True)
    sn = f.sns[0]
    await api.gql(
        INGEST, {"i": f.aoi_input(sn, void=20.0, extra=[{"key": "void_pct", "val": 41.0}])}
    )
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert (trace["status"], trace["currentStepNo"]) == ("ON_HOLD", 10)  # FAIL (KEY), held
    released = (
        await api.gql(
            DISPOSE, {"i": {"sn": sn, "action": "RELEASE", "reason": "void checked by X-ray"}}
        )
    )["disposeUnit"]
    assert released["unit"]["status"] == "OUT_FAILED"


@pytest.mark.parametrize(
    ("setup", "action", "to_step"),
    [
        ({}, "RETEST", None),  # a QUEUED unit needs no disposition
        ({"status": "DONE"}, "RELEASE", None),  # HOLD from QUEUED is containment now
        ({"status": "OUT_FAILED"}, "RELEASE", None),
        ({"status": "OUT_FAILED", "current_step_no": 20}, "REWORK", None),  # no toStepNo
        ({"status": "OUT_FAILED", "current_step_no": 20}, "REWORK", 30),  # after the current step
        ({"status": "OUT_FAILED", "current_step_no": 20}, "REWORK", 15),  # no such step
        ({"status": "ON_HOLD", "held_from": "QUEUED"}, "RETEST", None),
        ({"status": "DONE"}, "SCRAP", None),
    ],
)
async def test_disposition_invalid(
    api: ApiClient, services: Services, setup: dict[str, Any], action: str, to_step: int | None
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    sn = f.sns[0]
    if setup:
        async with services.engine.begin() as conn:
            await conn.execute(update(t.unit).where(t.unit.c.sn == sn).values(**setup))
    r = (
        await api.gql(
            DISPOSE, {"i": {"sn": sn, "action": action, "reason": "r", "toStepNo": to_step}}
        )
    )["disposeUnit"]
    assert (r["unit"], r["error"]["code"]) == (None, "DISPOSITION_INVALID")
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    assert trace["dispositions"] == []


async def test_dispositions_are_audited_and_need_a_reason(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    sn = f.sns[0]
    blank = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "SCRAP", "reason": "  "}}))[
        "disposeUnit"
    ]
    assert blank["error"]["code"] == "VALIDATION_FAILED"
    missing = (await api.gql(DISPOSE, {"i": {"sn": "NOBODY", "action": "SCRAP", "reason": "x"}}))[
        "disposeUnit"
    ]
    assert missing["error"]["code"] == "UNIT_NOT_FOUND"
    async with services.engine.connect() as conn:
        audited = (
            await conn.execute(
                select(t.audit_event.c.outcome, t.audit_event.c.error_code).where(
                    t.audit_event.c.action == "disposeUnit", t.audit_event.c.entity_key == sn
                )
            )
        ).all()
    assert [tuple(a) for a in audited] == [("REFUSED", "VALIDATION_FAILED")]


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


async def test_retest_applies_to_track_out_alike(api: ApiClient, services: Services) -> None:
    from tests.exec_builders import ExecFactory

    f = await ExecFactory(services.bus).build(units=1)
    c = f.code
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(c("R"), step_no=10, station_group_code=c("PRN-G"), max_attempts=2)
        )
    )
    assert (await f.do(md.CompileRouting(c("R")))).is_ready
    run = await f.do(prod.CreateRun(c("WO"), c("L"), 1, run_no=c("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    [unit] = await f.do(prod.RegisterUnits(run.run_no, sns=(c("M-1"),)))
    station = {"stationCode": c("PRN-1"), "runNo": run.run_no, "sn": unit.sn}
    track_in = (
        "mutation($i: TrackInInput!) { trackIn(input: $i) { track { attempt } error { code } } }"
    )
    track_out = "mutation($i: TrackOutInput!) { trackOut(input: $i) { unit { status currentStepNo } error { code } } }"
    first = (await api.gql(track_in, {"i": station}))["trackIn"]
    out = (await api.gql(track_out, {"i": station | {"result": "FAIL"}}))["trackOut"]
    assert (first["track"]["attempt"], out["unit"]) == (
        1,
        {"status": "QUEUED", "currentStepNo": 10},
    )
    second = (await api.gql(track_in, {"i": station}))["trackIn"]
    out = (await api.gql(track_out, {"i": station | {"result": "FAIL"}}))["trackOut"]
    assert (second["track"]["attempt"], out["unit"]) == (
        2,
        {"status": "OUT_FAILED", "currentStepNo": 10},
    )
