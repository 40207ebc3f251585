"""`result.skipValues` (issue 19 item 3): a board the machine skipped becomes X_OUT, with a
disposition naming the event, and gets no track; a unit of no panel gets an ERROR track.
The vocabulary, the mapping's reading, compile's refusals and the writes, over the fakes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domain import master as dm
from domain.enums import (
    DispositionAction,
    IngestStatus,
    RouteVersionStatus,
    StationType,
    TrackResult,
    UnitStatus,
)
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService, MappingCache
from domain.limits import Limits
from domain.mapping.normalize import IngestMapping
from domain.mapping.schema import mapping_problems
from domain.mapping.vocabulary import is_skip, to_result
from domain.panels import PanelSpec
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases.carriers import LoadCarrier
from tests.cfx_messages import body
from tests.compile_inputs import REFLOW_MAPPING, compiled, config, with_step
from tests.fakes import FakeClock, FakeStore, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, AOI_MAPPING, AT, ICT_MAPPING, IngestFactory, envelope
from tests.panel_builders import AOI, SKIP_AOI, SKIPS

# ---------------------------------------------------------------- the vocabulary


@pytest.mark.parametrize("value", ["Skipped", " skipped ", "XOUT", "xout"])
def test_a_skip_value_is_matched_case_insensitively(value: str) -> None:
    assert is_skip(value, SKIPS)


def test_there_are_no_built_in_skip_words() -> None:
    assert not is_skip("Skipped")
    assert not is_skip("Passed", SKIPS) and not is_skip(None, SKIPS)
    assert to_result("Skipped") is None


def _aoi_root(*results: str) -> dict[str, Any]:
    units = [
        {"UnitIdentifier": "PNL", "UnitPositionNumber": n, "OverallResult": r, "Inspections": []}
        for n, r in enumerate(results, 1)
    ]
    return {"sourceSystem": "AOI-1", "payload": {"InspectedUnits": units}}


def test_the_mapping_reads_a_skip_value_per_unit_as_no_verdict() -> None:
    mapping = IngestMapping.parse(SKIP_AOI["oneOf"][0])
    normalized = mapping.normalize(_aoi_root("Passed", "skipped"), StationType.AUTO)
    assert [(u.result, u.skipped) for u in normalized.units] == [
        (TrackResult.PASS, None),
        (TrackResult.ERROR, "skipped"),
    ]
    # the event's result is over the verdicts: a skipped board gives none
    assert normalized.result is TrackResult.PASS


def test_the_mapping_reads_a_skip_value_at_event_level() -> None:
    mapping = IngestMapping.parse(SKIP_AOI["oneOf"][1])
    panel = {"UnitIdentifier": "PNL", "OverallResult": "XOut"}
    root = {"sourceSystem": "AOI-1", "payload": {"InspectedPanel": panel}}
    (reading,) = mapping.normalize(root, StationType.AUTO).units
    assert (reading.sn, reading.skipped) == ("PNL", "XOut")


def test_without_skip_values_a_skip_word_is_refused_naming_the_lists() -> None:
    mapping = IngestMapping.parse(AOI["oneOf"][0])
    with pytest.raises(DomainError) as refused:
        mapping.normalize(_aoi_root("Skipped"), StationType.AUTO)
    assert refused.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert "skipValues" not in (refused.value.details or {})
    with pytest.raises(DomainError) as refused:
        IngestMapping.parse(SKIP_AOI["oneOf"][0]).normalize(_aoi_root("Maybe"), StationType.AUTO)
    assert (refused.value.details or {})["skipValues"] == SKIPS


def test_a_batch_carriers_own_result_is_never_a_skip() -> None:
    # compile refuses skipValues there; a stored mapping past compile still reads no skip
    raw = {**REFLOW_MAPPING, "result": {**REFLOW_MAPPING["result"], "skipValues": ["SKIP"]}}
    root = {"payload": {"oven": "OV-1", "carrier": "C1", "status": "SKIP", "profile": []}}
    with pytest.raises(DomainError) as refused:
        IngestMapping.parse(raw).normalize(root, StationType.BATCH)
    assert refused.value.code is ErrorCode.INGEST_PAYLOAD_INVALID


# ---------------------------------------------------------------- compile


def _aoi_with(result: dict[str, Any]) -> dict[str, Any]:
    return {**AOI_MAPPING, "result": {**AOI_MAPPING["result"], **result}}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"skipValues": ["ok"]}, "result.skipValues: 'ok' is also in result.passValues"),
        ({"skipValues": ["NG"]}, "result.skipValues: 'NG' is also in result.failValues"),
        (
            {"skipValues": ["Skip"], "errorValues": [" SKIP"]},
            "result.skipValues: 'Skip' is also in result.errorValues",
        ),
        ({"skipValues": [1]}, "result.skipValues.0: 1 is not of type 'string'"),
        ({"skipValues": [""]}, "result.skipValues.0: '' should be non-empty"),
        ({"skipValues": "Skipped"}, "result.skipValues: 'Skipped' is not of type 'array'"),
        ({"skipValues": ["S"] * 51}, "result.skipValues: ['S', "),
    ],
    ids=["pass", "fail", "error", "number", "empty", "not-a-list", "too-many"],
)
def test_compile_refuses_a_skip_value_that_is_not_one(
    result: dict[str, Any], expected: str
) -> None:
    problems = mapping_problems(_aoi_with(result), StationType.AUTO)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    version = compiled(configs=with_step(10, ingest_mapping=_aoi_with(result)))
    assert version.status is RouteVersionStatus.INVALID
    assert {(e.step_no, e.code) for e in version.errors} == {(10, "INGEST_MAPPING_INVALID")}


def test_compile_accepts_skip_values_and_refuses_them_on_a_carriers_result() -> None:
    assert mapping_problems(_aoi_with({"skipValues": SKIPS}), StationType.AUTO) == []
    assert mapping_problems(SKIP_AOI, StationType.AUTO) == []
    oven = {**REFLOW_MAPPING, "result": {**REFLOW_MAPPING["result"], "skipValues": ["SKIP"]}}
    version = compiled(
        steps=((10, "REFLOW"),),
        configs=[config(step_no=10, station_group_code="OVEN-G", ingest_mapping=oven)],
    )
    assert version.status is RouteVersionStatus.INVALID
    assert [(e.code, e.message) for e in version.errors] == [
        (
            "INGEST_MAPPING_INVALID",
            "ingestMapping result.skipValues: a BATCH mapping without units reads the "
            "carrier's result; skipValues mark boards (read them per board with units)",
        )
    ]
    per_board = {**oven, "units": {"itemsPath": "payload.boards[*]", "snPath": "sn"}}
    assert mapping_problems(per_board, StationType.BATCH) == []


# ---------------------------------------------------------------- the writes


async def _panel(
    panel: str = "PNL", positions: int = 2
) -> tuple[IngestFactory, FakeStore, IngestService]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1, aoi_mapping=SKIP_AOI, aoi_required=False)
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(f.code(panel), positions),)))
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    return f, store, service


def _inspected(f: IngestFactory, panel: str, *results: str, key: str = "K1") -> dict[str, Any]:
    message = copy.deepcopy(body("UnitsInspected"))
    for unit, result in zip(message["InspectedUnits"], results, strict=True):
        unit["UnitIdentifier"] = panel
        unit["OverallResult"] = result
    return {
        "sourceSystem": f.code("AOI-1"),
        "dedupeKey": f.code(key),
        "eventType": "AUTO",
        "occurredAt": AT,
        "payload": message,
    }


async def _ingest(service: IngestService, data: dict[str, Any]) -> IngestOutcome:
    return await service.ingest(envelope(data), ACTOR)


async def test_a_skipped_board_is_x_out_with_a_disposition_naming_the_event() -> None:
    f, store, service = await _panel()
    panel = f.code("PNL")
    data = _inspected(f, panel, "Passed", "Skipped")
    out = await _ingest(service, data)
    assert out.status is IngestStatus.ACCEPTED, out.error
    one, two = f"{panel}-1", f"{panel}-2"
    assert (store.units[one].status, store.units[one].current_step_no) == (UnitStatus.QUEUED, 20)
    assert (store.units[two].status, store.units[two].current_step_no) == (UnitStatus.X_OUT, 10)
    assert [t.unit_sn for t in store.tracks] == [one]
    (d,) = store.dispositions
    assert (d.unit_id, d.action, d.from_status, d.to_status) == (
        store.units[two].id,
        DispositionAction.X_OUT,
        UnitStatus.QUEUED,
        UnitStatus.X_OUT,
    )
    assert (d.from_step_no, d.to_step_no, d.operator_id) == (10, 10, "BADGE489499")
    assert d.reason == (
        f"marked X_OUT by event {data['sourceSystem']}/{data['dedupeKey']} at step 10 "
        "(result 'Skipped')"
    )
    assert out.event is not None and out.event.normalized is not None
    assert d.at == out.event.occurred_at
    assert out.event.sn_list == (one, two) and out.event.result is TrackResult.PASS
    assert [(u["sn"], u["result"], u.get("skipped")) for u in out.event.normalized["units"]] == [
        (one, "PASS", None),
        (two, "X_OUT", "Skipped"),
    ]
    # a later event that names the panel (ICT, no positions) leaves the X_OUT board out
    out = await _ingest(service, f.ict_input([(panel, "Passed", 1000.0, 3.3)]))
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.sn_list == (one,)
    assert [(t.unit_sn, t.step_no) for t in store.tracks] == [(one, 10), (one, 20)]
    # named by its position it is left out; the other board has moved on (STEP_MISMATCH)
    out = await _ingest(service, _inspected(f, panel, "Passed", "Skipped", key="K3"))
    assert out.error is not None and out.error.code is ErrorCode.STEP_MISMATCH
    assert (out.error.details or {})["sn"] == one


async def test_an_event_whose_every_board_is_skipped_is_accepted_without_tracks() -> None:
    f, store, service = await _panel()
    panel = f.code("PNL")
    # a board on a carrier leaves it when marked X_OUT (no carrier event finds it loaded)
    await f.do(LoadCarrier(f.code("CAR"), (f"{panel}-1",)))
    assert [ld.unloaded_at for ld in store.loads] == [None]
    out = await _ingest(service, _inspected(f, panel, "XOUT", "skipped"))
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert store.tracks == [] and len(store.dispositions) == 2
    assert {store.units[f"{panel}-{n}"].status for n in (1, 2)} == {UnitStatus.X_OUT}
    assert out.event is not None and out.event.sn_list == (f"{panel}-1", f"{panel}-2")
    assert out.event.result is None  # no board was judged
    assert [ld.unloaded_at for ld in store.loads] == [out.event.occurred_at]


async def test_a_skipped_unit_of_no_panel_records_an_error_track() -> None:
    bus, store = fake_bus()
    mapping = {**AOI_MAPPING, "result": {**AOI_MAPPING["result"], "skipValues": SKIPS}}
    f = await IngestFactory(bus).build(units=1, aoi_mapping=mapping)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    sn = f.sns[0]
    out = await _ingest(service, f.aoi_input(sn, judgement="Skipped"))
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.result is TrackResult.ERROR
    assert out.event.normalized is not None
    assert out.event.normalized["units"][0]["skipped"] == "Skipped"
    assert [t.result for t in store.tracks] == [TrackResult.ERROR]
    assert (store.units[sn].status, store.units[sn].current_step_no) == (UnitStatus.QUEUED, 10)
    assert store.dispositions == []


async def test_a_resent_test_result_with_a_skipped_board_is_a_duplicate() -> None:
    bus, store = fake_bus()
    ict = {**ICT_MAPPING, "result": {**ICT_MAPPING["result"], "skipValues": SKIPS}}
    f = await IngestFactory(bus).build(units=1)
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                f.code("R"), step_no=20, station_group_code=f.code("ICT-G"), ingest_mapping=ict
            )
        )
    )
    assert (await f.do(md.CompileRouting(f.code("R")))).is_ready
    run = await f.do(prod.CreateRun(f.code("WO"), f.code("L"), 2, run_no=f.code("RUN2")))
    await f.do(prod.AuthorizeRun(run.run_no))
    panel = f.code("TP")
    await f.do(prod.RegisterUnits(run.run_no, panels=(PanelSpec(panel, 2),)))
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    one, two = f"{panel}-1", f"{panel}-2"
    for sn in (one, two):
        assert (await _ingest(service, f.aoi_input(sn))).status is IngestStatus.ACCEPTED
    data = f.ict_input([(one, "Passed", 1000.0, 3.3), (two, "Skipped", 1000.0, 3.3)])
    first = await _ingest(service, data)
    assert first.status is IngestStatus.ACCEPTED, first.error
    assert store.units[two].status is UnitStatus.X_OUT
    # the same tester result under another dedupe key: the same event, not UNIT_X_OUT
    resent = await _ingest(service, {**data, "dedupeKey": f.code("K-AGAIN")})
    assert resent.status is IngestStatus.DUPLICATE, resent.error
    assert resent.event is not None and first.event is not None
    assert resent.event.id == first.event.id


async def test_a_panel_level_skip_marks_every_live_board() -> None:
    f, store, service = await _panel(positions=3)
    panel = f.code("PNL")
    message = copy.deepcopy(body("UnitsInspected.panel"))
    message["InspectedPanel"].update(UnitIdentifier=panel, OverallResult="Skipped")
    data = {**_inspected(f, panel, "Passed", "Passed"), "payload": message}
    out = await _ingest(service, data)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert {store.units[f"{panel}-{n}"].status for n in (1, 2, 3)} == {UnitStatus.X_OUT}
    assert store.tracks == [] and len(store.dispositions) == 3
