"""Machine tracks keep a duration when the machine says one (issue 16 item 12): the mapping's
optional `startedAtPath` is the track's inAt; occurredAt stays its outAt. Over the fakes."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.enums import IngestStatus, StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.mapping.normalize import IngestMapping
from tests.fakes import FakeClock, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, AOI_MAPPING, TIMED, IngestFactory


def _root(**payload: object) -> dict[str, object]:
    base = {"station": "AOI-1", "pcb": {"id": "B1"}, "judgement": "OK"}
    return {"occurredAt": "2026-03-02T08:15:03+01:00", "payload": {**base, **payload}}


def test_the_mapping_reads_the_start_time() -> None:
    mapping = IngestMapping.parse(TIMED)
    n = mapping.normalize(
        _root(startedAt="2026-03-02T08:14:00+01:00", endedAt="2026-03-02T08:15:00+01:00"),
        StationType.AUTO,
    )
    assert n.started_at == datetime.fromisoformat("2026-03-02T08:14:00+01:00")
    # nothing at the path: no start time (the track gets no duration)
    assert mapping.normalize(_root(), StationType.AUTO).started_at is None
    assert IngestMapping.parse(AOI_MAPPING).normalize(_root(), StationType.AUTO).started_at is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"startedAt": "08:14"}, "not ISO-8601"),
        ({"startedAt": "2026-03-02T08:14:00"}, "no UTC offset"),
        ({"startedAt": 17}, "not an ISO-8601 string"),
        # after the envelope's occurredAt (no endedAt in the payload)
        ({"startedAt": "2026-03-02T08:16:00+01:00"}, "is after the event's occurredAt"),
        (
            {"startedAt": "2026-03-02T08:14:00+01:00", "endedAt": "2026-03-02T08:13:00+01:00"},
            "is after the event's occurredAt",
        ),
    ],
)
def test_a_bad_start_time_is_payload_invalid(payload: dict[str, object], words: str) -> None:
    with pytest.raises(DomainError) as err:
        IngestMapping.parse(TIMED).normalize(_root(**payload), StationType.AUTO)
    assert err.value.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert words in err.value.message and "startedAt" in err.value.message
    assert err.value.details is not None and err.value.details["path"] == "payload.startedAt"


async def test_the_track_keeps_the_machines_duration() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2, aoi_mapping=TIMED)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    a, b = f.sns
    timed = f.aoi_input(a, extra=None)
    timed["payload"] |= {
        "startedAt": "2026-03-02T08:14:20+01:00",
        "endedAt": "2026-03-02T08:15:02+01:00",
    }
    out = await service.ingest(f.envelope(timed), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.normalized is not None
    assert out.event.normalized["startedAt"] == "2026-03-02T08:14:20+01:00"
    track = store.tracks[-1]
    assert (track.in_at, track.out_at) == (
        datetime.fromisoformat("2026-03-02T08:14:20+01:00"),
        datetime.fromisoformat("2026-03-02T08:15:02+01:00"),
    )
    # a machine that sends no start time: inAt = outAt as before
    out = await service.ingest(f.envelope(f.aoi_input(b)), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert store.tracks[-1].in_at == store.tracks[-1].out_at


async def test_a_start_after_the_end_is_refused_and_writes_nothing() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1, aoi_mapping=TIMED)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    late = f.aoi_input(f.sns[0])
    late["payload"]["startedAt"] = "2026-03-02T09:00:00+01:00"
    out = await service.ingest(f.envelope(late), ACTOR)
    assert out.status is IngestStatus.REJECTED
    assert out.error is not None and out.error.code is ErrorCode.INGEST_PAYLOAD_INVALID
    assert store.tracks == [] and len(store.rejections) == 1
