"""The pipeline over the fakes: the use case needs no database (and breaks when a port does)."""

from __future__ import annotations

from domain.enums import IngestStatus, UnitStatus
from domain.ingest.pipeline import IngestService, MappingCache
from domain.usecases.bus import Limits
from tests.fakes import FakeClock, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


async def test_accept_duplicate_and_refusal_through_fakes() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2)
    service = IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache())
    env = f.envelope(f.aoi_input(f.sns[0]))
    accepted = await service.ingest(env, ACTOR)
    assert accepted.status is IngestStatus.ACCEPTED, accepted.error
    assert (await service.ingest(env, ACTOR)).status is IngestStatus.DUPLICATE
    assert store.units[f.sns[0]].status is UnitStatus.QUEUED
    assert store.units[f.sns[0]].current_step_no == 20
    assert len(store.tracks) == 1 and len(store.values) == 2
    refused = await service.ingest(f.envelope(f.aoi_input(f.sns[1], station=f.code("NOPE"))), ACTOR)
    assert refused.status is IngestStatus.REJECTED
    assert refused.error is not None and refused.error.code.value == "STATION_NOT_FOUND"
    assert len(store.tracks) == 1 and len(store.rejections) == 1
    assert [a.outcome.value for a in store.audit[-3:]] == ["OK", "DUPLICATE", "REFUSED"]
