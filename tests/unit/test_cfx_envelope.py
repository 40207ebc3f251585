"""IPC-CFX envelopes (issue 21): what an envelope becomes for the ingest pipeline, its event
type, its refusals; the `{"format": "CFX"}` mapping's compile rules and its measurement names."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from domain.cfx.envelope import CfxEnvelope, event_type_of, parse_time
from domain.cfx.meaning import cfx_step_mapping, measurement_names
from domain.enums import IngestEventType, StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.envelope import check_envelope
from domain.mapping.schema import mapping_problems
from domain.master import Station

CFX = Path(__file__).parent.parent / "fixtures" / "cfx"
TI = "CFX.Production.TestAndInspection"
ICT = Station("ICT-3", "ICT", StationType.TEST, cfx_handle="Vendor2.ICT.Machine03")
AOI = Station("AOI-2", "AOI", StationType.AUTO, cfx_handle="Vendor1.AOI.Machine02")
REWORK = Station("RW-1", "Rework", StationType.MANUAL)


def envelope(name: str) -> dict[str, Any]:
    return dict(json.loads((CFX / f"{name}.json").read_text()))


def test_an_envelope_is_source_unique_id_time_and_the_whole_envelope() -> None:
    raw = envelope(f"{TI}.UnitsTested")
    env = CfxEnvelope.parse(raw).ingest(IngestEventType.TEST, 123)
    assert (env.source_system, env.dedupe_key) == (raw["Source"], raw["UniqueID"])
    assert env.event_type is IngestEventType.TEST
    assert env.payload is raw  # the event keeps the whole envelope
    assert env.payload_bytes == 123
    # "2026-04-14T09:12:41.5531873-04:00": seven digits (.NET ticks) truncated to microseconds
    assert env.occurred_at == datetime(2026, 4, 14, 13, 12, 41, 553187, tzinfo=UTC)
    check_envelope(env, 1024 * 1024, 64)  # the ingest's own checks hold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-14T08:05:52.7710038-04:00", datetime(2026, 4, 14, 12, 5, 52, 771003, UTC)),
        ("2026-04-14T08:05:52.7710038+05:30", datetime(2026, 4, 14, 2, 35, 52, 771003, UTC)),
        ("2026-04-14T08:05:52.123456789Z", datetime(2026, 4, 14, 8, 5, 52, 123456, UTC)),
        ("2026-04-14T08:05:52Z", datetime(2026, 4, 14, 8, 5, 52, tzinfo=UTC)),
        ("2026-04-14T08:05:52.5-04:00", datetime(2026, 4, 14, 12, 5, 52, 500000, UTC)),
    ],
)
def test_times_as_dotnet_writes_them(text: str, expected: datetime) -> None:
    found, error = parse_time(text)
    assert error is None and found == expected
    assert found is not None and found.utcoffset() is not None


def test_offsets_are_kept() -> None:
    found, _ = parse_time("2026-04-14T08:05:52.7710038-04:00")
    assert found is not None and found.tzinfo == timezone(timedelta(hours=-4))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "occurredAt is required"),
        ("yesterday", "TimeStamp 'yesterday' is not an ISO-8601 date-time"),
        (20260414, "TimeStamp '20260414' is not an ISO-8601 date-time"),
        ("2026-04-14T08:05:52.7710038", "occurredAt has no UTC offset (naive times are refused)"),
    ],
)
def test_a_missing_or_bad_time_gets_the_ingest_refusal(value: Any, message: str) -> None:
    raw = {**envelope("CFX.Production.UnitsArrived"), "TimeStamp": value}
    env = CfxEnvelope.parse(raw).ingest(IngestEventType.INFO)
    with pytest.raises(DomainError) as err:
        check_envelope(env, 1024 * 1024, 64)
    assert err.value.code is ErrorCode.VALIDATION_FAILED
    assert err.value.message == message
    assert err.value.details == {"field": "occurredAt"}


@pytest.mark.parametrize(
    ("name", "station", "expected"),
    [
        (f"{TI}.UnitsTested", ICT, IngestEventType.TEST),
        (f"{TI}.UnitsInspected", AOI, IngestEventType.AUTO),
        ("CFX.Production.Processing.UnitsProcessed", AOI, IngestEventType.AUTO),
        # the start changes no unit; the completion writes the tracks (domain/cfx/pairing.py)
        ("CFX.Production.WorkStarted", AOI, IngestEventType.INFO),
        ("CFX.Production.WorkCompleted", AOI, IngestEventType.AUTO),
        ("CFX.Production.UnitsArrived", AOI, IngestEventType.INFO),
        ("CFX.Production.Assembly.MaterialsInstalled", AOI, IngestEventType.INFO),
        ("CFX.Vendor.SomethingNew", AOI, IngestEventType.INFO),
        (f"{TI}.UnitsTested", None, IngestEventType.INFO),  # no station: refused anyway
        (f"{TI}.UnitsTested", REWORK, IngestEventType.INFO),  # a MANUAL station sends none
    ],
)
def test_event_types(name: str, station: Station | None, expected: IngestEventType) -> None:
    assert event_type_of(name, station) is expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([1, 2], "envelope"),
        ("CFX", "envelope"),
        ({"Source": "Vendor1.AOI.Machine02", "MessageName": "CFX.Heartbeat"}, "UniqueID"),
        ({"UniqueID": "x", "Source": " ", "MessageName": "CFX.Heartbeat"}, "Source"),
        ({"UniqueID": 7, "Source": "Vendor1.AOI.Machine02"}, "UniqueID"),
    ],
)
def test_what_cannot_be_stored_is_refused_at_once(raw: Any, field: str) -> None:
    with pytest.raises(DomainError) as err:
        CfxEnvelope.parse(raw)
    assert err.value.code is ErrorCode.VALIDATION_FAILED
    assert err.value.details == {"field": field}


def test_without_message_name_or_station_refused_to_be_stored() -> None:
    raw = envelope("CFX.Production.UnitsArrived")
    del raw["MessageName"]
    cfx = CfxEnvelope.parse(raw)
    with pytest.raises(DomainError) as err:
        cfx.check(AOI)
    assert (err.value.code, err.value.details) == (
        ErrorCode.VALIDATION_FAILED,
        {"field": "MessageName"},
    )
    cfx = CfxEnvelope.parse(envelope("CFX.Production.UnitsArrived"))
    with pytest.raises(DomainError) as err:
        cfx.check(None)
    assert err.value.code is ErrorCode.STATION_NOT_FOUND
    assert err.value.details == {"cfxHandle": "Vendor6.Placer.Machine07"}
    cfx.check(AOI)  # known station, named message: for the pipeline


# ---------------------------------------------------------------- {"format": "CFX"}


@pytest.mark.parametrize(
    ("mapping", "station_type", "problems"),
    [
        ({"format": "CFX"}, StationType.TEST, []),
        ({"format": "CFX", "dataSpecMap": {"A": "B"}}, StationType.AUTO, []),
        (
            {"format": "CFX", "stationCodePath": "sourceSystem"},
            StationType.AUTO,
            ["format: a mapping with format has no other keys but dataSpecMap (stationCodePath)"],
        ),
        (
            {"format": "CFX"},
            StationType.BATCH,
            ["format: CFX reads AUTO and TEST steps' messages, not a BATCH step"],
        ),
        (
            {"format": "CFX"},
            None,
            ["format: CFX reads AUTO and TEST steps' messages, not an infoMapping"],
        ),
        (
            {"oneOf": [{"format": "CFX"}]},
            StationType.AUTO,
            ["oneOf.0: format is for a whole mapping, not an alternative"],
        ),
    ],
)
def test_compile_accepts_the_cfx_format_alone(
    mapping: dict[str, Any], station_type: StationType | None, problems: list[str]
) -> None:
    assert mapping_problems(mapping, station_type) == problems


def test_a_format_other_than_cfx_is_refused_by_the_schema() -> None:
    problems = mapping_problems({"format": "OPC-UA"}, StationType.AUTO)
    assert len(problems) == 1 and problems[0].startswith("format: 'OPC-UA' is not one of")


def _read(name: str, station_type: StationType) -> dict[tuple[str, int | None], dict[str, Any]]:
    raw = envelope(name)
    event_type = IngestEventType(station_type.value)
    root = CfxEnvelope.parse(raw).ingest(event_type).root()
    normalized = (
        cfx_step_mapping({"format": "CFX"}, station_type).pick(root).normalize(root, station_type)
    )
    return {(u.sn, u.position): {m.name: m.value for m in u.measurements} for u in normalized.units}


def test_a_measurement_is_named_by_its_test_only_where_tests_repeat_its_name() -> None:
    units = _read(f"{TI}.UnitsTested", StationType.TEST)
    board_1 = units[("PANEL34543535", 1)]
    assert board_1["RESISTANCE_MEASUREMENT_R21"] == 28300.0
    assert board_1["RESISTANCE_MEASUREMENT_R22"] == 28.52  # the symptom's related measurement
    assert board_1["RESISTANCE_CHECK_R22.RESFAIL2"] == "Resistance Value Out of Tolerance"
    # R21 measured again by board 1's second test: named by each test, on every board
    raw = envelope(f"{TI}.UnitsTested")
    tests = raw["MessageBody"]["TestedUnits"][0]["Tests"]
    tests[1]["Measurements"] = copy.deepcopy(tests[0]["Measurements"])
    tests[1]["Measurements"][0]["MeasuredValue"]["Value"] = 28310.0
    root = {"payload": raw}
    assert measurement_names(root) == {
        "RESISTANCE_CHECK_R22.RESISTANCE_MEASUREMENT_R22": "RESISTANCE_MEASUREMENT_R22"
    }
    root = CfxEnvelope.parse(raw).ingest(IngestEventType.TEST).root()
    mapping = cfx_step_mapping({"format": "CFX"}, StationType.TEST).pick(root)
    boards = {u.position: u for u in mapping.normalize(root, StationType.TEST).units}
    names = {m.name: m.value for m in boards[1].measurements}
    assert names["RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21"] == 28300.0
    assert names["RESISTANCE_CHECK_R22.RESISTANCE_MEASUREMENT_R21"] == 28310.0
    assert names["RESISTANCE_MEASUREMENT_R22"] == 28.52
    assert "RESISTANCE_CHECK_R21.RESISTANCE_MEASUREMENT_R21" in {
        m.name for m in boards[2].measurements
    }


def test_burn_in_hot_and_cold_readings_are_named_apart() -> None:
    units = _read(f"{TI}.UnitsTested.burn-in", StationType.TEST)
    values = units[("UNIT123456789", 1)]
    assert values["HOT_TEST.Temperature.Mean"] == 45.2
    assert values["COLD_TEST.Temperature.Mean"] == -6.5
    assert len(values) == 16
