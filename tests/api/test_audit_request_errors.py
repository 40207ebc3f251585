"""Every request that reaches a mutation leaves an audit row, also when no use case ran: a
token without the field's scope, a request error (a naive time, a batch over its limit, a bad
id, variables of the wrong type, a document that does not validate) and a bug. Each row has the
server's request id and the client's X-Request-ID beside it; a business refusal keeps its one
row (the use case's), and a document that does not parse writes none."""

from __future__ import annotations

from typing import Any

import pytest

from domain.usecases import master_data as md
from graphql_api.bootstrap import Services
from tests.audit_rows import Audited, audit_rows
from tests.conftest import ApiClient, make_token, unique
from tests.ingest_builders import IngestFactory

LINE = "mutation($i: LineInput!) { upsertLine(input: $i) { error { code } } }"


async def send(
    api: ApiClient,
    services: Services,
    query: str,
    variables: dict[str, Any] | None = None,
    **kw: Any,
) -> tuple[dict[str, Any], list[Audited]]:
    """Post with a client request id; the body and the audit rows of the server's id."""
    client_id = unique("cli")
    response = await api.post(query, variables, headers={"X-Request-ID": client_id}, **kw)
    assert response.headers["x-client-request-id"] == client_id
    rows = await audit_rows(services.engine, response.headers["x-request-id"])
    assert all(r.client_request_id == client_id for r in rows), rows
    return response.json(), rows


def summary(rows: list[Audited]) -> list[tuple[str, str, str | None]]:
    return [(r.action, r.outcome, r.error_code) for r in rows]


async def test_a_field_outside_the_tokens_scope_is_audited_as_forbidden(
    api: ApiClient, services: Services
) -> None:
    reader = await make_token(services, "read")
    body, rows = await send(
        api, services, LINE, {"i": {"code": unique("L"), "name": "L"}}, token=reader
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert summary(rows) == [("upsertLine", "REFUSED", "FORBIDDEN")]
    assert rows[0].actor.startswith("tok-") and rows[0].details["message"]
    # two fields: a row each
    body, rows = await send(
        api,
        services,
        """mutation { a: closeRun(runNo: "X") { error { code } }
                      b: replayRejection(id: "1") { status } }""",
        token=reader,
    )
    # mutation fields run in turn: the first one's failure nulls the answer and stops the
    # second, which is audited as not run
    assert summary(rows) == [
        ("closeRun", "REFUSED", "FORBIDDEN"),
        ("replayRejection", "REFUSED", "NOT_EXECUTED"),
    ]


async def test_request_errors_of_a_mutation_are_audited_once(
    api: ApiClient, services: Services
) -> None:
    naive = {
        "woNo": unique("WO"),
        "productCode": "P",
        "plannedQty": 1,
        "dueDate": "2026-01-01T00:00:00",
    }
    body, rows = await send(
        api,
        services,
        "mutation($i: WorkOrderInput!) { receiveWorkOrder(input: $i) { error { code } } }",
        {"i": naive},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert summary(rows) == [("receiveWorkOrder", "REFUSED", "BAD_USER_INPUT")]
    assert rows[0].entity_type == "WorkOrder" and "dueDate" in rows[0].details["message"]
    # variables that do not fit their types: refused before any resolver runs
    body, rows = await send(api, services, LINE, {"i": {"code": 5}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert summary(rows) == [("upsertLine", "REFUSED", "BAD_USER_INPUT")]
    # a document that parses to a mutation but does not validate
    body, rows = await send(
        api, services, "mutation { upsertLine(input: {code: 1}) { error { code } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert summary(rows) == [("upsertLine", "REFUSED", "GRAPHQL_VALIDATION_FAILED")]
    body, rows = await send(api, services, "mutation { noSuchField }")
    assert summary(rows) == [("mutation", "REFUSED", "GRAPHQL_VALIDATION_FAILED")]
    # a bad id
    body, rows = await send(
        api,
        services,
        "mutation($id: ID!) { replayRejection(id: $id) { status } }",
        {"id": "99999999999999999999"},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert summary(rows) == [("replayRejection", "REFUSED", "BAD_USER_INPUT")]
    # a business refusal keeps the one row of its use case
    body, rows = await send(api, services, LINE, {"i": {"code": "L ", "name": "L"}})
    assert summary(rows) == [("upsertLine", "REFUSED", "VALIDATION_FAILED")]


async def test_a_batch_over_its_limit_leaves_one_row(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    items = [f.aoi_input(f.sns[0], key=unique("K")) for _ in range(501)]
    body, rows = await send(
        api,
        services,
        "mutation($e: [IngestEventInput!]!) { ingestEvents(inputs: $e) { status } }",
        {"e": items},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert summary(rows) == [("ingestEvents", "REFUSED", "BAD_USER_INPUT")]
    assert rows[0].entity_type == "IngestEvent"


async def test_an_internal_error_is_audited_as_error(
    api: ApiClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(services.bus.handlers, md.UpsertLine, broken)
    body, rows = await send(api, services, LINE, {"i": {"code": unique("L"), "name": "L"}})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert summary(rows) == [("upsertLine", "ERROR", "INTERNAL_SERVER_ERROR")]
    assert "secret" not in str(rows[0].details)


async def test_a_document_that_does_not_parse_and_queries_write_no_row(
    api: ApiClient, services: Services
) -> None:
    body, rows = await send(api, services, "mutation { upsertLine(input: ")
    assert "Syntax Error" in body["errors"][0]["message"] and rows == []
    reader = await make_token(services, "execute")
    body, rows = await send(api, services, '{ line(code: "x") { code } }', token=reader)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and rows == []


async def test_replaying_an_unknown_or_resolved_rejection_is_audited(
    api: ApiClient, services: Services, f: IngestFactory
) -> None:
    replay = "mutation($id: ID!) { replayRejection(id: $id) { status error { code } } }"
    body, rows = await send(api, services, replay, {"id": "987654321"})
    assert body["data"]["replayRejection"]["error"]["code"] == "REJECTION_NOT_FOUND"
    assert summary(rows) == [("replayRejection", "REFUSED", "REJECTION_NOT_FOUND")]
    assert (rows[0].entity_type, rows[0].entity_key) == ("IngestRejection", "987654321")
    key = unique("K")
    refused = await api.gql(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { rejection { id } } }",
        {"i": f.aoi_input(f.sns[0], key=key, station=f.code("NOPE"))},
    )
    rejection_id = refused["ingestEvent"]["rejection"]["id"]
    await api.gql(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status } }",
        {"i": f.aoi_input(f.sns[0], key=key)},
    )  # accepted under the same key: resolves the rejection
    body, rows = await send(api, services, replay, {"id": rejection_id})
    assert body["data"]["replayRejection"]["status"] == "DUPLICATE"
    assert summary(rows) == [("replayRejection", "DUPLICATE", None)]


async def test_the_audit_trail_shows_them_to_an_admin(api: ApiClient, services: Services) -> None:
    reader = await make_token(services, "read")
    client_id = unique("cli")
    response = await api.post(
        LINE, {"i": {"code": "x", "name": "x"}}, token=reader, headers={"X-Request-ID": client_id}
    )
    request_id = response.headers["x-request-id"]
    found = await api.gql(
        """query($r: String!) { auditEvents(filter: {requestId: $r}) { edges { node {
             action outcome errorCode requestId clientRequestId } } } }""",
        {"r": request_id},
    )
    assert [e["node"] for e in found["auditEvents"]["edges"]] == [
        {
            "action": "upsertLine",
            "outcome": "REFUSED",
            "errorCode": "FORBIDDEN",
            "requestId": request_id,
            "clientRequestId": client_id,
        }
    ]


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=1)
