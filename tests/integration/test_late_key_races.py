"""A device's late KEY failure against the operator's trackOut of the same track (issue 16
item 8): the failure is never lost. Either the trackOut sees the value (its PASS answers FAIL)
or the device record sees the passed track (flagged LATE_KEY_FAIL, the unit held). Each side on
its own connection, many times over; PostgreSQL overlaps them, SQLite serializes writers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from adapters import tables as t
from domain.enums import DeviceDataSource, TrackResult
from domain.usecases import device as dev
from domain.usecases import manual_execution as ex
from domain.values import ValueInput
from graphql_api.bootstrap import Services
from tests.exec_builders import ACTOR, ExecFactory
from tests.races import both, fresh_runs, rounds, unexpected


async def test_a_late_key_failure_racing_track_out_is_never_lost(services: Services) -> None:
    f = await ExecFactory(services.bus).build(units=1)
    station = f.code("PRN-1")
    runs = await fresh_runs(services, f.run_no, rounds(services), units=1, step_no=10)
    for run_no, [sn] in runs:
        await services.bus.handle(ex.TrackIn(station, run_no, sn), ACTOR)
        results = await both(
            services.bus.handle(
                ex.TrackOut(
                    station,
                    run_no,
                    sn,
                    TrackResult.PASS,
                    data=(ValueInput("Pressure", {"valueNumber": 5.0}),),
                ),
                ACTOR,
            ),
            services.bus.handle(
                dev.RecordDeviceData(
                    event_id=f"{sn}-late",
                    event_time=datetime.now(UTC),
                    source=DeviceDataSource.MANUAL,
                    operator_id="OP-1",
                    run_no=run_no,
                    unit_sn=sn,
                    step_no=10,
                    data=(ValueInput("Pressure", {"valueNumber": 9.0}),),
                ),
                ACTOR,
            ),
        )
        assert not unexpected(results), results
        assert not [r for r in results if isinstance(r, BaseException)], results
    sns = [sn for _, [sn] in runs]
    async with services.engine.connect() as conn:
        found = (
            await conn.execute(
                select(t.unit.c.sn, t.unit.c.status, t.track.c.result, t.track.c.flag)
                .join(t.track, t.track.c.unit_id == t.unit.c.id)
                .where(t.unit.c.sn.in_(sns))
            )
        ).all()
    assert len(found) == len(sns)
    outcomes = {(r.status, r.result, r.flag) for r in found}
    assert outcomes <= {("OUT_FAILED", "FAIL", None), ("ON_HOLD", "PASS", "LATE_KEY_FAIL")}, [
        r for r in found if (r.status, r.result, r.flag) == ("QUEUED", "PASS", None)
    ]
