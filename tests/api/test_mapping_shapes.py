"""`oneOf` mappings and `operatorPath` through GraphQL on both databases (issue 19 item 6): an
AUTO event is read by the alternative that finds its units, the event's normalized payload
names it, and the track carries the operator the machine named."""

from __future__ import annotations

from typing import Any

from domain import master as dm
from domain.usecases import master_data as md
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import AOI_MAPPING, IngestFactory
from tests.queries import INGEST, TRACE

#: the AOI's per-board form: a list of boards, each with its features and its operator
PER_BOARD: dict[str, Any] = {
    "eventType": "AUTO",
    "stationCodePath": "payload.station",
    "operatorPath": "payload.Inspector.OperatorIdentifier",
    "result": {"passValues": ["OK"], "failValues": ["NG"]},
    "units": {
        "itemsPath": "payload.boards[*]",
        "snPath": "id",
        "resultPath": "judgement",
        "operatorPath": "checkedBy",
        "measurements": {"itemsPath": "features[*]", "namePath": "key", "valuePath": "val"},
    },
    "dataSpecMap": AOI_MAPPING["dataSpecMap"],
}
#: the same AOI's one-board form (the factory's), with the operator at the top
ONE_BOARD = {**AOI_MAPPING, "operatorPath": "payload.Inspector.OperatorIdentifier"}
AOI = {"oneOf": [PER_BOARD, ONE_BOARD]}


async def _ingest(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    r = dict((await api.gql(INGEST, {"i": data}))["ingestEvent"])
    assert r["status"] == "ACCEPTED", r["error"]
    return r


def _per_board(f: IngestFactory, sns: list[str]) -> dict[str, Any]:
    data = f.aoi_input(sns[0])
    data["payload"] = {
        "station": f.code("AOI-1"),
        "Inspector": {"OperatorIdentifier": "BADGE489499"},
        "boards": [
            {
                "id": sn,
                "judgement": "OK",
                "features": [{"key": "void_pct", "val": 10.0}],
                **({"checkedBy": "BADGE7"} if n else {}),
            }
            for n, sn in enumerate(sns)
        ],
    }
    return data


async def _operators(api: ApiClient, sn: str) -> list[str | None]:
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    return [t["operatorId"] for t in trace["tracks"]]


async def test_an_auto_event_is_read_by_the_alternative_that_finds_its_units(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=3, aoi_mapping=AOI)
    r = await _ingest(api, _per_board(f, f.sns[:2]))
    assert r["event"]["normalized"]["mappingAlternative"] == 0
    assert r["event"]["snList"] == f.sns[:2]
    assert [u["operatorId"] for u in r["event"]["normalized"]["units"]] == [
        "BADGE489499",
        "BADGE7",
    ]
    assert await _operators(api, f.sns[0]) == ["BADGE489499"]
    assert await _operators(api, f.sns[1]) == ["BADGE7"]  # the board's own comes first
    one = f.aoi_input(f.sns[2])
    one["payload"]["Inspector"] = {"OperatorIdentifier": "BADGE489435"}
    r = await _ingest(api, one)
    assert r["event"]["normalized"]["mappingAlternative"] == 1
    assert await _operators(api, f.sns[2]) == ["BADGE489435"]


async def test_a_run_keeps_its_versions_one_of_after_a_recompile(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=2, aoi_mapping=AOI)
    cfg = dm.ExecutionConfig(
        f.code("R"), step_no=10, station_group_code=f.code("AOI-G"), ingest_mapping=AOI_MAPPING
    )
    await f.do(md.SetExecutionConfig(cfg))
    assert (await f.do(md.CompileRouting(f.code("R")))).is_ready
    r = await _ingest(api, _per_board(f, f.sns))  # the run's version still reads per board
    assert r["event"]["normalized"]["mappingAlternative"] == 0


async def test_a_single_mapping_names_no_alternative_nor_operator(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    r = await _ingest(api, f.aoi_input(f.sns[0]))
    assert r["event"]["normalized"]["mappingAlternative"] is None
    assert await _operators(api, f.sns[0]) == [None]


async def test_an_operator_that_is_not_a_string_is_refused(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1, aoi_mapping=AOI)
    data = f.aoi_input(f.sns[0])
    data["payload"]["Inspector"] = {"OperatorIdentifier": 489499}
    r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "INGEST_PAYLOAD_INVALID")
    assert r["error"]["details"]["path"] == "payload.Inspector.OperatorIdentifier"
