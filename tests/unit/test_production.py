"""Work orders, runs and units over the fakes (DOMAIN.md §2 Production): the rules and every
refusal, each checked to write nothing. The wire (inputs, payloads, queries, paging, both
databases) is tests/api/test_production.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.enums import RunStatus, UnitStatus, WorkOrderStatus
from domain.errors import ErrorCode
from domain.master import Routing
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.conftest import unique
from tests.production_builders import (
    a_run,
    create_run,
    factory,
    receive,
    refused,
    released,
    written,
)

# ---------------------------------------------------------------- work orders


async def test_receive_never_moves_the_status_backwards() -> None:
    f, store = await factory()
    await released(f)
    again = await f.do(receive(f, planned_qty=20))
    assert (again.status, again.planned_qty) == (WorkOrderStatus.RELEASED, 20)
    await a_run(f)
    again = await f.do(receive(f, planned_qty=30))
    assert again.status is WorkOrderStatus.IN_PROGRESS
    wo = store.work_orders[f.code("WO")]
    assert (wo.status, wo.planned_qty) == (WorkOrderStatus.IN_PROGRESS, 30)


async def test_work_order_not_found() -> None:
    f, store = await factory()
    wo_no = unique("NOWO")
    await refused(f, store, prod.ReleaseWorkOrder(wo_no), ErrorCode.WORK_ORDER_NOT_FOUND, wo_no)
    await refused(f, store, create_run(f, wo_no=wo_no), ErrorCode.WORK_ORDER_NOT_FOUND, wo_no)
    assert written(store, wo_no) == {"workOrder": None, "runs": [], "units": []}


@pytest.mark.parametrize("status", [WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED])
async def test_release_of_a_started_work_order_is_not_received(status: WorkOrderStatus) -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f)
    if status is WorkOrderStatus.COMPLETED:
        await f.do(prod.CloseRun(run_no))
        await f.do(prod.CloseWorkOrder(f.code("WO")))
    assert store.work_orders[f.code("WO")].status is status
    err = await refused(
        f, store, prod.ReleaseWorkOrder(f.code("WO")), ErrorCode.WORK_ORDER_NOT_RECEIVED
    )
    assert err.details == {"woNo": f.code("WO"), "status": status.value}


@pytest.mark.parametrize(
    "given",
    [
        {"planned_qty": 0},
        {"wo_no": "WO "},
        {"product_code": ""},
        {"routing_code": " R"},
    ],
)
async def test_work_order_validation(given: dict[str, Any]) -> None:
    f, store = await factory()
    cmd = receive(f, **given)
    await refused(f, store, cmd, ErrorCode.VALIDATION_FAILED, cmd.wo_no)
    assert cmd.wo_no not in store.work_orders


# ---------------------------------------------------------------- runs


async def test_create_run_generates_run_numbers() -> None:
    f, store = await factory()
    await released(f)
    wo = f.code("WO")
    assert await a_run(f) == f"{wo}-01"
    assert await a_run(f, run_no=f"{wo}-02") == f"{wo}-02"
    assert await a_run(f) == f"{wo}-03"  # -02 was taken: the next free one
    assert store.work_orders[wo].status is WorkOrderStatus.IN_PROGRESS
    assert written(store, wo)["runs"] == [
        (f"{wo}-0{i}", RunStatus.PREP, store.runs[f"{wo}-0{i}"].route_version_id) for i in (1, 2, 3)
    ]
    assert {store.runs[f"{wo}-0{i}"].plan_qty for i in (1, 2, 3)} == {5}


async def test_create_run_refusals_write_nothing() -> None:
    f, store = await factory()
    wo = f.code("WO")
    await f.do(receive(f))  # RECEIVED only
    err = await refused(f, store, create_run(f), ErrorCode.WORK_ORDER_NOT_RELEASED)
    assert err.details == {"woNo": wo, "status": "RECEIVED"}
    await f.do(prod.ReleaseWorkOrder(wo))
    cases: list[tuple[dict[str, Any], ErrorCode]] = [
        ({"line_code": f.code("NO-LINE")}, ErrorCode.LINE_NOT_FOUND),
        ({"plan_qty": 0}, ErrorCode.VALIDATION_FAILED),
        ({"run_no": "RUN "}, ErrorCode.VALIDATION_FAILED),
        ({"line_code": ""}, ErrorCode.VALIDATION_FAILED),
        ({"run_no": "R" * 101}, ErrorCode.VALIDATION_FAILED),
    ]
    for given, code in cases:
        await refused(f, store, create_run(f, **given), code)
    assert store.work_orders[wo].status is WorkOrderStatus.RELEASED
    await a_run(f, run_no=f.code("RUN-X"))
    err = await refused(
        f, store, create_run(f, run_no=f.code("RUN-X"), plan_qty=9), ErrorCode.RUN_ALREADY_EXISTS
    )
    assert err.details == {"runNo": f.code("RUN-X")}


async def test_create_run_without_a_routing_or_a_ready_version() -> None:
    f, store = await factory()
    cases: list[tuple[str | None, ErrorCode]] = [
        (None, ErrorCode.ROUTE_NOT_FOUND),  # the work order names no routing
        (f.code("NO-ROUTE"), ErrorCode.ROUTE_NOT_FOUND),  # ERP sent one we do not know
    ]
    uncompiled = f.code("R2")
    await f.do(md.UpsertRouting(Routing(uncompiled, "Never compiled", steps=())))
    invalid = f.code("R3")
    await f.do(md.UpsertRouting(Routing(invalid, "Only invalid", steps=())))
    await f.do(md.CompileRouting(invalid))
    cases += [
        (uncompiled, ErrorCode.ROUTE_VERSION_NOT_READY),
        (invalid, ErrorCode.ROUTE_VERSION_NOT_READY),
    ]
    for i, (routing_code, code) in enumerate(cases):
        wo = f.code(f"WO{i}")
        await f.do(receive(f, wo_no=wo, routing_code=routing_code))
        await f.do(prod.ReleaseWorkOrder(wo))
        await refused(f, store, create_run(f, wo_no=wo), code, wo)
        assert store.work_orders[wo].status is WorkOrderStatus.RELEASED


@pytest.mark.parametrize("status", [RunStatus.IN_PROGRESS, RunStatus.COMPLETED, RunStatus.ON_HOLD])
async def test_run_state_refusals(status: RunStatus) -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f)
    store.runs[run_no] = replace(store.runs[run_no], status=status)
    err = await refused(f, store, prod.AuthorizeRun(run_no), ErrorCode.RUN_NOT_READY)
    assert err.details == {"runNo": run_no, "runStatus": status.value}
    err = await refused(f, store, prod.RevokeRunAuthorization(run_no), ErrorCode.RUN_NOT_AUTHORIZED)
    assert err.details == {"runNo": run_no, "runStatus": status.value}
    if status is RunStatus.COMPLETED:  # a closed run takes no more units
        await refused(f, store, prod.RegisterUnits(run_no, count=2), ErrorCode.RUN_NOT_READY)


async def test_run_not_found() -> None:
    f, store = await factory()
    run_no = unique("NORUN")
    for cmd in (prod.AuthorizeRun(run_no), prod.RevokeRunAuthorization(run_no)):
        err = await refused(f, store, cmd, ErrorCode.RUN_NOT_FOUND)
        assert err.details == {"key": run_no}
    await refused(f, store, prod.RegisterUnits(run_no, count=1), ErrorCode.RUN_NOT_FOUND)


# ---------------------------------------------------------------- units


async def test_register_units_generates_per_prefix_across_runs() -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f, run_no=f.code("RUN"))
    sns = (f.code("A"), f.code("B"))
    explicit = await f.do(prod.RegisterUnits(run_no, sns=sns))
    assert [(u.sn, u.status, u.current_step_no) for u in explicit] == [
        (sn, UnitStatus.QUEUED, 10) for sn in sns
    ]
    prefixed = await f.do(prod.RegisterUnits(run_no, count=2, sn_prefix=f.code("P-")))
    assert [u.sn for u in prefixed] == [f.code("P-000001"), f.code("P-000002")]
    default = await f.do(prod.RegisterUnits(run_no, count=3))
    # the sequence is counted per prefix (the default one is the run's own)
    assert [u.sn for u in default] == [f"{run_no}-00000{i}" for i in (1, 2, 3)]
    # ... across runs: another run generating under P- goes on from P-000002
    other = await a_run(f, run_no=f.code("RUN2"))
    [more] = await f.do(prod.RegisterUnits(other, count=1, sn_prefix=f.code("P-")))
    assert (more.sn, more.status, more.current_step_no) == (
        f.code("P-000003"),
        UnitStatus.QUEUED,
        10,
    )
    assert len(written(store, f.code("WO"))["units"]) == 8


async def test_register_units_is_all_or_nothing() -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f, run_no=f.code("RUN"))
    existing, new = f.code("OLD"), f.code("NEW")
    await f.do(prod.RegisterUnits(run_no, sns=(existing,)))
    await f.do(prod.RegisterUnits(run_no, sns=(f"{run_no}-000002",)))
    err = await refused(
        f, store, prod.RegisterUnits(run_no, sns=(new, existing)), ErrorCode.UNIT_ALREADY_EXISTS
    )
    assert err.details == {"sns": [existing], "count": 1}
    assert new not in store.units
    # generated SNs skip a number taken by an explicit SN (never a dead end)
    generated = await f.do(prod.RegisterUnits(run_no, count=3))
    assert [u.sn for u in generated] == [f"{run_no}-00000{i}" for i in (1, 3, 4)]


async def test_register_units_validation() -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f)
    bad: list[dict[str, Any]] = [
        {},  # neither sns nor count
        {"sns": ("A",), "count": 1},  # both
        {"sns": ()},
        {"sns": (f.code("X"), f.code("X"))},
        {"sns": (f.code("Y"), " Z")},
        {"sns": ("S" * 101,)},
        {"count": 0},
        {"count": 10_001},  # over MES_MAX_REGISTER_UNITS
        {"count": 1, "sn_prefix": " P-"},
        {"count": 1, "sn_prefix": "P" * 95},  # prefix + 6 digits > 100
    ]
    for given in bad:
        await refused(f, store, prod.RegisterUnits(run_no, **given), ErrorCode.VALIDATION_FAILED)
