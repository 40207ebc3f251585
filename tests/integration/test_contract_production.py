"""The repository contract of work orders, runs, units and tokens: run against the fake and both
SQL units of work (the `impl` fixture, tests/integration/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters import tables as t
from domain.enums import (
    RouteVersionStatus,
    RunStatus,
    UnitStatus,
    WorkOrderStatus,
)
from domain.errors import KeyTaken
from domain.panels import Panel
from domain.runs_and_units import Run, Unit, WorkOrder
from domain.security import ApiToken, Scope
from tests.conftest import unique
from tests.repository_data import (
    AT,
    LATER,
    Implementation,
    a_version,
    assert_utc,
    master_data,
)


async def test_unfinished_versions_come_once_each_in_the_order_of_their_oldest_run(
    impl: Implementation,
) -> None:
    uow = impl.new_uow
    tag = unique("UV")
    await master_data(uow, tag)
    async with uow() as u:
        v1, v2, v3 = [
            await u.route_versions.add(a_version(f"{tag}-R", n, RouteVersionStatus.READY))
            for n in (1, 2, 3)
        ]
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", 9, WorkOrderStatus.IN_PROGRESS))
        runs = [  # (run, version, minutes after AT)
            ("A", v2, 1, RunStatus.IN_PROGRESS),
            ("B", v1, 2, RunStatus.AUTHORIZED),
            ("C", v1, 0, RunStatus.COMPLETED),  # finished: not a candidate
            ("D", v1, 3, RunStatus.IN_PROGRESS),
            ("E", v3, 1, RunStatus.ON_HOLD),  # same time as A: then by runNo
        ]
        for name, version, minutes, status in runs:
            await u.runs.add(
                Run(
                    f"{tag}-{name}",
                    f"{tag}-WO",
                    status,
                    1,
                    version.id or 0,
                    created_at=AT + timedelta(minutes=minutes),
                )
            )
        await u.commit()
    async with uow() as u:
        found = await u.runs.unfinished_versions()
    mine = [v for v in found if v in (v1.id, v2.id, v3.id)]
    assert mine == [v2.id, v3.id, v1.id]


async def test_work_order_run_and_units_round_trip_in_utc(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("RP")
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.commit()
    assert version.id is not None
    wo = WorkOrder(f"{tag}-WO", "PCB-9", 40, routing_code=f"{tag}-R", due_date=AT)
    no_due = WorkOrder(f"{tag}-WO2", "PCB-9", 1)
    run = Run(
        run_no=f"{tag}-RUN",
        wo_no=wo.wo_no,
        status=RunStatus.PREP,
        plan_qty=20,
        route_version_id=version.id,
        line_code=f"{tag}-L",
        shift_code="NIGHT",
        created_at=AT,
    )
    units = [
        Unit(f"{tag}-SN-{i}", wo.wo_no, run.run_no, UnitStatus.QUEUED, 10, created_at=AT)
        for i in range(3)
    ]
    async with uow() as u:
        await u.work_orders.add(wo)
        await u.work_orders.add(no_due)
        await u.runs.add(run)
        await u.units.add_many(units)
        await u.commit()

    async with uow() as u:
        got_wo = await u.work_orders.get(wo.wo_no)
        assert got_wo == wo
        assert await u.work_orders.get(no_due.wo_no, for_update=True) == no_due
        got_run = await u.runs.get(run.run_no)
        assert got_run == run
        assert await u.runs.count_for_work_order(wo.wo_no) == 1
        assert await u.runs.statuses_for_work_order(wo.wo_no) == {run.run_no: RunStatus.PREP}
        assert version.id in await u.runs.unfinished_versions()
        got_units = await u.units.get_many([x.sn for x in units] + [f"{tag}-NONE"])
    assert got_wo is not None and got_run is not None
    assert [replace(x, id=None) for x in got_units] == units
    if impl.engine is not None:  # stored as UTC; the fake keeps the instants as given
        assert_utc(got_wo.due_date, AT)
        assert_utc(got_run.created_at, AT)
        for x in got_units:
            assert_utc(x.created_at, AT)

    first = got_units[0]
    assert first.id is not None
    async with uow() as u:
        assert await u.units.get(first.sn, for_update=True) == first
        assert await u.units.get_by_id(first.id) == first
        assert await u.units.get_many_by_id([x.id or 0 for x in got_units]) == got_units
        assert await u.units.existing_sns([first.sn, f"{tag}-NONE"]) == [first.sn]
        moved = replace(first, status=UnitStatus.ON_HOLD, current_step_no=20, step_fails=2)
        moved = replace(moved, held_from=UnitStatus.QUEUED)
        await u.units.update_many([moved])
        await u.work_orders.update(replace(wo, status=WorkOrderStatus.IN_PROGRESS, due_date=None))
        await u.runs.update(replace(run, status=RunStatus.AUTHORIZED))
        assert (
            await u.runs.set_status_if(run.run_no, RunStatus.PREP, RunStatus.IN_PROGRESS) is False
        )
        assert await u.runs.set_status_if(run.run_no, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS)
        await u.commit()
    async with uow() as u:
        assert await u.units.get(first.sn) == moved
        assert await u.units.status_counts(run.run_no) == {
            UnitStatus.ON_HOLD: 1,
            UnitStatus.QUEUED: 2,
        }
        assert await u.units.count_for_work_order(wo.wo_no, (UnitStatus.QUEUED,)) == 2
        both = (UnitStatus.QUEUED, UnitStatus.ON_HOLD)
        assert await u.units.count_for_work_order(wo.wo_no, both) == 3
        assert await u.units.count_for_work_order(no_due.wo_no, both) == 0
        # the serial number counter: per prefix, blocks one after the other
        assert await u.units.next_sn_numbers(f"{tag}-P-", 3) == 1
        assert await u.units.next_sn_numbers(f"{tag}-P-", 2) == 4
        assert await u.units.next_sn_numbers(f"{tag}-Q-", 1) == 1
        await u.commit()
    async with uow() as u:  # committed; a rolled-back take is given again
        assert await u.units.next_sn_numbers(f"{tag}-P-", 1) == 6
    async with uow() as u:
        assert await u.units.next_sn_numbers(f"{tag}-P-", 1) == 6
        assert await u.work_orders.get(wo.wo_no) == replace(
            wo, status=WorkOrderStatus.IN_PROGRESS, due_date=None
        )
        assert await u.runs.get(run.run_no) == replace(run, status=RunStatus.IN_PROGRESS)
    await impl.assert_rows(3, t.unit, t.unit.c.run_no == run.run_no)


async def test_tokens_one_active_token_per_name_refused_alike(impl: Implementation) -> None:
    uow = impl.new_uow
    name = unique("tok")
    first = ApiToken(name, unique("lk"), "hash-1", frozenset({Scope.READ}), created_at=AT)
    async with uow() as u:
        stored = await u.tokens.add(first)
        await u.commit()
    assert stored.id is not None and replace(stored, id=None) == first
    async with uow() as u:
        with pytest.raises(KeyTaken) as refused:
            await u.tokens.add(replace(first, lookup=unique("lk"), secret_hash="hash-2"))
        assert [tk.id for tk in await u.tokens.all() if tk.name == name] == [stored.id]
    assert refused.value.keys == [
        name
    ]  # the use case refuses (tests/integration/test_keys_taken.py)

    # revoked, its name may be given to a new token; get() answers the newest
    async with uow() as u:
        assert await u.tokens.hold(stored.id)
        assert await u.tokens.revoke(name, LATER)
        assert not await u.tokens.revoke(name, LATER)
        assert not await u.tokens.hold(stored.id)
        second = await u.tokens.add(replace(first, lookup=unique("lk"), created_at=LATER))
        await u.commit()
    async with uow() as u:
        assert await u.tokens.get(name) == second
        assert await u.tokens.get(unique("none")) is None
        mine = [tk for tk in await u.tokens.all() if tk.name == name]
    assert [tk.id for tk in mine] == [stored.id, second.id]
    assert mine[0].revoked_at == LATER and mine[1].active


async def test_panels_boards_and_one_barcode_namespace(impl: Implementation) -> None:
    uow = impl.new_uow
    tag = unique("PN")
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.commit()
    assert version.id is not None
    wo = WorkOrder(f"{tag}-WO", "PCB-9", 4, routing_code=f"{tag}-R")
    run = Run(f"{tag}-RUN", wo.wo_no, RunStatus.PREP, 4, version.id, created_at=AT)
    panel = Panel(f"{tag}-P", 2, run.run_no, AT)
    boards = [
        Unit(
            f"{tag}-P-{i}",
            wo.wo_no,
            run.run_no,
            UnitStatus.QUEUED,
            10,
            AT,
            panel_sn=panel.panel_sn,
            position=i,
        )
        for i in (1, 2)
    ]
    async with uow() as u:
        await u.work_orders.add(wo)
        await u.runs.add(run)
        await u.units.add_panels([panel])
        await u.units.add_many(boards)
        await u.carriers.get_or_create(f"{tag}-C", AT)
        await u.commit()
    async with uow() as u:
        assert await u.units.get_panel(panel.panel_sn) == panel
        assert await u.units.get_panel(f"{tag}-NONE") is None
        board = await u.units.get(f"{tag}-P-2")
        assert board is not None and (board.panel_sn, board.position) == (panel.panel_sn, 2)
        asked = [f"{tag}-P", f"{tag}-P-1", f"{tag}-C", f"{tag}-FREE"]
        assert await u.units.taken_barcodes(asked) == sorted(asked[:3])
        assert await u.units.taken_barcodes(asked, carriers=False) == sorted(asked[:2])
        assert await u.units.taken_barcodes(asked, units=False, carriers=False) == [f"{tag}-P"]
        found = await u.units.boards_of_panels([f"{tag}-P", f"{tag}-NONE"], for_update=True)
        assert [(b.sn, b.position) for b in found] == [(f"{tag}-P-1", 1), (f"{tag}-P-2", 2)]
        assert await u.units.boards_of_panels([]) == []
    async with uow() as u:
        with pytest.raises(KeyTaken) as taken:
            await u.units.add_panels([replace(panel, positions=3)])
        assert taken.value.keys == [panel.panel_sn]
