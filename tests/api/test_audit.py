"""Every mutation, accepted or refused, leaves an audit row with the actor (the token's name)
and the request id (DOMAIN.md §2 AuditEvent); the request id is the server's own, echoed in
X-Request-ID, and the client's X-Request-ID is kept beside it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.actors import Actor
from domain.usecases.tokens import CreateToken
from graphql_api.bootstrap import Services
from tests.audit_rows import Audited, audit_rows
from tests.conftest import ApiClient, unique
from tests.ingest_builders import IngestFactory

E = "error { code message }"


class Auditor:
    """Sends one mutation with its own request id and returns its payload and audit rows."""

    def __init__(self, api: ApiClient, engine: AsyncEngine, actor: str):
        self.api = api
        self.engine = engine
        self.actor = actor

    async def send(
        self, field: str, args: str, selection: str, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[Audited]]:
        client_id = unique("req")
        decl = ", ".join(f"${k}: {v}" for k, v in _types(variables or {}).items())
        doc = f"mutation{f'({decl})' if decl else ''} {{ {field}{args} {{ {selection} }} }}"
        response = await self.api.post(doc, variables, headers={"X-Request-ID": client_id})
        assert response.headers["x-client-request-id"] == client_id
        body = response.json()
        assert not body.get("errors"), body["errors"]
        rows = await audit_rows(self.engine, response.headers["x-request-id"])
        assert all(row.client_request_id == client_id for row in rows), rows
        return body["data"][field], rows

    async def check(
        self,
        field: str,
        args: str,
        variables: dict[str, Any] | None = None,
        *,
        refused: str | None = None,
        key: str | None = None,
        selection: str = E,
    ) -> Audited:
        """The mutation leaves exactly one row: OK, or REFUSED with the payload's error code."""
        result, rows = await self.send(field, args, selection, variables)
        assert len(rows) == 1, (field, rows)
        row = rows[0]
        error = result["error"]
        if refused is None:
            assert error is None, (field, error)
            assert (row.outcome, row.error_code, row.details) == ("OK", None, None), row
        else:
            assert error is not None and error["code"] == refused, (field, error)
            assert (row.outcome, row.error_code) == ("REFUSED", refused), row
            assert row.details["message"] == error["message"]
        assert (row.action, row.actor) == (field, self.actor), row
        if key is not None:
            assert row.entity_key == key, row
        return row


def _types(variables: dict[str, Any]) -> dict[str, str]:
    """The GraphQL type of each variable, by its name (the tests name them after the input)."""
    return {name: VARIABLE_TYPES[name] for name in variables}


VARIABLE_TYPES = {
    "line": "LineInput!",
    "group": "StationGroupInput!",
    "station": "StationInput!",
    "operation": "OperationInput!",
    "spec": "DataCollectionSpecInput!",
    "routing": "RoutingInput!",
    "config": "ExecutionConfigInput!",
    "code": "String!",
    "wo": "WorkOrderInput!",
    "woNo": "String!",
    "run": "CreateRunInput!",
    "runNo": "String!",
    "units": "RegisterUnitsInput!",
    "trackIn": "TrackInInput!",
    "trackOut": "TrackOutInput!",
    "dispose": "DisposeUnitInput!",
    "load": "CarrierLoadInput!",
    "device": "DeviceDataInput!",
    "counts": "ProductionCountsInput!",
    "event": "IngestEventInput!",
    "events": "[IngestEventInput!]!",
    "id": "ID!",
}


@pytest.fixture
async def auditor(api: ApiClient, services: Services) -> Auditor:
    """A client whose token has a known name: the actor of every audit row it causes."""
    name = unique("auditor")
    created = await services.bus.handle(CreateToken(name, ("admin",)), Actor("test", "setup"))
    return Auditor(ApiClient(api.client, token=created.secret), services.engine, name)


async def test_master_data_and_production_mutations_are_audited(auditor: Auditor) -> None:
    tag = unique("AU")
    a = auditor.check
    line = {"code": f"{tag}-L", "name": "Line"}
    row = await a("upsertLine", "(input: $line)", {"line": line}, key=f"{tag}-L")
    assert row.entity_type == "Line"
    await a(
        "upsertLine",
        "(input: $line)",
        {"line": {"code": "L ", "name": "x"}},
        refused="VALIDATION_FAILED",
    )
    await a("upsertStationGroup", "(input: $group)", {"group": {"code": f"{tag}-G", "name": "G"}})
    await a(
        "upsertStationGroup",
        "(input: $group)",
        {"group": {"code": "", "name": "G"}},
        refused="VALIDATION_FAILED",
    )
    station = {
        "code": f"{tag}-S",
        "name": "S",
        "stationType": "MANUAL",
        "lineCode": f"{tag}-L",
        "groupCode": f"{tag}-G",
    }
    await a("upsertStation", "(input: $station)", {"station": station}, key=f"{tag}-S")
    await a(
        "upsertStation",
        "(input: $station)",
        {"station": {**station, "lineCode": f"{tag}-NOLINE"}},
        refused="LINE_NOT_FOUND",
        key=f"{tag}-S",
    )
    op = {"code": f"{tag}-OP", "name": "Print", "defaultStationType": "MANUAL"}
    await a("upsertOperation", "(input: $operation)", {"operation": op})
    await a(
        "upsertOperation",
        "(input: $operation)",
        {"operation": {**op, "name": ""}},
        refused="VALIDATION_FAILED",
    )
    spec = {"operationCode": f"{tag}-OP", "name": "Note", "dataType": "TEXT", "method": "MANUAL"}
    row = await a(
        "upsertDataCollectionSpec", "(input: $spec)", {"spec": spec}, key=f"{tag}-OP/Note"
    )
    assert row.entity_type == "DataCollectionSpec"
    await a(
        "upsertDataCollectionSpec",
        "(input: $spec)",
        {"spec": {**spec, "operationCode": f"{tag}-NOOP"}},
        refused="OPERATION_NOT_FOUND",
    )
    routing = {
        "code": f"{tag}-R",
        "name": "R",
        "steps": [{"stepNo": 10, "operationCode": f"{tag}-OP"}],
    }
    await a("upsertRouting", "(input: $routing)", {"routing": routing})
    await a(
        "upsertRouting",
        "(input: $routing)",
        {"routing": {**routing, "steps": [{"stepNo": 10, "operationCode": f"{tag}-NOOP"}]}},
        refused="OPERATION_NOT_FOUND",
    )
    config = {"routingCode": f"{tag}-R", "stepNo": 10, "stationGroupCode": f"{tag}-G"}
    await a("setExecutionConfig", "(input: $config)", {"config": config}, key=f"{tag}-R")
    await a(
        "setExecutionConfig",
        "(input: $config)",
        {"config": {**config, "routingCode": f"{tag}-NOR"}},
        refused="ROUTE_NOT_FOUND",
    )
    compiled = "version { status } " + E
    await a("compileRouting", "(code: $code)", {"code": f"{tag}-R"}, selection=compiled)
    await a(
        "compileRouting",
        "(code: $code)",
        {"code": f"{tag}-NOR"},
        refused="ROUTE_NOT_FOUND",
        selection=compiled,
    )
    wo = {"woNo": f"{tag}-WO", "productCode": "P", "plannedQty": 2, "routingCode": f"{tag}-R"}
    await a("receiveWorkOrder", "(input: $wo)", {"wo": wo}, key=f"{tag}-WO")
    await a(
        "receiveWorkOrder",
        "(input: $wo)",
        {"wo": {**wo, "plannedQty": 0}},
        refused="VALIDATION_FAILED",
    )
    await a("releaseWorkOrder", "(woNo: $woNo)", {"woNo": f"{tag}-WO"})
    await a(
        "releaseWorkOrder", "(woNo: $woNo)", {"woNo": f"{tag}-NOWO"}, refused="WORK_ORDER_NOT_FOUND"
    )
    run = {"woNo": f"{tag}-WO", "runNo": f"{tag}-RUN", "lineCode": f"{tag}-L", "planQty": 2}
    row = await a("createRun", "(input: $run)", {"run": run}, key=f"{tag}-RUN")
    assert row.entity_type == "Run"
    await a("createRun", "(input: $run)", {"run": run}, refused="RUN_ALREADY_EXISTS")
    await a("authorizeRun", "(runNo: $runNo)", {"runNo": f"{tag}-RUN"})
    await a("authorizeRun", "(runNo: $runNo)", {"runNo": f"{tag}-NORUN"}, refused="RUN_NOT_FOUND")
    await a("revokeRunAuthorization", "(runNo: $runNo)", {"runNo": f"{tag}-RUN"})
    await a(
        "revokeRunAuthorization",
        "(runNo: $runNo)",
        {"runNo": f"{tag}-NORUN"},
        refused="RUN_NOT_FOUND",
    )
    units = {"runNo": f"{tag}-RUN", "sns": [f"{tag}-SN1"]}
    await a("registerUnits", "(input: $units)", {"units": units}, selection="units { sn } " + E)
    await a(
        "registerUnits",
        "(input: $units)",
        {"units": units},
        refused="UNIT_ALREADY_EXISTS",
        selection="units { sn } " + E,
    )

    # manual execution: refused while the run is PREP, then through
    move = {"stationCode": f"{tag}-S", "runNo": f"{tag}-RUN", "sn": f"{tag}-SN1"}
    await a("trackIn", "(input: $trackIn)", {"trackIn": move}, refused="RUN_NOT_AUTHORIZED")
    await a("authorizeRun", "(runNo: $runNo)", {"runNo": f"{tag}-RUN"})
    await a("trackIn", "(input: $trackIn)", {"trackIn": move})
    await a("trackIn", "(input: $trackIn)", {"trackIn": move}, refused="UNIT_ALREADY_IN_STATION")
    await a("trackOut", "(input: $trackOut)", {"trackOut": {**move, "result": "FAIL"}})
    await a(
        "trackOut",
        "(input: $trackOut)",
        {"trackOut": {**move, "result": "PASS"}},
        refused="UNIT_NOT_IN_STATION",
    )
    dispose = {"sn": f"{tag}-SN1", "action": "RETEST", "reason": "false call"}
    await a("disposeUnit", "(input: $dispose)", {"dispose": dispose})
    await a("disposeUnit", "(input: $dispose)", {"dispose": dispose}, refused="DISPOSITION_INVALID")
    await a("closeRun", "(runNo: $runNo)", {"runNo": f"{tag}-NORUN"}, refused="RUN_NOT_FOUND")
    await a("closeRun", "(runNo: $runNo)", {"runNo": f"{tag}-RUN"}, refused="RUN_NOT_READY")
    await a(
        "revokeRunAuthorization",
        "(runNo: $runNo)",
        {"runNo": f"{tag}-RUN"},
        refused="RUN_NOT_AUTHORIZED",
    )


async def test_carrier_device_and_count_mutations_are_audited(auditor: Auditor) -> None:
    tag = unique("AC")
    a = auditor.check
    carrier = "carrier { carrierNo } " + E
    await a(
        "loadCarrier",
        "(input: $load)",
        {"load": {"carrierNo": f"{tag}-C", "sns": [f"{tag}-NOSN"]}},
        refused="UNIT_NOT_FOUND",
        selection=carrier,
    )
    await a(
        "unloadCarrier",
        "(input: $load)",
        {"load": {"carrierNo": f"{tag}-C"}},
        refused="CARRIER_NOT_FOUND",
        selection=carrier,
    )
    device = {
        "eventId": f"{tag}-D",
        "eventTime": "2026-03-02T09:00:00+01:00",
        "source": "AUTO",
        "trackId": "999999999",
        "data": [{"specName": "X", "valueNumber": 1.0}],
    }
    await a("recordDeviceData", "(input: $device)", {"device": device}, refused="TRACK_NOT_FOUND")
    counts = {
        "eventId": f"{tag}-P",
        "lineCode": f"{tag}-L",
        "quantity": 1,
        "startedAt": "2026-03-02T08:00:00+01:00",
        "endedAt": "2026-03-02T09:00:00+01:00",
        "modules": [{"module": "H1", "picked": 10, "placed": 9}],
    }
    await a(
        "recordProductionCounts", "(input: $counts)", {"counts": counts}, refused="LINE_NOT_FOUND"
    )
    await a("upsertLine", "(input: $line)", {"line": {"code": f"{tag}-L", "name": "L"}})
    await a("recordProductionCounts", "(input: $counts)", {"counts": counts})
    bad = {
        **counts,
        "eventId": f"{tag}-P2",
        "modules": [{"module": "H1", "picked": 1, "placed": 2}],
    }
    await a(
        "recordProductionCounts", "(input: $counts)", {"counts": bad}, refused="VALIDATION_FAILED"
    )


async def test_ingest_mutations_are_audited(auditor: Auditor, services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    selection = "status error { code message } rejection { id }"
    event = f.aoi_input(f.sns[0])
    result, rows = await auditor.send("ingestEvent", "(input: $event)", selection, {"event": event})
    assert result["status"] == "ACCEPTED"
    key = f"{event['sourceSystem']}/{event['dedupeKey']}"
    assert [(r.action, r.outcome, r.error_code, r.entity_key, r.actor) for r in rows] == [
        ("ingestEvent", "OK", None, key, auditor.actor)
    ]
    result, rows = await auditor.send("ingestEvent", "(input: $event)", selection, {"event": event})
    assert result["status"] == "DUPLICATE"
    assert [(r.outcome, r.error_code) for r in rows] == [("DUPLICATE", None)]
    stranger = f.aoi_input(f.code("NOBODY"))
    result, rows = await auditor.send(
        "ingestEvent", "(input: $event)", selection, {"event": stranger}
    )
    assert (result["status"], result["error"]["code"]) == ("REJECTED", "UNIT_NOT_FOUND")
    assert [(r.outcome, r.error_code) for r in rows] == [("REFUSED", "UNIT_NOT_FOUND")]
    rejection_id = result["rejection"]["id"]
    # a batch: one row per item, all under the request's id
    batch = [f.aoi_input(f.code("NOBODY")), event]
    response = await auditor.api.post(
        "mutation($events: [IngestEventInput!]!) { ingestEvents(inputs: $events) { status } }",
        {"events": batch},
    )
    request_id = response.headers["x-request-id"]
    assert [r["status"] for r in response.json()["data"]["ingestEvents"]] == [
        "REJECTED",
        "DUPLICATE",
    ]
    rows = await audit_rows(auditor.engine, request_id)
    assert sorted(r.outcome for r in rows) == ["DUPLICATE", "REFUSED"]
    # a replay that is still refused
    result, rows = await auditor.send(
        "replayRejection", "(id: $id)", selection, {"id": rejection_id}
    )
    assert result["status"] == "REJECTED"
    assert [(r.outcome, r.error_code) for r in rows] == [("REFUSED", "UNIT_NOT_FOUND")]


# ---------------------------------------------------------------- request ids


LINE = "mutation($i: LineInput!) { upsertLine(input: $i) { error { code } } }"


async def test_a_request_without_an_id_gets_a_generated_one(auditor: Auditor) -> None:
    ids = []
    for _ in range(2):
        response = await auditor.api.post(LINE, {"i": {"code": unique("L"), "name": "L"}})
        request_id = response.headers["x-request-id"]
        assert request_id and len(request_id) >= 16
        rows = await audit_rows(auditor.engine, request_id)
        assert [(r.action, r.outcome, r.actor) for r in rows] == [
            ("upsertLine", "OK", auditor.actor)
        ]
        ids.append(request_id)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("sent", ["has spaces", "x" * 201, "<script>", "a/b;c"])
async def test_an_unusable_client_request_id_is_dropped(
    api: ApiClient, services: Services, sent: str
) -> None:
    response = await api.post(
        LINE,
        {"i": {"code": unique("L"), "name": "L"}},
        headers={"X-Request-ID": sent},
    )
    request_id = response.headers["x-request-id"]
    assert request_id != sent and "x-client-request-id" not in response.headers
    (row,) = await audit_rows(services.engine, request_id)
    assert row.client_request_id is None


async def test_a_client_cannot_choose_the_request_id(api: ApiClient, services: Services) -> None:
    """Two requests sending one X-Request-ID get two ids of the server's; each row keeps the
    client's beside its own."""
    sent = unique("dup")
    ids = []
    for _ in range(2):
        response = await api.post(
            LINE, {"i": {"code": unique("L"), "name": "L"}}, headers={"X-Request-ID": sent}
        )
        ids.append(response.headers["x-request-id"])
        (row,) = await audit_rows(services.engine, ids[-1])
        assert row.client_request_id == sent
    assert sent not in ids and ids[0] != ids[1]
    assert await audit_rows(services.engine, sent) == []


async def test_every_mutation_of_one_request_is_audited_under_its_id(
    api: ApiClient, services: Services
) -> None:
    tag = unique("M")
    response = await api.post(
        """mutation($a: String!, $b: String!) {
          first: upsertLine(input: {code: $a, name: "A"}) { error { code } }
          second: upsertLine(input: {code: $b, name: "B "}) { error { code } }
          third: releaseWorkOrder(woNo: $a) { error { code } }
        }""",
        {"a": f"{tag}-A", "b": f"{tag}-B "},
    )
    rows = await audit_rows(services.engine, response.headers["x-request-id"])
    assert sorted((r.action, r.entity_key, r.outcome, r.error_code) for r in rows) == [
        ("releaseWorkOrder", f"{tag}-A", "REFUSED", "WORK_ORDER_NOT_FOUND"),
        ("upsertLine", f"{tag}-A", "OK", None),
        ("upsertLine", f"{tag}-B ", "REFUSED", "VALIDATION_FAILED"),
    ]


async def test_queries_write_no_audit_row(api: ApiClient, services: Services) -> None:
    response = await api.post('query { line(code: "NO-SUCH-LINE") { code } }')
    assert response.json()["data"] == {"line": None}
    assert await audit_rows(services.engine, response.headers["x-request-id"]) == []
