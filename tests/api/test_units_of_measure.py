"""Units of measure through the ingest API on both databases (issue 19 item 5): a value in
another unit than its spec's is converted before judging and keeps its original; one that
cannot be converted is DATA_VALUE_INVALID naming both units."""

from __future__ import annotations

from typing import Any

import pytest

from domain.master import SpecLimits
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import IngestFactory
from tests.ingest_calls import ingest, move
from tests.queries import TRACE


@pytest.fixture
async def f(services: Services) -> IngestFactory:
    # the IPC-CFX example's resistor: measured in Ohm, its limits in kOhm
    factory = await IngestFactory(services.bus).build(
        units=3, r1_limits=SpecLimits(28.0, 28.4, "kOhm")
    )
    await move(services, factory.sns, 20)
    return factory


async def values_of(api: ApiClient, sn: str) -> dict[str, dict[str, Any]]:
    trace = (await api.gql(TRACE, {"sn": sn}))["unit"]
    [track] = trace["tracks"]
    return {v["specName"]: v for v in track["dataValues"]}


async def test_28300_ohm_against_limits_in_kohm_passes_both_boards(
    api: ApiClient, f: IngestFactory
) -> None:
    boards: list[tuple[str, str, float, float | None]] = [
        (f.sns[0], "Passed", 28300.0, 3.31),
        (f.sns[1], "Passed", 28300.0, 3.30),
    ]
    r = await ingest(api, f.ict_input(boards))
    assert r["status"] == "ACCEPTED", r["error"]
    assert [t["result"] for t in r["event"]["tracks"]] == ["PASS", "PASS"]
    for sn in f.sns[:2]:
        values = await values_of(api, sn)
        r1, vcc = values["R1"], values["VCC"]
        assert (r1["valueNumber"], r1["valueUnit"], r1["judge"]) == (28.3, "kOhm", "PASS")
        assert (r1["originalValue"], r1["originalUnit"]) == (28300.0, "Ohm")
        # already in its spec's unit: as sent, no original
        assert (vcc["valueNumber"], vcc["valueUnit"]) == (3.31 if sn == f.sns[0] else 3.30, "V")
        assert (vcc["originalValue"], vcc["originalUnit"]) == (None, None)


async def test_a_converted_value_outside_the_limits_fails(api: ApiClient, f: IngestFactory) -> None:
    r = await ingest(api, f.ict_input([(f.sns[0], "Passed", 29.1, 3.31)], r1_unit="kΩ"))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["result"] == "FAIL"  # R1 is a KEY spec: FAIL turns the PASS into FAIL
    r = await ingest(api, f.ict_input([(f.sns[1], "Passed", 27_900_000.0, 3.31)], r1_unit="mOhm"))
    r1 = (await values_of(api, f.sns[1]))["R1"]
    assert (r1["valueNumber"], r1["judge"], r1["originalUnit"]) == (27.9, "FAIL", "mOhm")


async def test_a_value_in_the_specs_unit_is_stored_as_sent(
    api: ApiClient, f: IngestFactory
) -> None:
    r = await ingest(api, f.ict_input([(f.sns[0], "Passed", 28.2, 3.31)], r1_unit="kOhm"))
    assert r["status"] == "ACCEPTED", r["error"]
    r1 = (await values_of(api, f.sns[0]))["R1"]
    assert (r1["valueNumber"], r1["valueUnit"], r1["judge"]) == (28.2, "kOhm", "PASS")
    assert (r1["originalValue"], r1["originalUnit"]) == (None, None)


@pytest.mark.parametrize(("unit", "why"), [("mV", "different things"), ("bogons", "unknown")])
async def test_a_unit_that_cannot_be_converted_is_refused_naming_both(
    api: ApiClient, f: IngestFactory, unit: str, why: str
) -> None:
    r = await ingest(api, f.ict_input([(f.sns[0], "Passed", 28300.0, 3.31)], r1_unit=unit))
    assert r["status"] == "REJECTED"
    error = r["error"]
    assert error["code"] == "DATA_VALUE_INVALID"
    assert unit in error["message"] and "kOhm" in error["message"] and why in error["message"]
    assert error["details"]["unit"] == unit and error["details"]["specUnit"] == "kOhm"
    assert error["details"]["specName"] == "R1" and error["details"]["sn"] == f.sns[0]
