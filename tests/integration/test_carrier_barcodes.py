"""Issue 19 item 1: a barcode at a unit's place is a unit's SN first, then a panel's, then a
carrier's: an AOI event that names a carrier (a fixture, a boat) is about the units it carries,
each with the event's result. On both databases, through the ingest use case."""

from __future__ import annotations

from domain.enums import IngestStatus, UnitStatus
from domain.errors import ErrorCode
from domain.usecases import carriers as cr
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.ingest_builders import ACTOR, IngestFactory


async def test_an_event_naming_a_carrier_reaches_the_units_it_carries(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=3, aoi_required=False)
    boat = unique("BOAT")
    await f.do(cr.LoadCarrier(boat, tuple(f.sns[:2])))
    out = await services.ingest.ingest(f.envelope(f.aoi_input(boat)), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.sn_list == tuple(f.sns[:2])
    async with services.bus.uow_factory() as uow:
        units = {u.sn: u for u in await uow.units.get_many(f.sns)}
    assert [(units[sn].status, units[sn].current_step_no) for sn in f.sns] == [
        (UnitStatus.QUEUED, 20),
        (UnitStatus.QUEUED, 20),
        (UnitStatus.QUEUED, 10),
    ]
    tracks = await services.store.tracks_of_units([units[sn].id or 0 for sn in f.sns[:2]])
    assert sorted(len(found) for found in tracks.values()) == [1, 1]


async def test_a_unit_sn_wins_over_a_carrier_of_the_same_name(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=3, aoi_required=False)
    # a carrier named like the third unit, carrying the first two
    await f.do(cr.LoadCarrier(f.sns[2], tuple(f.sns[:2])))
    out = await services.ingest.ingest(f.envelope(f.aoi_input(f.sns[2])), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.sn_list == (f.sns[2],)


async def test_an_empty_carrier_named_as_a_unit_is_carrier_empty(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1, aoi_required=False)
    boat = unique("BOAT")
    await f.do(cr.LoadCarrier(boat, tuple(f.sns)))
    await f.do(cr.UnloadCarrier(boat))
    out = await services.ingest.ingest(f.envelope(f.aoi_input(boat)), ACTOR)
    assert out.error is not None and out.error.code is ErrorCode.CARRIER_EMPTY
    assert out.error.details == {"carrierNo": boat}
    # a barcode that is nothing at all is still UNIT_NOT_FOUND
    out = await services.ingest.ingest(f.envelope(f.aoi_input(unique("NOTHING"))), ACTOR)
    assert out.error is not None and out.error.code is ErrorCode.UNIT_NOT_FOUND
