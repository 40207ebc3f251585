"""Limits the machine sends judge a value without spec limits, after converting it into their
unit; names without a spec are stored, ignored or refused by the mapping's unmappedNames
(issue 19 item 4), through GraphQL on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import AOI_MAPPING, IngestFactory
from tests.queries import INGEST, TRACE

LIMITED: dict[str, Any] = {
    **AOI_MAPPING,
    "measurements": {
        **AOI_MAPPING["measurements"],
        "lowLimitPath": "lo",
        "highLimitPath": "hi",
        "expectedPath": "nom",
        "limitUnitPath": "limUom",
    },
}
#: features without a spec, with the machine's limits: 0.12 mm is 120 um (inside 100-150 um);
#: 3.1 is over 3 (no unit: the limits are in the value's); a sent limit never overrules
#: VoidRatio's spec limits (0-25 %)
FEATURES = [
    {"key": "height", "val": 0.12, "uom": "mm", "lo": 100, "hi": 150, "nom": 125, "limUom": "um"},
    {"key": "width", "val": 3.1, "lo": 1, "hi": 3},
    {"key": "void_pct", "val": 12.5, "uom": "%", "lo": 0, "hi": 5},
]


async def build(services: Services, mapping: dict[str, Any]) -> IngestFactory:
    return await IngestFactory(services.bus).build(units=1, aoi_mapping=mapping)


async def test_sent_limits_judge_values_without_spec_limits(
    api: ApiClient, services: Services
) -> None:
    f = await build(services, LIMITED)
    data = f.aoi_input(f.sns[0])
    data["payload"]["features"] = [*FEATURES, {"key": "img", "val": "s3://x.png"}]
    r = (await api.gql(INGEST, {"i": data}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["normalized"]["unmapped"] == ["height", "width"]
    [track] = (await api.gql(TRACE, {"sn": f.sns[0]}))["unit"]["tracks"]
    assert track["result"] == "PASS"  # the failed values are observations without a spec
    got = {v["specName"]: v for v in track["dataValues"]}
    height, width, void = got["height"], got["width"], got["VoidRatio"]
    assert (height["valueNumber"], height["valueUnit"], height["judge"]) == (120.0, "um", "PASS")
    assert (height["originalValue"], height["originalUnit"]) == (0.12, "mm")
    assert (height["lowLimit"], height["highLimit"], height["expected"]) == (100.0, 150.0, 125.0)
    assert height["limitUnit"] == "um"
    assert (width["dataType"], width["judge"], width["originalValue"]) == ("NUMBER", "FAIL", None)
    assert (width["lowLimit"], width["highLimit"], width["limitUnit"]) == (1.0, 3.0, None)
    # the spec's limits stay the authority: 12.5 % passes them, whatever the machine's 0-5
    assert (void["judge"], void["highLimit"], void["limitUnit"]) == ("PASS", 5.0, "%")
    assert got["Snapshot"]["lowLimit"] is None


@pytest.mark.parametrize(("policy", "count"), [("STORE", 3), ("IGNORE", 2)])
async def test_unmapped_names_store_or_ignore(
    api: ApiClient, services: Services, policy: str, count: int
) -> None:
    f = await build(services, {**AOI_MAPPING, "unmappedNames": policy})
    r = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0])}))["ingestEvent"]
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["normalized"]["unmapped"] == ["lamp_hours"]
    assert r["event"]["dataValueCount"] == count


async def test_unmapped_names_refuse_the_event(api: ApiClient, services: Services) -> None:
    f = await build(services, {**AOI_MAPPING, "unmappedNames": "REFUSE"})
    r = (await api.gql(INGEST, {"i": f.aoi_input(f.sns[0])}))["ingestEvent"]
    assert r["status"] == "REJECTED"
    assert r["error"]["code"] == "INGEST_PAYLOAD_INVALID"
    assert r["error"]["details"]["measurement"] == "lamp_hours"
    trace = (await api.gql(TRACE, {"sn": f.sns[0]}))["unit"]
    assert trace["tracks"] == []
