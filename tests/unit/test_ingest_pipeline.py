"""The pipeline over the fakes: the use case needs no database (and breaks when a port does)."""

from __future__ import annotations

from typing import Any

from domain.enums import IngestStatus, UnitStatus
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from tests.fakes import FakeClock, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, IngestFactory


async def test_accept_duplicate_and_refusal_through_fakes() -> None:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=2)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    env = f.envelope(f.aoi_input(f.sns[0]))
    accepted = await service.ingest(env, ACTOR)
    assert accepted.status is IngestStatus.ACCEPTED, accepted.error
    assert (await service.ingest(env, ACTOR)).status is IngestStatus.DUPLICATE
    assert store.units[f.sns[0]].status is UnitStatus.QUEUED
    assert store.units[f.sns[0]].current_step_no == 20
    # VoidRatio, Snapshot and lamp_hours (no spec: kept, unmappedNames STORE by default)
    assert len(store.tracks) == 1 and len(store.values) == 3
    refused = await service.ingest(f.envelope(f.aoi_input(f.sns[1], station=f.code("NOPE"))), ACTOR)
    assert refused.status is IngestStatus.REJECTED
    assert refused.error is not None and refused.error.code.value == "STATION_NOT_FOUND"
    assert len(store.tracks) == 1 and len(store.rejections) == 1
    assert [a.outcome.value for a in store.audit[-3:]] == ["OK", "DUPLICATE", "REFUSED"]


async def test_a_refusal_that_lost_the_race_to_an_accepted_send_is_a_duplicate() -> None:
    """Two sends of one key at once: the first is judged while the unit is not there yet and
    refused; before it stores its rejection, the second (the unit registered meanwhile) is
    accepted. The refusal must not leave a rejection open under an accepted key: it answers
    as the later of the two, DUPLICATE of the accepted event."""
    from domain.usecases import runs_and_units as prod

    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    sn = f.code("LATE-1")
    env = f.envelope(f.aoi_input(sn))
    accepted: list[IngestStatus] = []

    class Racing(IngestService):
        async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
            await f.do(prod.RegisterUnits(f.run_no, sns=(sn,)))
            accepted.append((await service.ingest(env, ACTOR)).status)
            return await super()._refuse(*args, **kwargs)

    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    outcome = await Racing(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    ).ingest(env, ACTOR)
    assert accepted == [IngestStatus.ACCEPTED]
    assert outcome.status is IngestStatus.DUPLICATE and outcome.event is not None
    assert not store.rejections
    assert [a.outcome.value for a in store.audit[-2:]] == ["OK", "DUPLICATE"]


async def test_a_different_input_that_lost_the_race_is_an_idempotency_conflict() -> None:
    from domain.usecases import runs_and_units as prod

    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    sn = f.code("LATE-2")
    first = f.aoi_input(sn)
    other = f.envelope({**first, "payload": f.aoi_payload(sn, void=99.0)})

    class Racing(IngestService):
        async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
            await f.do(prod.RegisterUnits(f.run_no, sns=(sn,)))
            await service.ingest(f.envelope(first), ACTOR)
            return await super()._refuse(*args, **kwargs)

    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    outcome = await Racing(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    ).ingest(other, ACTOR)
    assert outcome.status is IngestStatus.REJECTED and outcome.error is not None
    assert outcome.error.code.value == "IDEMPOTENCY_CONFLICT"
    assert [r.error_code.value for r in store.rejections] == ["IDEMPOTENCY_CONFLICT"]


async def test_a_stored_mapping_compile_would_refuse_harms_no_other_run() -> None:
    """A READY version whose stored mapping cannot be parsed (written past compile, or by an
    older build) used to crash every ingest while its run was unfinished: it takes no events
    now, and the other runs' events go on."""
    from dataclasses import replace as with_

    from domain.enums import RunStatus

    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    good = store.versions[-1]
    assert good.steps[0].ingest_mapping is not None
    broken_mapping = dict(good.steps[0].ingest_mapping)
    del broken_mapping["stationCodePath"]
    broken_steps = (with_(good.steps[0], ingest_mapping=broken_mapping), *good.steps[1:])
    async with bus.uow_factory() as uow:
        broken = await uow.route_versions.add(with_(good, id=None, steps=broken_steps))
        assert broken.id is not None
        await uow.runs.add(
            with_(store.runs[f.run_no], run_no=f.code("OLD-RUN"), route_version_id=broken.id)
        )
        await uow.commit()
    assert store.runs[f.code("OLD-RUN")].status in (RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS)
    service = IngestService(
        bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()
    )
    outcome = await service.ingest(f.envelope(f.aoi_input(f.sns[0])), ACTOR)
    assert outcome.status is IngestStatus.ACCEPTED, outcome.error
