"""Hostile strings in every code field (SQL metacharacters, huge unicode, NUL and other control
characters, bidi overrides, LIKE wildcards): each request answers 200 with either a clean
VALIDATION_FAILED / not-found refusal or a stored value that reads back byte for byte, on
both databases; nothing breaks and nothing is dropped."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.ingest_builders import IngestFactory

HOSTILE = [
    "'; DROP TABLE unit; --",
    'x" OR "1"="1',
    "Robert'); DELETE FROM line;--",
    "%_\\%",
    "a\x00b",
    "tab\there",
    "line\nbreak",
    "\u202eevil\u202c",
    "💥" * 100,
    "💥" * 101,
    "名" * 5000,
    "\ufeffbom",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    " padded ",
    "",
    "in side",
    "zero\u200bwidth",
    "nb\u00a0sp",
    "e\u0301",
    "e\u0301"[:1] + "\u00e9",
    "\u2028ls",
]
#: refusals a hostile code may get: it is malformed, or it names nothing that exists
FINE_REFUSALS = {
    "VALIDATION_FAILED",
    "LINE_NOT_FOUND",
    "STATION_GROUP_NOT_FOUND",
    "OPERATION_NOT_FOUND",
    "ROUTE_NOT_FOUND",
    "WORK_ORDER_NOT_FOUND",
    "RUN_NOT_FOUND",
    "UNIT_NOT_FOUND",
    "STATION_NOT_FOUND",
}


def readable(value: str) -> bool:
    """What a code may be (DOMAIN.md §1): 1–100 characters, NFC, no white space, control or
    format (zero-width) characters."""
    return (
        0 < len(value) <= 100
        and unicodedata.is_normalized("NFC", value)
        and not any(
            ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")
            for ch in value
        )
    )


async def answer(api: ApiClient, doc: str, field: str, variables: dict[str, Any]) -> Any:
    response = await api.post(doc, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"][field]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_master_data_codes(api: ApiClient, services: Services, value: str) -> None:
    before = await _counts(services)
    line = await answer(
        api,
        "mutation($i: LineInput!) { upsertLine(input: $i) { line { code name } error { code } } }",
        "upsertLine",
        {"i": {"code": value, "name": value}},
    )
    if readable(value):
        assert line["error"] is None and line["line"]["code"] == value
        read = await api.gql("query($c: String!) { line(code: $c) { code name } }", {"c": value})
        assert read["line"] == {"code": value, "name": value}
    else:
        assert line["error"]["code"] == "VALIDATION_FAILED"
    station = await answer(
        api,
        """mutation($i: StationInput!) { upsertStation(input: $i) {
             station { code } error { code } } }""",
        "upsertStation",
        {"i": {"code": unique("S"), "name": "S", "stationType": "AUTO", "lineCode": value}},
    )
    if readable(value):
        assert station["error"] is None  # the line of that code exists now
    else:
        assert station["error"]["code"] in FINE_REFUSALS
    operation = await answer(
        api,
        """mutation($i: OperationInput!) { upsertOperation(input: $i) {
             operation { code } error { code } } }""",
        "upsertOperation",
        {"i": {"code": value, "name": "op", "defaultStationType": "AUTO"}},
    )
    assert (operation["error"] is None) == readable(value)
    routing = await answer(
        api,
        """mutation($i: RoutingInput!) { upsertRouting(input: $i) {
             routing { code } error { code } } }""",
        "upsertRouting",
        {
            "i": {
                "code": unique("R"),
                "name": "R",
                "steps": [{"stepNo": 10, "operationCode": value}],
            }
        },
    )
    if not readable(value):
        assert routing["error"]["code"] in FINE_REFUSALS
    compiled = await answer(
        api,
        "mutation($c: String!) { compileRouting(code: $c) { error { code } } }",
        "compileRouting",
        {"c": value},
    )
    assert compiled["error"]["code"] in FINE_REFUSALS
    after = await _counts(services)
    assert after["unit"] == before["unit"]  # the tables are all still there, units untouched


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_production_and_ingest_codes(
    api: ApiClient, services: Services, f: IngestFactory, value: str
) -> None:
    wo = await answer(
        api,
        """mutation($i: WorkOrderInput!) { receiveWorkOrder(input: $i) {
             workOrder { woNo } error { code } } }""",
        "receiveWorkOrder",
        {"i": {"woNo": value, "productCode": value, "routingCode": value, "plannedQty": 1}},
    )
    assert (wo["error"] is None) == readable(value), wo
    registered = await answer(
        api,
        """mutation($i: RegisterUnitsInput!) { registerUnits(input: $i) {
             units { sn } error { code } } }""",
        "registerUnits",
        {"i": {"runNo": f.run_no, "sns": [value]}},
    )
    if readable(value):
        assert registered["units"] == [{"sn": value}]
        unit = await api.gql("query($s: String!) { unit(sn: $s) { sn status } }", {"s": value})
        assert unit["unit"] == {"sn": value, "status": "QUEUED"}
    else:
        assert registered["error"]["code"] == "VALIDATION_FAILED"
    for doc, field, variables in (
        (
            "mutation($r: String!) { authorizeRun(runNo: $r) { error { code } } }",
            "authorizeRun",
            {"r": value},
        ),
        (
            """mutation($i: TrackInInput!) { trackIn(input: $i) { error { code } } }""",
            "trackIn",
            {"i": {"sn": value, "stationCode": value, "runNo": value}},
        ),
    ):
        refused = await answer(api, doc, field, variables)
        assert refused["error"]["code"] in FINE_REFUSALS, refused
    event = await answer(
        api,
        """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
             status error { code } rejection { id } } }""",
        "ingestEvent",
        {
            "i": f.aoi_input(value, key=value or "k")
            | {"sourceSystem": value or "src", "payload": f.aoi_payload(value) | {value: value}}
        },
    )
    if readable(value):  # the unit of that SN exists: its AOI result is recorded
        assert event["status"] == "ACCEPTED", event
        trace = await api.gql(
            "query($s: String!) { unit(sn: $s) { tracks { ingestEvent { sourceSystem } } } }",
            {"s": value},
        )
        assert trace["unit"]["tracks"] == [{"ingestEvent": {"sourceSystem": value}}]
    else:
        assert event["status"] == "REJECTED"
        # a malformed SN in the payload is the payload's fault
        assert event["error"]["code"] in FINE_REFUSALS | {"INGEST_PAYLOAD_INVALID"}, event


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=1)


async def _counts(services: Services) -> dict[str, int]:
    async with services.engine.connect() as conn:
        return {
            name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in (("unit", t.unit), ("line", t.line), ("audit", t.audit_event))
        }


async def test_integers_past_64_bits_in_a_payload(api: ApiClient, f: IngestFactory) -> None:
    """Valid JSON that orjson cannot write: stored all the same (read back as a float)."""
    big = 2**70
    for sn in (f.sns[0], "nobody-registered-this"):
        data = f.aoi_input(sn) | {"payload": f.aoi_payload(sn) | {"counter": big, "neg": -big}}
        event = await answer(
            api,
            """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
                 status error { code } event { payload } rejection { input } } }""",
            "ingestEvent",
            {"i": data},
        )
        if sn == f.sns[0]:
            assert event["status"] == "ACCEPTED", event
            assert event["event"]["payload"]["counter"] == float(big)
        else:
            assert event["error"]["code"] == "UNIT_NOT_FOUND"
            assert event["rejection"]["input"]["payload"]["neg"] == float(-big)
