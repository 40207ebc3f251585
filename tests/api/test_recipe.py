"""Program (recipe) interlock through GraphQL on both databases (issue 16 item 6):
setExecutionConfig's recipe frozen by compile, RECIPE_MISMATCH on ingest, and validateUnits
with the program the machine is about to run."""

from __future__ import annotations

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import PROGRAMMED, IngestFactory
from tests.queries import INGEST

SET = """mutation($i: ExecutionConfigInput!) { setExecutionConfig(input: $i) { error { code details } } }"""
COMPILE = """mutation($c: String!) { compileRouting(code: $c) {
  version { status steps { stepNo recipe } } error { code } } }"""
VALIDATE = """query($s: String!, $sns: [String!]!, $r: String) {
  validateUnits(stationCode: $s, sns: $sns, recipe: $r) { sn ok code details } }"""


async def test_set_execution_config_recipe_is_compiled_into_the_version(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    step = {"routingCode": f.code("R"), "stepNo": 10, "stationGroupCode": f.code("AOI-G")}
    r = await api.gql(SET, {"i": {**step, "ingestMapping": PROGRAMMED, "recipe": "TOP-v3"}})
    assert r["setExecutionConfig"]["error"] is None
    version = (await api.gql(COMPILE, {"c": f.code("R")}))["compileRouting"]["version"]
    assert version["status"] == "READY"
    assert [s["recipe"] for s in version["steps"]] == ["TOP-v3", None, None]
    bad = await api.gql(SET, {"i": {**step, "ingestMapping": PROGRAMMED, "recipe": "TOP v3"}})
    assert bad["setExecutionConfig"]["error"]["code"] == "VALIDATION_FAILED"


async def test_another_program_is_refused_and_validate_units_says_so(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(
        units=2, aoi_mapping=PROGRAMMED, aoi_recipe="TOP-v3"
    )
    a, b = f.sns
    station = f.code("AOI-1")
    answers = (await api.gql(VALIDATE, {"s": station, "sns": [a], "r": "BOT-v1"}))["validateUnits"]
    assert answers == [
        {
            "sn": a,
            "ok": False,
            "code": "RECIPE_MISMATCH",
            "details": {"stepNo": 10, "expected": "TOP-v3", "got": "BOT-v1", "sn": a},
        }
    ]
    ok = (await api.gql(VALIDATE, {"s": station, "sns": [a], "r": "TOP-v3"}))["validateUnits"]
    assert [x["ok"] for x in ok] == [True]
    assert [
        x["ok"] for x in (await api.gql(VALIDATE, {"s": station, "sns": [a]}))["validateUnits"]
    ] == [True]
    wrong = f.aoi_input(a)
    wrong["payload"]["program"] = "BOT-v1"
    r = (await api.gql(INGEST, {"i": wrong}))["ingestEvent"]
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "RECIPE_MISMATCH")
    assert r["error"]["details"] == {"stepNo": 10, "expected": "TOP-v3", "got": "BOT-v1"}
    right = f.aoi_input(b)
    right["payload"]["program"] = "TOP-v3"
    r = (await api.gql(INGEST, {"i": right}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["normalized"]["recipe"] == "TOP-v3"
