"""The repository contract of `tracks.latest_run_at` (the run a CFX ComponentsPlaced counts
for: the run of the station's latest track), against the fake and both SQL units of work."""

from __future__ import annotations

from domain.enums import RouteVersionStatus, RunStatus, TrackSource, UnitStatus, WorkOrderStatus
from domain.runs_and_units import Run, Unit, WorkOrder
from domain.tracks import Track
from tests.conftest import unique
from tests.repository_data import AT, LATER, Implementation, a_version, master_data


async def test_latest_run_at_is_the_run_of_the_stations_last_recorded_track(
    impl: Implementation,
) -> None:
    uow = impl.new_uow
    tag = unique("LR")
    await master_data(uow, tag)
    station, other = f"{tag}-ST", f"{tag}-OTHER"
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", 2, WorkOrderStatus.IN_PROGRESS))
        for run in ("A", "B"):
            await u.runs.add(
                Run(
                    f"{tag}-{run}",
                    f"{tag}-WO",
                    RunStatus.IN_PROGRESS,
                    1,
                    version.id or 0,
                    created_at=AT,
                )
            )
        await u.units.add_many(
            [
                Unit(f"{tag}-SN{run}", f"{tag}-WO", f"{tag}-{run}", UnitStatus.QUEUED, 10, AT)
                for run in ("A", "B")
            ]
        )
        await u.commit()
    async with uow() as u:
        assert await u.tracks.latest_run_at(station) is None
        units = {x.run_no: x for x in await u.units.get_many([f"{tag}-SNA", f"{tag}-SNB"])}

        def track(run: str, at_station: str) -> Track:
            unit = units[f"{tag}-{run}"]
            return Track(
                unit_id=unit.id or 0,
                unit_sn=unit.sn,
                run_no=unit.run_no,
                step_no=10,
                attempt=1,
                operation_code=f"{tag}-OP1",
                source=TrackSource.AUTO,
                station_code=at_station,
                in_at=AT,
                out_at=LATER,
            )

        # B's track, then A's, then one of B elsewhere: the station's last is A's
        await u.tracks.add_many([track("B", station), track("A", station), track("B", other)])
        await u.commit()
    async with uow() as u:
        assert await u.tracks.latest_run_at(station) == f"{tag}-A"
        assert await u.tracks.latest_run_at(other) == f"{tag}-B"
        assert await u.tracks.latest_run_at(f"{tag}-NONE") is None
