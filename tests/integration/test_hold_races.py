"""holdUnits against ingest for the same unit (issue 16 item 1): the hold is never lost. Each
side on its own connection, many times over; PostgreSQL overlaps them (the unit row locks
ingest takes decide who waits), SQLite serializes writers and must agree."""

from __future__ import annotations

from sqlalchemy import select

from adapters import tables as t
from domain.enums import IngestStatus
from domain.holds import Hold
from domain.usecases import holds as ho
from graphql_api.bootstrap import Services
from tests.ingest_builders import ACTOR, IngestFactory
from tests.races import both, fresh_runs, rounds, unexpected


async def test_a_hold_racing_an_event_is_never_lost(services: Services) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=1, step_no=10)
    for _, [sn] in runs:
        results = await both(
            services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR),
            services.bus.handle(ho.HoldUnits(ho.UnitFilter(sns=(sn,)), "paste lot"), ACTOR),
        )
        assert not unexpected(results), results
        event, hold = results
        assert isinstance(hold, Hold), hold
        # the event came first (accepted, then held at the next step) or the hold did (the
        # event refused UNIT_ON_HOLD)
        assert event.status in (IngestStatus.ACCEPTED, IngestStatus.REJECTED), event
    sns = [sn for _, [sn] in runs]
    async with services.engine.connect() as conn:
        units = {
            r.sn: r
            for r in await conn.execute(
                select(
                    t.unit.c.sn, t.unit.c.status, t.unit.c.held_from, t.unit.c.current_step_no
                ).where(t.unit.c.sn.in_(sns))
            )
        }
        tracks = {
            r.sn
            for r in await conn.execute(
                select(t.unit.c.sn)
                .join(t.track, t.track.c.unit_id == t.unit.c.id)
                .where(t.unit.c.sn.in_(sns))
            )
        }
    lost = [sn for sn, u in units.items() if u.status != "ON_HOLD"]
    assert not lost, f"{len(lost)} of {len(sns)} holds lost"
    for sn, u in units.items():
        # held where the event (if it won) left it
        assert (u.held_from, u.current_step_no) == ("QUEUED", 20 if sn in tracks else 10)
