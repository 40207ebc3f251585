"""Master data through GraphQL, on both databases (DOMAIN.md §2): upserts, compile, the
queries, a refusal in each mutation's payload `error`, and route versions that never change
once compiled. Every refusal's rule is tests/unit/test_master_data.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from syrupy.assertion import SnapshotAssertion

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import ApiClient, unique

ERROR = "error { code message details }"
#: the AOI step's mapping (spelled out here: the snapshot must not move with the builders)
AUTO_MAPPING: dict[str, Any] = {
    "eventType": "AUTO",
    "snPath": "payload.sn",
    "stationCodePath": "payload.station",
    "result": {"path": "payload.result"},
}
SPEC_FIELDS = """id operationCode name dataType method itemType triggerType isRequired isActive
  limits { min max unit } alarm { min max action }"""
VERSION_FIELDS = """id versionNo status compiledAt
  route { code name sourceSystem sourceKey productCode }
  steps { stepNo operationCode operationName stationType stationGroupCode allowedStationCodes
    requiresFAI requiresAuthorization maxAttempts ingestMapping
    dataSpecs { name dataType method itemType triggerType isRequired
      limits { min max unit } alarm { min max action } } }
  errors { stepNo code message }"""

UPSERT_LINE = f"""mutation($i: LineInput!) {{ upsertLine(input: $i) {{
  line {{ code name }} {ERROR} }} }}"""
UPSERT_GROUP = f"""mutation($i: StationGroupInput!) {{ upsertStationGroup(input: $i) {{
  stationGroup {{ code name }} {ERROR} }} }}"""
UPSERT_STATION = f"""mutation($i: StationInput!) {{ upsertStation(input: $i) {{
  station {{ code name stationType line {{ code }} group {{ code }} }} {ERROR} }} }}"""
UPSERT_OPERATION = f"""mutation($i: OperationInput!) {{ upsertOperation(input: $i) {{
  operation {{ code name defaultStationType }} {ERROR} }} }}"""
UPSERT_SPEC = f"""mutation($i: DataCollectionSpecInput!) {{ upsertDataCollectionSpec(input: $i) {{
  dataSpec {{ {SPEC_FIELDS} }} {ERROR} }} }}"""
UPSERT_ROUTING = f"""mutation($i: RoutingInput!) {{ upsertRouting(input: $i) {{
  routing {{ code name sourceSystem sourceKey productCode isActive steps {{ stepNo operationCode }} }}
  {ERROR} }} }}"""
SET_CONFIG = f"""mutation($i: ExecutionConfigInput!) {{ setExecutionConfig(input: $i) {{
  routing {{ code steps {{ stepNo operationCode }} }} {ERROR} }} }}"""
COMPILE = f"""mutation($c: String!) {{ compileRouting(code: $c) {{
  version {{ {VERSION_FIELDS} }} {ERROR} }} }}"""
ROUTE_VERSION = f"""query($c: String!, $n: Int!) {{ routeVersion(routingCode: $c, versionNo: $n) {{
  {VERSION_FIELDS} }} }}"""
ROUTING = """query($c: String!) { routing(code: $c) {
  code name sourceSystem sourceKey productCode isActive steps { stepNo operationCode }
  versions { versionNo status } latestReadyVersion { versionNo status } } }"""


async def rows_of(engine: AsyncEngine, table: t.Table, *where: Any) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(stmt)).scalar_one())


async def mutate(api: ApiClient, doc: str, field: str, **variables: Any) -> dict[str, Any]:
    """The payload of one mutation (GraphQL errors fail the test: refusals are payloads)."""
    payload: dict[str, Any] = (await api.gql(doc, variables))[field]
    return payload


class Plant:
    """Master data built through the API, with codes of one tag."""

    def __init__(self, api: ApiClient, tag: str):
        self.api = api
        self.tag = tag

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"

    async def ok(self, doc: str, field: str, **variables: Any) -> dict[str, Any]:
        payload = await mutate(self.api, doc, field, **variables)
        assert payload["error"] is None, payload["error"]
        return payload

    async def build(self) -> None:
        """SMT line: step 10 PRINT (MANUAL, printer group), step 20 AOI (AUTO, mapped)."""
        c = self.code
        await self.ok(UPSERT_LINE, "upsertLine", i={"code": c("LINE"), "name": "SMT line"})
        for group in ("PRN-G", "AOI-G"):
            await self.ok(UPSERT_GROUP, "upsertStationGroup", i={"code": c(group), "name": group})
        stations = [("PRN-1", "MANUAL", "PRN-G"), ("AOI-1", "AUTO", "AOI-G")]
        for code, stype, group in stations:
            await self.ok(
                UPSERT_STATION,
                "upsertStation",
                i={
                    "code": c(code),
                    "name": code,
                    "stationType": stype,
                    "lineCode": c("LINE"),
                    "groupCode": c(group),
                },
            )
        for code, stype in (("PRINT", "MANUAL"), ("AOI", "AUTO")):
            await self.ok(
                UPSERT_OPERATION,
                "upsertOperation",
                i={"code": c(code), "name": code.title(), "defaultStationType": stype},
            )
        specs: list[dict[str, Any]] = [
            {
                "operationCode": c("PRINT"),
                "name": "Pressure",
                "dataType": "NUMBER",
                "method": "MANUAL",
                "itemType": "KEY",
                "isRequired": True,
                "limits": {"min": 4.0, "max": 8.0, "unit": "kg"},
                "alarm": {"max": 9.5, "action": "HOLD"},
            },
            {
                "operationCode": c("PRINT"),
                "name": "Retired",
                "dataType": "TEXT",
                "method": "MANUAL",
                "isActive": False,
            },
            {
                "operationCode": c("AOI"),
                "name": "VoidRatio",
                "dataType": "NUMBER",
                "method": "AUTO",
                "limits": {"unit": "%"},
            },
        ]
        for spec in specs:
            await self.ok(UPSERT_SPEC, "upsertDataCollectionSpec", i=spec)
        await self.ok(
            UPSERT_ROUTING,
            "upsertRouting",
            i={
                "code": c("R"),
                "name": "Main",
                "sourceSystem": "ERP",
                "sourceKey": "SAP-1",
                "productCode": "PCB-9",
                "steps": [
                    {"stepNo": 10, "operationCode": c("PRINT")},
                    {"stepNo": 20, "operationCode": c("AOI")},
                ],
            },
        )
        await self.config(requiresFAI=True, maxAttempts=2)
        await self.config(stepNo=10, stationGroupCode=c("PRN-G"))
        await self.config(
            operationCode=c("AOI"),
            stationGroupCode=c("AOI-G"),
            ingestMapping=AUTO_MAPPING,
            maxAttempts=3,
        )

    async def config(self, **fields: Any) -> dict[str, Any]:
        return await self.ok(
            SET_CONFIG, "setExecutionConfig", i={"routingCode": self.code("R"), **fields}
        )

    async def compile(self) -> dict[str, Any]:
        payload = await self.ok(COMPILE, "compileRouting", c=self.code("R"))
        version: dict[str, Any] = payload["version"]
        return version


@pytest.fixture
async def plant(api: ApiClient) -> Plant:
    built = Plant(api, unique("MD"))
    await built.build()
    return built


# ---------------------------------------------------------------- upserts and queries


async def test_upserts_are_idempotent(api: ApiClient, services: Services) -> None:
    tag = unique("ID")
    op = f"{tag}-OP"
    docs: list[tuple[str, str, dict[str, Any]]] = [
        (UPSERT_LINE, "upsertLine", {"code": f"{tag}-L", "name": "Line"}),
        (UPSERT_GROUP, "upsertStationGroup", {"code": f"{tag}-G", "name": "Group"}),
        (
            UPSERT_STATION,
            "upsertStation",
            {
                "code": f"{tag}-S",
                "name": "S",
                "stationType": "TEST",
                "lineCode": f"{tag}-L",
                "groupCode": f"{tag}-G",
            },
        ),
        (
            UPSERT_OPERATION,
            "upsertOperation",
            {"code": op, "name": "Op", "defaultStationType": "TEST"},
        ),
        (
            UPSERT_SPEC,
            "upsertDataCollectionSpec",
            {
                "operationCode": op,
                "name": "Volt",
                "dataType": "NUMBER",
                "method": "AUTO",
                "limits": {"min": 1.0, "max": 2.0},
                "alarm": {"min": 0.5, "action": "ALARM_ONLY"},
            },
        ),
        (
            UPSERT_ROUTING,
            "upsertRouting",
            {"code": f"{tag}-R", "name": "R", "steps": [{"stepNo": 10, "operationCode": op}]},
        ),
        (
            SET_CONFIG,
            "setExecutionConfig",
            {"routingCode": f"{tag}-R", "stepNo": 10, "maxAttempts": 2},
        ),
    ]
    for doc, field, given in docs:
        first = await mutate(api, doc, field, i=given)
        second = await mutate(api, doc, field, i=given)
        assert first["error"] is None, (field, first["error"])
        assert first == second, field
    engine = services.engine
    assert await rows_of(engine, t.line, t.line.c.code == f"{tag}-L") == 1
    assert await rows_of(engine, t.station_group, t.station_group.c.code == f"{tag}-G") == 1
    assert await rows_of(engine, t.station, t.station.c.code == f"{tag}-S") == 1
    assert await rows_of(engine, t.operation, t.operation.c.code == op) == 1
    assert await rows_of(engine, t.data_spec, t.data_spec.c.operation_code == op) == 1
    assert await rows_of(engine, t.routing, t.routing.c.code == f"{tag}-R") == 1
    assert await rows_of(engine, t.routing_step, t.routing_step.c.routing_code == f"{tag}-R") == 1
    assert (
        await rows_of(engine, t.execution_config, t.execution_config.c.routing_code == f"{tag}-R")
        == 1
    )


async def test_upsert_payloads_and_defaults(api: ApiClient) -> None:
    tag = unique("PD")
    op = f"{tag}-OP"
    await mutate(
        api,
        UPSERT_OPERATION,
        "upsertOperation",
        i={"code": op, "name": "Op", "defaultStationType": "AUTO"},
    )
    spec = await mutate(
        api,
        UPSERT_SPEC,
        "upsertDataCollectionSpec",
        i={
            "operationCode": op,
            "name": "Width",
            "dataType": "NUMBER",
            "method": "MANUAL",
            "limits": {"unit": "mm"},
        },
    )
    assert spec["error"] is None
    assert spec["dataSpec"]["id"]
    del spec["dataSpec"]["id"]
    assert spec["dataSpec"] == {
        "operationCode": op,
        "name": "Width",
        "dataType": "NUMBER",
        "method": "MANUAL",
        "itemType": "OBSERVATION",
        "triggerType": "EVENT",
        "isRequired": False,
        "isActive": True,
        "limits": {"min": None, "max": None, "unit": "mm"},  # a unit alone is still limits
        "alarm": None,
    }
    routing = await mutate(
        api,
        UPSERT_ROUTING,
        "upsertRouting",
        i={
            "code": f"{tag}-R",
            "name": "R",
            "steps": [
                {"stepNo": 30, "operationCode": op},
                {"stepNo": 10, "operationCode": op},
                {"stepNo": 30, "operationCode": op},
            ],
        },
    )
    assert routing == {
        "routing": {
            "code": f"{tag}-R",
            "name": "R",
            "sourceSystem": "MES",
            "sourceKey": None,
            "productCode": None,
            "isActive": True,
            "steps": [
                {"stepNo": 30, "operationCode": op},
                {"stepNo": 10, "operationCode": op},
                {"stepNo": 30, "operationCode": op},
            ],
        },
        "error": None,
    }
    # an upsert changes the row in place
    renamed = await mutate(api, UPSERT_LINE, "upsertLine", i={"code": f"{tag}-L", "name": "A"})
    renamed = await mutate(api, UPSERT_LINE, "upsertLine", i={"code": f"{tag}-L", "name": "B"})
    assert renamed == {"line": {"code": f"{tag}-L", "name": "B"}, "error": None}
    data = await api.gql("query($c: String!) { line(code: $c) { name } }", {"c": f"{tag}-L"})
    assert data["line"] == {"name": "B"}


async def test_queries_line_station_operation(api: ApiClient, plant: Plant) -> None:
    c = plant.code
    data = await api.gql(
        """query($l: String!, $s: String!, $o: String!) {
          line(code: $l) { code name stations { code name stationType } }
          station(code: $s) { code name stationType line { code name }
            group { code name stations { code } } }
          operation(code: $o) { code name defaultStationType dataSpecs { name isActive limits { min max unit } alarm { max action } } }
          missingLine: line(code: "NO-SUCH-LINE") { code }
          missingStation: station(code: "NO-SUCH-STATION") { code }
          missingOperation: operation(code: "NO-SUCH-OP") { code }
        }""",
        {"l": c("LINE"), "s": c("PRN-1"), "o": c("PRINT")},
    )
    assert data["line"] == {
        "code": c("LINE"),
        "name": "SMT line",
        "stations": [
            {"code": c("AOI-1"), "name": "AOI-1", "stationType": "AUTO"},
            {"code": c("PRN-1"), "name": "PRN-1", "stationType": "MANUAL"},
        ],
    }
    assert data["station"] == {
        "code": c("PRN-1"),
        "name": "PRN-1",
        "stationType": "MANUAL",
        "line": {"code": c("LINE"), "name": "SMT line"},
        "group": {"code": c("PRN-G"), "name": "PRN-G", "stations": [{"code": c("PRN-1")}]},
    }
    assert data["operation"] == {
        "code": c("PRINT"),
        "name": "Print",
        "defaultStationType": "MANUAL",
        "dataSpecs": [
            {
                "name": "Pressure",
                "isActive": True,
                "limits": {"min": 4.0, "max": 8.0, "unit": "kg"},
                "alarm": {"max": 9.5, "action": "HOLD"},
            },
            {"name": "Retired", "isActive": False, "limits": None, "alarm": None},
        ],
    }
    assert (data["missingLine"], data["missingStation"], data["missingOperation"]) == (
        None,
        None,
        None,
    )


async def test_station_without_line_or_group(api: ApiClient) -> None:
    code = unique("S")
    payload = await mutate(
        api,
        UPSERT_STATION,
        "upsertStation",
        i={"code": code, "name": "Loose", "stationType": "BATCH"},
    )
    assert payload == {
        "station": {
            "code": code,
            "name": "Loose",
            "stationType": "BATCH",
            "line": None,
            "group": None,
        },
        "error": None,
    }


# ---------------------------------------------------------------- compile and route versions


async def test_compile_merges_scopes_and_binds_specs(api: ApiClient, plant: Plant) -> None:
    version = await plant.compile()
    c = plant.code
    assert version["status"] == "READY" and version["errors"] == []
    assert version["versionNo"] == 1
    assert version["route"] == {
        "code": c("R"),
        "name": "Main",
        "sourceSystem": "ERP",
        "sourceKey": "SAP-1",
        "productCode": "PCB-9",
    }
    print_step, aoi_step = version["steps"]
    # step 10: the step's group, the route's requiresFAI and maxAttempts; all active specs
    assert (print_step["stepNo"], print_step["stationType"], print_step["stationGroupCode"]) == (
        10,
        "MANUAL",
        c("PRN-G"),
    )
    assert (print_step["requiresFAI"], print_step["maxAttempts"]) == (True, 2)
    assert [d["name"] for d in print_step["dataSpecs"]] == ["Pressure"]  # not the inactive one
    assert print_step["dataSpecs"][0]["limits"] == {"min": 4.0, "max": 8.0, "unit": "kg"}
    assert print_step["ingestMapping"] is None
    # step 20: the operation scope wins over the route scope
    assert (aoi_step["stationType"], aoi_step["maxAttempts"]) == ("AUTO", 3)
    assert aoi_step["ingestMapping"] == AUTO_MAPPING
    assert aoi_step["dataSpecs"][0]["limits"] == {"min": None, "max": None, "unit": "%"}
    # dataSpecNames [] binds none
    await plant.config(stepNo=20, dataSpecNames=[])
    again = await plant.compile()
    assert again["versionNo"] == 2
    assert again["steps"][1]["dataSpecs"] == []
    assert again["steps"][1]["maxAttempts"] == 3  # the step record leaves maxAttempts to inherit

    data = await api.gql(ROUTE_VERSION, {"c": c("R"), "n": 1})
    assert data["routeVersion"] == version
    routing = (await api.gql(ROUTING, {"c": c("R")}))["routing"]
    assert routing["versions"] == [
        {"versionNo": 1, "status": "READY"},
        {"versionNo": 2, "status": "READY"},
    ]
    assert routing["latestReadyVersion"] == {"versionNo": 2, "status": "READY"}
    assert routing["steps"] == [
        {"stepNo": 10, "operationCode": c("PRINT")},
        {"stepNo": 20, "operationCode": c("AOI")},
    ]
    missing = await api.gql(ROUTE_VERSION, {"c": c("R"), "n": 3})
    assert missing["routeVersion"] is None


async def test_compile_of_an_invalid_route_gives_an_invalid_version(
    api: ApiClient, plant: Plant
) -> None:
    c = plant.code
    await plant.compile()  # version 1 READY
    # step 10 loses its station constraint; step 20 names a station and a spec that do not exist
    await plant.config(stepNo=10)
    await plant.config(stepNo=20, allowedStationCodes=[c("GHOST")], dataSpecNames=["Pressure"])
    payload = await mutate(api, COMPILE, "compileRouting", c=c("R"))
    assert payload["error"] is None
    version = payload["version"]
    assert (version["versionNo"], version["status"]) == (2, "INVALID")
    codes = sorted((e["stepNo"], e["code"]) for e in version["errors"])
    assert codes == [
        (10, "STATION_CONSTRAINT_MISSING"),
        (20, "DATA_SPEC_NOT_FOUND"),
        (20, "STATION_NOT_FOUND"),
    ]
    assert all(e["message"] for e in version["errors"])
    data = await api.gql(ROUTE_VERSION, {"c": c("R"), "n": 2})
    assert data["routeVersion"]["status"] == "INVALID"
    assert data["routeVersion"]["errors"] == version["errors"]
    routing = (await api.gql(ROUTING, {"c": c("R")}))["routing"]
    assert routing["latestReadyVersion"] == {"versionNo": 1, "status": "READY"}


async def test_compile_of_empty_and_duplicate_step_routings(api: ApiClient) -> None:
    tag = unique("CE")
    op = f"{tag}-OP"
    await mutate(
        api,
        UPSERT_OPERATION,
        "upsertOperation",
        i={"code": op, "name": "Op", "defaultStationType": "AUTO"},
    )
    await mutate(
        api, UPSERT_ROUTING, "upsertRouting", i={"code": f"{tag}-E", "name": "E", "steps": []}
    )
    empty = await mutate(api, COMPILE, "compileRouting", c=f"{tag}-E")
    assert empty["error"] is None
    assert empty["version"]["status"] == "INVALID"
    assert [(e["stepNo"], e["code"]) for e in empty["version"]["errors"]] == [
        (None, "ROUTING_EMPTY")
    ]
    steps = [{"stepNo": 10, "operationCode": op}, {"stepNo": 10, "operationCode": op}]
    await mutate(
        api, UPSERT_ROUTING, "upsertRouting", i={"code": f"{tag}-D", "name": "D", "steps": steps}
    )
    dup = await mutate(api, COMPILE, "compileRouting", c=f"{tag}-D")
    assert dup["version"]["status"] == "INVALID"
    assert (10, "DUPLICATE_STEP_NO") in [(e["stepNo"], e["code"]) for e in dup["version"]["errors"]]
    routing = (await api.gql(ROUTING, {"c": f"{tag}-D"}))["routing"]
    assert routing["latestReadyVersion"] is None
    assert routing["versions"] == [{"versionNo": 1, "status": "INVALID"}]


async def test_compiled_version_snapshot(
    api: ApiClient, backend: str, snapshot: SnapshotAssertion
) -> None:
    """Fixed codes (with the backend's name, so the databases never share them); everything but
    id, compiledAt and versionNo (a re-run on the same database compiles again)."""
    plant = Plant(api, f"SNAP-{backend}")
    await plant.build()
    version = await plant.compile()
    assert version["versionNo"] >= 1
    stable = {k: v for k, v in version.items() if k not in ("id", "compiledAt", "versionNo")}
    assert stable == snapshot
    data = await api.gql(ROUTE_VERSION, {"c": plant.code("R"), "n": version["versionNo"]})
    assert data["routeVersion"] == version


async def test_a_compiled_version_never_changes(
    api: ApiClient, plant: Plant, services: Services
) -> None:
    c = plant.code
    v1 = await plant.compile()
    # change everything the version copied: routing, configs, spec limits, operation name
    await plant.ok(
        UPSERT_ROUTING,
        "upsertRouting",
        i={
            "code": c("R"),
            "name": "Renamed",
            "productCode": "PCB-10",
            "steps": [{"stepNo": 20, "operationCode": c("AOI")}],
        },
    )
    await plant.config(maxAttempts=5)
    await plant.config(
        operationCode=c("AOI"),
        stationGroupCode=c("PRN-G"),
        ingestMapping={**AUTO_MAPPING, "snPath": "payload.board"},
    )
    await plant.ok(
        UPSERT_SPEC,
        "upsertDataCollectionSpec",
        i={
            "operationCode": c("AOI"),
            "name": "VoidRatio",
            "dataType": "NUMBER",
            "method": "AUTO",
            "limits": {"min": 0.0, "max": 10.0, "unit": "%"},
            "isRequired": True,
        },
    )
    await plant.ok(
        UPSERT_OPERATION,
        "upsertOperation",
        i={"code": c("AOI"), "name": "Inspection", "defaultStationType": "AUTO"},
    )
    v2 = await plant.compile()
    assert v2["versionNo"] == 2 and v2["status"] == "READY"
    assert v2["route"]["name"] == "Renamed" and len(v2["steps"]) == 1
    assert v2["steps"][0]["dataSpecs"][0]["limits"] == {"min": 0.0, "max": 10.0, "unit": "%"}
    assert v2["steps"][0]["operationName"] == "Inspection"
    # version 1 reads as compiled, from a fresh request (no loader cache)
    after = (await api.gql(ROUTE_VERSION, {"c": c("R"), "n": 1}))["routeVersion"]
    assert after == v1


async def test_a_run_keeps_its_version_after_a_recompile(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(authorize=False)
    await mutate(
        api,
        SET_CONFIG,
        "setExecutionConfig",
        i={
            "routingCode": f.code("R"),
            "stepNo": 20,
            "maxAttempts": 4,
            "ingestMapping": AUTO_MAPPING,
        },
    )
    v2 = (await mutate(api, COMPILE, "compileRouting", c=f.code("R")))["version"]
    assert (v2["versionNo"], v2["steps"][1]["maxAttempts"]) == (2, 4)
    query = """query($r: String!) { run(runNo: $r) { routeVersion { versionNo
      steps { stepNo maxAttempts stationGroupCode } } } }"""
    kept = (await api.gql(query, {"r": run_no}))["run"]["routeVersion"]
    assert kept["versionNo"] == 1
    assert [s["maxAttempts"] for s in kept["steps"]] == [1, 1]
    new = await api.gql(
        """mutation($w: String!, $l: String!) { createRun(input: {woNo: $w, lineCode: $l, planQty: 1}) {
          run { runNo routeVersion { versionNo } } error { code } } }""",
        {"w": f.code("WO"), "l": f.code("LINE")},
    )
    assert new["createRun"]["error"] is None
    assert new["createRun"]["run"]["routeVersion"]["versionNo"] == 2


# ---------------------------------------------------------------- refusals


async def test_operation_not_found_refusals(api: ApiClient, services: Services) -> None:
    tag = unique("OR")
    spec = await mutate(
        api,
        UPSERT_SPEC,
        "upsertDataCollectionSpec",
        i={"operationCode": f"{tag}-NOOP", "name": "X", "dataType": "TEXT", "method": "AUTO"},
    )
    assert (spec["dataSpec"], spec["error"]["code"]) == (None, "OPERATION_NOT_FOUND")
    routing = await mutate(
        api,
        UPSERT_ROUTING,
        "upsertRouting",
        i={
            "code": f"{tag}-R",
            "name": "R",
            "steps": [{"stepNo": 10, "operationCode": f"{tag}-NOOP"}],
        },
    )
    assert (routing["routing"], routing["error"]["code"]) == (None, "OPERATION_NOT_FOUND")
    assert routing["error"]["details"] == {"missing": [f"{tag}-NOOP"]}
    assert await rows_of(services.engine, t.routing, t.routing.c.code == f"{tag}-R") == 0
    assert (
        await rows_of(services.engine, t.data_spec, t.data_spec.c.operation_code == f"{tag}-NOOP")
        == 0
    )


async def test_execution_config_refusals(api: ApiClient, plant: Plant, services: Services) -> None:
    c = plant.code
    missing = await mutate(
        api, SET_CONFIG, "setExecutionConfig", i={"routingCode": f"{c('R')}-NONE", "maxAttempts": 2}
    )
    assert (missing["routing"], missing["error"]["code"]) == (None, "ROUTE_NOT_FOUND")
    # the rest of the refusals: tests/unit/test_master_data.py
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"stepNo": 10, "operationCode": c("AOI")}, "VALIDATION_FAILED"),  # two scopes
    ]
    before = await rows_of(
        services.engine, t.execution_config, t.execution_config.c.routing_code == c("R")
    )
    for given, code in refusals:
        payload = await mutate(
            api, SET_CONFIG, "setExecutionConfig", i={"routingCode": c("R"), **given}
        )
        assert payload["routing"] is None, given
        assert payload["error"]["code"] == code, (given, payload["error"])
    version = await plant.compile()  # the stored configs are unchanged
    assert version["steps"][0]["maxAttempts"] == 2
    assert version["steps"][0]["stationGroupCode"] == c("PRN-G")
    assert before == await rows_of(
        services.engine, t.execution_config, t.execution_config.c.routing_code == c("R")
    )


async def test_compile_of_an_unknown_routing(api: ApiClient, services: Services) -> None:
    code = unique("NOR")
    payload = await mutate(api, COMPILE, "compileRouting", c=code)
    assert payload["version"] is None
    assert payload["error"]["code"] == "ROUTE_NOT_FOUND"
    assert payload["error"]["details"] == {"key": code}
    assert (
        await rows_of(services.engine, t.route_version, t.route_version.c.routing_code == code) == 0
    )


@pytest.mark.parametrize(
    ("doc", "field", "given"),
    [
        (UPSERT_LINE, "upsertLine", {"code": "L-1 ", "name": "L"}),
        (UPSERT_GROUP, "upsertStationGroup", {"code": " G-1", "name": "G"}),
        (UPSERT_STATION, "upsertStation", {"code": "S-1\t", "name": "S", "stationType": "AUTO"}),
        (
            UPSERT_OPERATION,
            "upsertOperation",
            {"code": "O-1 ", "name": "O", "defaultStationType": "AUTO"},
        ),
        (UPSERT_ROUTING, "upsertRouting", {"code": "R-1 ", "name": "R", "steps": []}),
    ],
)
async def test_malformed_codes_are_validation_failures(
    api: ApiClient, services: Services, doc: str, field: str, given: dict[str, Any]
) -> None:
    payload = await mutate(api, doc, field, i=given)
    assert payload["error"]["code"] == "VALIDATION_FAILED", payload
    assert payload["error"]["message"]
    assert [v for k, v in payload.items() if k != "error"] == [None]
    async with services.engine.connect() as conn:
        for table in (t.line, t.station_group, t.station, t.operation, t.routing):
            found = await conn.execute(select(table.c.code).where(table.c.code == given["code"]))
            assert found.first() is None
