"""maxReworks through GraphQL (issue 16 item 9), on both databases: setExecutionConfig at the
route scope, frozen in the version, a disposeUnit past it refused with the count."""

from __future__ import annotations

from sqlalchemy import update

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import IngestFactory

SET_CONFIG = """mutation($i: ExecutionConfigInput!) { setExecutionConfig(input: $i) {
  error { code details } } }"""
COMPILE = """mutation($c: String!) { compileRouting(code: $c) {
  version { status maxReworks } error { code } } }"""
CREATE_RUN = """mutation($i: CreateRunInput!) { createRun(input: $i) { error { code } } }"""
REGISTER = """mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) {
  units { sn } error { code } } }"""
DISPOSE = """mutation($i: DisposeUnitInput!) { disposeUnit(input: $i) {
  unit { sn status currentStepNo } error { code details } } }"""


async def out_failed(services: Services, sn: str) -> None:
    async with services.engine.begin() as conn:
        await conn.execute(
            update(t.unit).where(t.unit.c.sn == sn).values(status="OUT_FAILED", current_step_no=20)
        )


async def test_rework_past_max_reworks_is_refused(api: ApiClient, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    c = f.code
    refused = (
        await api.gql(SET_CONFIG, {"i": {"routingCode": c("R"), "stepNo": 20, "maxReworks": 1}})
    )["setExecutionConfig"]
    assert refused["error"]["code"] == "VALIDATION_FAILED"
    assert refused["error"]["details"]["field"] == "maxReworks"
    ok = (await api.gql(SET_CONFIG, {"i": {"routingCode": c("R"), "maxReworks": 1}}))[
        "setExecutionConfig"
    ]
    assert ok["error"] is None
    version = (await api.gql(COMPILE, {"c": c("R")}))["compileRouting"]["version"]
    assert version == {"status": "READY", "maxReworks": 1}
    run_no = c("RUN2")
    created = await api.gql(
        CREATE_RUN, {"i": {"woNo": c("WO"), "lineCode": c("L"), "planQty": 1, "runNo": run_no}}
    )
    assert created["createRun"]["error"] is None
    [unit] = (await api.gql(REGISTER, {"i": {"runNo": run_no, "count": 1, "snPrefix": c("MR-")}}))[
        "registerUnits"
    ]["units"]
    sn = unit["sn"]
    await out_failed(services, sn)
    first = (await api.gql(DISPOSE, {"i": {"sn": sn, "action": "RETEST", "reason": "reseat"}}))[
        "disposeUnit"
    ]
    assert first["error"] is None and first["unit"]["status"] == "QUEUED"
    await out_failed(services, sn)
    second = (
        await api.gql(
            DISPOSE, {"i": {"sn": sn, "action": "REWORK", "reason": "R1", "toStepNo": 10}}
        )
    )["disposeUnit"]
    assert second["unit"] is None
    assert second["error"]["code"] == "DISPOSITION_INVALID"
    assert (second["error"]["details"]["reworks"], second["error"]["details"]["maxReworks"]) == (
        1,
        1,
    )
    # the first run froze the version compiled before: the default 3
    old = await api.gql(
        """query($r: String!) { run(runNo: $r) { routeVersion { maxReworks } } }""",
        {"r": f.run_no},
    )
    assert old["run"]["routeVersion"]["maxReworks"] == 3
