"""Tester errors are not failures (issue 16 item 4, DOMAIN.md §6 "Track results"): the result
ERROR keeps its values and the attempt it interrupted, does not count toward maxAttempts and
leaves the unit QUEUED at its step. Over the fakes."""

from __future__ import annotations

import pytest

from domain.enums import IngestStatus, Judge, StationType, TrackResult, UnitStatus
from domain.ingest.pipeline import IngestService, MappingCache
from domain.lifecycle import event_result
from domain.limits import Limits
from domain.mapping.normalize import IngestMapping
from domain.mapping.vocabulary import to_judge, to_result
from domain.usecases import manual_execution as ex
from tests.fakes import FakeClock, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, ICT_MAPPING, IngestFactory

P, F, E = TrackResult.PASS, TrackResult.FAIL, TrackResult.ERROR


@pytest.mark.parametrize("word", ["ERROR", "Errored", "aborted", " ABORTED "])
def test_the_built_in_error_words_are_case_insensitive(word: str) -> None:
    assert to_result(word) is E


def test_the_mappings_own_error_values_come_first() -> None:
    assert to_result("FixtureFault", error_values=["fixturefault"]) is E
    assert to_result("FixtureFault") is None
    # the mapping's own lists win over the built-in words
    assert to_result("Aborted", fail_values=["ABORTED"]) is F


def test_an_error_word_as_a_judge_is_na() -> None:
    assert to_judge("ERROR") is Judge.NA


@pytest.mark.parametrize(
    ("results", "expected"),
    [((P, P), P), ((P, E), E), ((E, F), F), ((F, P, E), F), ((E,), E), ((), P)],
)
def test_an_events_result(results: tuple[TrackResult, ...], expected: TrackResult) -> None:
    assert event_result(results) is expected


def test_the_mapping_reads_error_values() -> None:
    mapping = IngestMapping.parse(
        {**ICT_MAPPING, "result": {**ICT_MAPPING["result"], "errorValues": ["FixtureFault"]}}
    )
    root = {
        "payload": {
            "Source": "ICT-1",
            "MessageBody": {
                "TransactionId": "T1",
                "TestedUnits": [
                    {"UnitIdentifier": "A", "OverallResult": "fixturefault"},
                    {"UnitIdentifier": "B", "OverallResult": "Passed"},
                ],
            },
        }
    }
    normalized = mapping.normalize(root, StationType.TEST)
    assert [u.result for u in normalized.units] == [E, P]
    assert normalized.result is E


def _ict(f: IngestFactory, sn: str, result: str, key: str) -> dict[str, object]:
    return f.ict_input([(sn, result, 1000.0, 3.3)], key=key)


async def test_an_error_track_keeps_its_attempt_and_does_not_use_up_max_attempts() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    sn = f.sns[0]
    assert (await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)).status.value == "ACCEPTED"
    # maxAttempts is 1 at ICT: two tester errors, then the real FAIL still has attempt 1
    for key, word in (("E1", "Aborted"), ("E2", "ERROR")):
        out = await service.ingest(f.envelope(_ict(f, sn, word, f.code(key))), ACTOR)
        assert out.status is IngestStatus.ACCEPTED, out.error
        assert out.event is not None and out.event.result is E
        unit = store.units[sn]
        assert (unit.status, unit.current_step_no, unit.step_fails) == (UnitStatus.QUEUED, 20, 0)
    ict_tracks = [t for t in store.tracks if t.step_no == 20]
    assert [(t.result, t.attempt) for t in ict_tracks] == [(E, 1), (E, 1)]
    # the ERROR tracks keep the tester's values
    track_ids = {t.id for t in ict_tracks}
    assert len([v for v in store.values if v.track_id in track_ids]) == 4
    out = await service.ingest(f.envelope(_ict(f, sn, "Failed", f.code("F1"))), ACTOR)
    assert out.event is not None and out.event.result is F
    ict_tracks = [t for t in store.tracks if t.step_no == 20]
    assert [(t.result, t.attempt) for t in ict_tracks][-1] == (F, 1)
    assert store.units[sn].status is UnitStatus.OUT_FAILED


async def test_an_event_with_an_errored_and_a_passed_board_is_error_a_failed_one_fail() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=3)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    for sn in f.sns:
        await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)
    a, b, c = f.sns
    mixed = f.ict_input([(a, "Passed", 1000.0, 3.3), (b, "Aborted", 1000.0, 3.3)])
    out = await service.ingest(f.envelope(mixed), ACTOR)
    assert out.event is not None and out.event.result is E
    assert out.event.normalized is not None
    assert [u["result"] for u in out.event.normalized["units"]] == ["PASS", "ERROR"]
    assert (store.units[a].current_step_no, store.units[b].current_step_no) == (30, 20)
    worse = f.ict_input([(b, "Aborted", 1000.0, 3.3), (c, "Failed", 1000.0, 3.3)])
    out = await service.ingest(f.envelope(worse), ACTOR)
    assert out.event is not None and out.event.result is F


async def test_a_key_failure_leaves_an_error_an_error() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    sn = f.sns[0]
    await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)
    # R1 is a KEY spec out of limits: a PASS would become FAIL, an ERROR stays ERROR
    out = await service.ingest(f.envelope(f.ict_input([(sn, "Aborted", 5.0, 3.3)])), ACTOR)
    assert out.event is not None and out.event.result is E
    assert store.units[sn].status is UnitStatus.QUEUED


async def test_a_manual_track_out_may_record_error() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    sn = f.sns[0]
    await service.ingest(f.envelope(f.aoi_input(sn)), ACTOR)
    await service.ingest(f.envelope(_ict(f, sn, "Passed", f.code("P1"))), ACTOR)
    assert store.units[sn].current_step_no == 30
    station = f.code("PACK-1")
    await f.do(ex.TrackIn(station, f.run_no, sn))
    done = await f.do(ex.TrackOut(station, f.run_no, sn, E))
    assert (done.track.result, done.track.attempt) == (E, 1)
    assert (done.unit.status, done.unit.current_step_no) == (UnitStatus.QUEUED, 30)
    again = await f.do(ex.TrackIn(station, f.run_no, sn))
    assert again.track.attempt == 1
