"""Work orders, runs and units over the fakes: the factory, commands and the refusal check the
unit tests share (tests/unit/test_production.py, test_panels.py)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import DomainError, ErrorCode
from domain.usecases import runs_and_units as prod
from domain.usecases.bus import Command
from tests.builders import Factory
from tests.fakes import FakeStore, fake_bus


async def factory() -> tuple[Factory, FakeStore]:
    """Master data and a READY routing, no work order yet."""
    bus, store = fake_bus()
    f = Factory(bus)
    await f.master_data()
    await f.routing()
    return f, store


def written(store: FakeStore, wo_no: str) -> dict[str, Any]:
    """What a refusal must leave as it was: the work order, its runs, their units."""
    return {
        "workOrder": store.work_orders.get(wo_no),
        "runs": sorted(
            (r.run_no, r.status, r.route_version_id)
            for r in store.runs.values()
            if r.wo_no == wo_no
        ),
        "units": sorted(
            (u.sn, u.status, u.run_no) for u in store.units.values() if u.wo_no == wo_no
        ),
    }


def receive(f: Factory, **kw: Any) -> prod.ReceiveWorkOrder:
    given: dict[str, Any] = {
        "wo_no": f.code("WO"),
        "product_code": "PCB-9",
        "planned_qty": 10,
        "routing_code": f.code("R"),
        **kw,
    }
    return prod.ReceiveWorkOrder(**given)


def create_run(f: Factory, **kw: Any) -> prod.CreateRun:
    given: dict[str, Any] = {"wo_no": f.code("WO"), "line_code": f.code("LINE"), "plan_qty": 5}
    return prod.CreateRun(**{**given, **kw})


async def released(f: Factory) -> None:
    await f.do(receive(f))
    await f.do(prod.ReleaseWorkOrder(f.code("WO")))


async def a_run(f: Factory, **kw: Any) -> str:
    return str((await f.do(create_run(f, **kw))).run_no)


async def refused(
    f: Factory, store: FakeStore, cmd: Command, code: ErrorCode, wo_no: str | None = None
) -> DomainError:
    """The command refused with `code`, the work order, its runs and units untouched."""
    before = written(store, wo_no or f.code("WO"))
    with pytest.raises(DomainError) as err:
        await f.do(cmd)
    assert err.value.code is code, (cmd, err.value)
    assert written(store, wo_no or f.code("WO")) == before
    return err.value
