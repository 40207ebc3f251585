"""Hostile strings in every code field (SQL metacharacters, huge unicode, NUL and other control
characters, bidi overrides, LIKE wildcards): each request answers 200 with either a clean
VALIDATION_FAILED / not-found refusal or a stored value that reads back byte for byte, on
both databases; nothing breaks and nothing is dropped."""

from __future__ import annotations

import base64
import json
import unicodedata
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters import tables as t
from adapters.settings import Settings
from domain.errors import DomainError, ErrorCode
from domain.limits import Limits
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services, bootstrap
from tests.conftest import ApiClient, unique
from tests.ingest_builders import ACTOR, IngestFactory

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


# ---------------------------------------------------------------- issue 14: clear answers

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details } rejection { id input replayable } } }"""


async def raw(api: ApiClient, query: str, variables: dict[str, Any]) -> Any:
    """Post with the standard library's JSON (lone surrogates escaped as JSON allows)."""
    response = await api.client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"content-type": "application/json", "authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_lone_surrogate_is_refused_and_kept_as_replacement_characters(
    api: ApiClient, f: IngestFactory
) -> None:
    data = f.aoi_input(f.sns[0])
    data["payload"]["note"] = "bad\ud800text"
    body = await raw(api, INGEST, {"i": data})
    r = body["data"]["ingestEvent"]
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "VALIDATION_FAILED")
    assert r["error"]["details"]["field"] == "payload" and "surrogate" in r["error"]["message"]
    assert r["rejection"]["input"]["payload"]["note"] == "bad\ufffdtext"
    assert r["rejection"]["replayable"] is False
    line = await raw(
        api,
        "mutation($i: LineInput!) { upsertLine(input: $i) { error { code details } } }",
        {"i": {"code": "L\udfff", "name": "x"}},
    )
    assert line["data"]["upsertLine"]["error"] == {
        "code": "VALIDATION_FAILED",
        "details": {"field": "code"},
    }
    # a lookup by such a key finds nothing, on either database
    found = await raw(api, "query($c: String!) { line(code: $c) { code } }", {"c": "L\udfff"})
    assert found == {"data": {"line": None}}


async def test_json_past_the_depth_limit_is_refused_and_its_rejection_truncated(
    api: ApiClient, f: IngestFactory
) -> None:
    deep: Any = "leaf"
    for _ in range(65):
        deep = {"a": deep}
    data = f.aoi_input(f.sns[0])
    data["payload"]["deep"] = deep  # 66 levels with the payload itself
    r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert (r["error"]["code"], r["error"]["details"]) == (
        "VALIDATION_FAILED",
        {"field": "payload", "max": 64},
    )
    assert r["rejection"]["input"]["payload"]["truncated"] is True
    assert r["rejection"]["replayable"] is False
    meta = f.aoi_input(f.sns[0]) | {"meta": deep}
    r = (await api.gql(INGEST, {"i": meta}))["ingestEvent"]
    assert r["error"]["details"]["field"] == "meta"
    mapping = await api.gql(
        """mutation($i: ExecutionConfigInput!) { setExecutionConfig(input: $i) {
             error { code details } } }""",
        {"i": {"routingCode": f.code("R"), "ingestMapping": deep}},
    )
    assert mapping["setExecutionConfig"]["error"]["details"]["field"] == "ingestMapping"


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
async def test_times_that_leave_the_calendar_in_utc_are_refused(
    api: ApiClient, f: IngestFactory, at: str
) -> None:
    r = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0]) | {"occurredAt": at}}))["ingestEvent"]
    assert (r["error"]["code"], r["error"]["details"]["field"]) == (
        "VALIDATION_FAILED",
        "occurredAt",
    )
    assert "1–9999" in r["error"]["message"] and r["rejection"] is not None
    (error,) = await api.errors(
        """mutation($i: WorkOrderInput!) { receiveWorkOrder(input: $i) { error { code } } }""",
        {"i": {"woNo": unique("WO"), "productCode": "P", "plannedQty": 1, "dueDate": at}},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "dueDate" in error["message"]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "cursor"),
    [
        ("ingestEvents", _b64("2026-01-01T00:00:00|5")),
        ("ingestRejections", _b64("2026-01-01T00:00:00+00:00|99999999999999999999")),
        ("auditEvents", _b64("0001-01-01T00:00:00+05:00|1")),
    ],
)
async def test_cursors_with_naive_times_or_huge_keys_are_bad_input(
    api: ApiClient, query: str, cursor: str
) -> None:
    (error,) = await api.errors(
        f"query($a: String) {{ {query}(after: $a) {{ edges {{ cursor }} }} }}", {"a": cursor}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("after: invalid cursor")


@pytest.mark.parametrize("field", ["trackId", "carrierTrackId"])
async def test_ids_past_64_bits_are_bad_input_naming_the_field(api: ApiClient, field: str) -> None:
    huge = "99999999999999999999"
    (error,) = await api.errors(
        "mutation($i: DeviceDataInput!) { recordDeviceData(input: $i) { error { code } } }",
        {
            "i": {
                "eventId": unique("D"),
                "eventTime": "2026-03-02T09:30:00+01:00",
                "source": "AUTO",
                "data": [{"specName": "X", "valueNumber": 1.0}],
                field: huge,
            }
        },
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["message"].startswith(field)
    (error,) = await api.errors(
        "mutation($id: ID!) { replayRejection(id: $id) { status } }", {"id": huge}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["message"].startswith("id:")
    found = await api.gql("query($id: ID!) { ingestEvent(id: $id) { id } }", {"id": huge})
    assert found == {"ingestEvent": None}


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1.5", ""])
async def test_replay_rejection_of_a_non_id_is_bad_input_naming_it(
    api: ApiClient, bad: str
) -> None:
    """Not "rejection -1 not found": the id as sent, and what an id is."""
    (error,) = await api.errors(
        "mutation($id: ID!) { replayRejection(id: $id) { status } }", {"id": bad}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"].startswith(f"id: {bad!r} is not an id"), error


async def test_source_system_and_dedupe_key_rules(api: ApiClient, f: IngestFactory) -> None:
    for source in ("AOI\u200b-1", "AOI 1", "AOI-\u00e9"[:-1] + "e\u0301"):
        r = await api.gql(INGEST, {"i": f.aoi_input(f.sns[0]) | {"sourceSystem": source}})
        assert r["ingestEvent"]["error"]["details"]["field"] == "sourceSystem", source
    bad_key = f.aoi_input(f.sns[0], key="key\twith tab")
    r = (await api.gql(INGEST, {"i": bad_key}))["ingestEvent"]
    assert r["error"]["details"]["field"] == "dedupeKey"
    spaced = f.aoi_input(f.sns[0], key=f"{unique('K')} with spaces and ünïcode")
    assert (await api.gql(INGEST, {"i": spaced}))["ingestEvent"]["status"] == "ACCEPTED"


async def test_a_body_nested_past_the_json_parser_is_a_bad_request(api: ApiClient) -> None:
    body = '{"query": "{ __typename }", "variables": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 400 and "nested too deeply" in response.text


async def test_the_sites_sn_pattern_narrows_registered_serial_numbers(
    services: Services, f: IngestFactory
) -> None:
    strict = bootstrap(
        Settings(
            database_url=str(services.engine.url),
            limits=Limits(sn_pattern=r"BRD\d{3}-\d{6}"),
        ),
        engine=services.engine,
    )
    # six characters, the last never a digit (six random hex digits are all digits 6% of the time)
    register = prod.RegisterUnits(run_no=f.run_no, sns=(f"BRD200-{unique('x')[-5:]}x",))
    with pytest.raises(DomainError) as refused:
        await strict.bus.handle(register, ACTOR)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert refused.value.details == {"field": "sns"}
    ok = f"BRD{uuid.uuid4().int % 1000:03d}-{uuid.uuid4().int % 10**6:06d}"
    units = await strict.bus.handle(prod.RegisterUnits(run_no=f.run_no, sns=(ok,)), ACTOR)
    assert [u.sn for u in units] == [ok]
    with pytest.raises(DomainError):  # generated SNs ({runNo}-000001) do not match either
        await strict.bus.handle(prod.RegisterUnits(run_no=f.run_no, count=1), ACTOR)
