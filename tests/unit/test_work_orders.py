"""Work-order completion, closeRun and generated serial numbers over the fakes (DOMAIN.md §2,
§6; issue 16 items 2 and 10)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.enums import RunStatus, UnitStatus, WorkOrderStatus
from domain.errors import DomainError, ErrorCode
from domain.usecases import runs_and_units as prod
from tests.builders import Factory
from tests.fakes import FakeStore, fake_bus


def finish(store: FakeStore, run_no: str, status: UnitStatus = UnitStatus.DONE) -> None:
    """Execution is not this module's: the units of the run are set as an execution would."""
    for sn, u in list(store.units.items()):
        if u.run_no == run_no:
            store.units[sn] = replace(u, status=status, current_step_no=None)


async def refused(f: Factory, cmd: prod.Command, code: ErrorCode) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await f.do(cmd)
    assert caught.value.code is code, caught.value
    return caught.value


async def second_run(f: Factory, name: str = "RUN2") -> str:
    run = await f.do(prod.CreateRun(f.code("WO"), f.code("LINE"), 5, run_no=f.code(name)))
    return str(run.run_no)


async def test_a_small_run_closing_does_not_complete_a_big_work_order() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(units=2)  # the work order plans 5
    finish(store, run_no)
    closed = await f.do(prod.CloseRun(run_no))
    assert closed.status is RunStatus.COMPLETED
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS
    assert (await f.do(prod.CreateRun(f.code("WO"), f.code("LINE"), 3))).status is RunStatus.PREP


async def test_the_work_order_completes_when_done_units_reach_its_quantity_and_no_run_is_open() -> (
    None
):
    bus, store = fake_bus()
    f = Factory(bus)
    first = await f.run(units=3)
    second = await second_run(f)
    await f.do(prod.RegisterUnits(second, count=2, sn_prefix=f.code("SN-")))
    finish(store, first)
    finish(store, second)
    await f.do(prod.CloseRun(first))
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS  # RUN2 open
    await f.do(prod.CloseRun(second))
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.COMPLETED
    await refused(
        f,
        prod.CreateRun(f.code("WO"), f.code("LINE"), 1),
        ErrorCode.WORK_ORDER_NOT_RELEASED,
    )


async def test_scrapped_units_do_not_count_toward_the_quantity() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(units=5)
    finish(store, run_no)
    sn = f.code("SN-000001")
    store.units[sn] = replace(store.units[sn], status=UnitStatus.SCRAPPED)
    await f.do(prod.CloseRun(run_no))
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS


async def test_close_run_needs_every_unit_finished_whatever_the_run_status() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(authorize=False, units=2)  # PREP with QUEUED units
    err = await refused(f, prod.CloseRun(run_no), ErrorCode.RUN_NOT_READY)
    assert err.details == {
        "runNo": run_no,
        "runStatus": "PREP",
        "openUnits": 2,
        "byStatus": {"QUEUED": 2},
    }
    assert store.runs[run_no].status is RunStatus.PREP
    await f.do(prod.AuthorizeRun(run_no))
    await refused(f, prod.CloseRun(run_no), ErrorCode.RUN_NOT_READY)


async def test_a_run_without_units_closes_and_leaves_the_work_order_open() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run()
    assert (await f.do(prod.CloseRun(run_no))).status is RunStatus.COMPLETED
    assert (await f.do(prod.CloseRun(run_no))).status is RunStatus.COMPLETED  # a no-op
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS


async def test_close_work_order_is_refused_while_a_run_is_open() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(units=1)
    other = await second_run(f)
    err = await refused(f, prod.CloseWorkOrder(f.code("WO")), ErrorCode.WORK_ORDER_RUN_OPEN)
    assert err.details == {"woNo": f.code("WO"), "openRuns": sorted([run_no, other]), "count": 2}
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS
    finish(store, run_no)
    await f.do(prod.CloseRun(run_no))
    await f.do(prod.CloseRun(other))
    assert store.work_orders[f.code("WO")].status is WorkOrderStatus.IN_PROGRESS  # 1 of 5
    closed = await f.do(prod.CloseWorkOrder(f.code("WO")))
    assert closed.status is WorkOrderStatus.COMPLETED
    assert (await f.do(prod.CloseWorkOrder(f.code("WO")))).status is WorkOrderStatus.COMPLETED


async def test_close_work_order_refusals() -> None:
    bus, _ = fake_bus()
    f = Factory(bus)
    await refused(f, prod.CloseWorkOrder("NO-SUCH-WO"), ErrorCode.WORK_ORDER_NOT_FOUND)
    await f.do(prod.ReceiveWorkOrder(f.code("WO"), "PROD", 5, f.code("R")))
    await refused(f, prod.CloseWorkOrder(f.code("WO")), ErrorCode.WORK_ORDER_NOT_RELEASED)
    await f.do(prod.ReleaseWorkOrder(f.code("WO")))
    assert (await f.do(prod.CloseWorkOrder(f.code("WO")))).status is WorkOrderStatus.COMPLETED


async def test_generated_sns_are_numbered_per_prefix_across_runs() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    first = await f.run()
    second = await second_run(f)
    prefix = f.code("B200-")
    a = await f.do(prod.RegisterUnits(first, count=2, sn_prefix=prefix))
    b = await f.do(prod.RegisterUnits(second, count=2, sn_prefix=prefix))
    assert [u.sn for u in a + b] == [f"{prefix}{i:06d}" for i in range(1, 5)]
    assert [u.run_no for u in b] == [second, second]
    assert store.sn_sequences[prefix] == 4
    # the default prefix is the run's own; another prefix has its own counter
    own = await f.do(prod.RegisterUnits(second, count=1))
    assert [u.sn for u in own] == [f"{second}-000001"]


async def test_generated_sns_skip_numbers_taken_by_explicit_sns() -> None:
    bus, _ = fake_bus()
    f = Factory(bus)
    run_no = await f.run()
    prefix = f.code("P-")
    await f.do(prod.RegisterUnits(run_no, sns=(f"{prefix}000002", f"{prefix}000003")))
    got = await f.do(prod.RegisterUnits(run_no, count=3, sn_prefix=prefix))
    assert [u.sn for u in got] == [f"{prefix}{i:06d}" for i in (1, 4, 5)]


async def test_a_refused_registration_takes_no_numbers() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run()
    await f.do(prod.CloseRun(run_no))
    other = await second_run(f)
    prefix = f.code("Q-")
    await refused(f, prod.RegisterUnits(run_no, count=2, sn_prefix=prefix), ErrorCode.RUN_NOT_READY)
    await refused(
        f, prod.RegisterUnits(other, count=2, sn_prefix="x" * 120), ErrorCode.VALIDATION_FAILED
    )
    assert prefix not in store.sn_sequences
    got = await f.do(prod.RegisterUnits(other, count=1, sn_prefix=prefix))
    assert [u.sn for u in got] == [f"{prefix}000001"]


def set_run(store: FakeStore, run_no: str, status: RunStatus) -> None:
    store.runs[run_no] = replace(store.runs[run_no], status=status)


async def test_an_authorized_run_with_queued_units_is_not_ready() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(authorize=True, units=2)
    err = await refused(f, prod.CloseRun(run_no), ErrorCode.RUN_NOT_READY)
    assert err.details is not None
    assert (err.details["runStatus"], err.details["byStatus"]) == ("AUTHORIZED", {"QUEUED": 2})
    assert store.runs[run_no].status is RunStatus.AUTHORIZED


async def test_an_in_progress_run_with_open_units_is_not_ready() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(units=3)
    set_run(store, run_no, RunStatus.IN_PROGRESS)
    err = await refused(f, prod.CloseRun(run_no), ErrorCode.RUN_NOT_READY)
    assert err.details is not None
    assert (err.details["openUnits"], err.details["byStatus"]) == (3, {"QUEUED": 3})
    assert store.runs[run_no].status is RunStatus.IN_PROGRESS


async def test_an_in_progress_run_whose_units_are_done_or_scrapped_closes() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    run_no = await f.run(units=2)
    set_run(store, run_no, RunStatus.IN_PROGRESS)
    finish(store, run_no)
    sn = f.code("SN-000001")
    store.units[sn] = replace(store.units[sn], status=UnitStatus.SCRAPPED)
    assert (await f.do(prod.CloseRun(run_no))).status is RunStatus.COMPLETED


async def test_close_run_refusals() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    await refused(f, prod.CloseRun("NO-SUCH-RUN"), ErrorCode.RUN_NOT_FOUND)
    run_no = await f.run()
    set_run(store, run_no, RunStatus.ON_HOLD)
    err = await refused(f, prod.CloseRun(run_no), ErrorCode.RUN_NOT_READY)
    assert err.details is not None and err.details["runStatus"] == "ON_HOLD"


async def test_close_work_order_is_audited_and_ends_new_runs() -> None:
    bus, store = fake_bus()
    f = Factory(bus)
    wo = f.code("WO")
    run_no = await f.run(units=1)
    err = await refused(f, prod.CloseWorkOrder(wo), ErrorCode.WORK_ORDER_RUN_OPEN)
    assert err.details == {"woNo": wo, "openRuns": [run_no], "count": 1}
    set_run(store, run_no, RunStatus.IN_PROGRESS)
    finish(store, run_no, UnitStatus.SCRAPPED)
    await f.do(prod.CloseRun(run_no))
    assert (await f.do(prod.CloseWorkOrder(wo))).status is WorkOrderStatus.COMPLETED
    assert (await f.do(prod.CloseWorkOrder(wo))).status is WorkOrderStatus.COMPLETED  # a no-op
    await refused(f, prod.CreateRun(wo, f.code("LINE"), 5), ErrorCode.WORK_ORDER_NOT_RELEASED)
    outcomes = [
        (a.outcome.value, a.error_code)
        for a in store.audit
        if a.action == "closeWorkOrder" and a.entity_key == wo
    ]
    assert outcomes == [("REFUSED", "WORK_ORDER_RUN_OPEN"), ("OK", None), ("OK", None)]
