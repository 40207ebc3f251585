"""UnitsDisqualified's rule (domain/cfx/disqualify.py) over the fake unit of work: which units
become X_OUT, what a unit in station leaves behind, the reason's words."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.cfx.disqualify import MAX_REASON, disqualify, reason_of
from domain.enums import DispositionAction, TrackResult, TrackSource, UnitStatus
from domain.runs_and_units import Unit
from domain.tracks import Track
from tests.fakes import FakeUnitOfWorkFactory

AT = datetime(2026, 4, 14, 14, 2, 41, tzinfo=UTC)
STATUSES = [
    UnitStatus.QUEUED,
    UnitStatus.IN_STATION,
    UnitStatus.OUT_FAILED,
    UnitStatus.DONE,
    UnitStatus.SCRAPPED,
    UnitStatus.X_OUT,
]


async def test_open_units_become_x_out_finished_ones_stay() -> None:
    uows = FakeUnitOfWorkFactory()
    async with uows() as uow:
        await uow.units.add_many([Unit(f"SN-{s.value}", "WO", "RUN", s, 20, AT) for s in STATUSES])
        in_station = await uow.units.get("SN-IN_STATION")
        assert in_station is not None and in_station.id is not None
        await uow.tracks.add_many(
            [
                Track(
                    unit_id=in_station.id,
                    unit_sn=in_station.sn,
                    run_no="RUN",
                    step_no=20,
                    attempt=1,
                    operation_code="OP",
                    source=TrackSource.MANUAL,
                    station_code="ST",
                    in_at=AT,
                )
            ]
        )
        units = await uow.units.get_many([f"SN-{s.value}" for s in STATUSES])
        out = await disqualify(uow, units, "disqualified by M (R)", AT)
        assert sorted(u.sn for u in out.units) == ["SN-IN_STATION", "SN-OUT_FAILED", "SN-QUEUED"]
        assert {u.status for u in out.units} == {UnitStatus.X_OUT}
        assert sorted(u.sn for u in out.unchanged) == ["SN-DONE", "SN-SCRAPPED", "SN-X_OUT"]
        assert sorted((d.action, d.from_status, d.to_step_no) for d in out.dispositions) == sorted(
            (DispositionAction.X_OUT, s, 20) for s in STATUSES[:3]
        )
        # the unit in station leaves it: its open track closed as ERROR at the message's time
        assert await uow.tracks.open_of_unit(in_station.id) is None
        [track] = uow.state.tracks
        assert (track.out_at, track.result) == (AT, TrackResult.ERROR)


def test_the_reason_names_the_sender_and_its_reason() -> None:
    assert reason_of("M.1", {"Reason": "DefectiveMaterials"}) == (
        "disqualified by M.1 (DefectiveMaterials)"
    )
    assert reason_of("M.1", {"Reason": None, "Comments": " dropped "}) == (
        "disqualified by M.1 (no reason given): dropped"
    )
    assert len(reason_of("M.1", {"Comments": "x" * 5000})) == MAX_REASON
