"""closeRun and closeWorkOrder on the wire, on both databases (DOMAIN.md §6): the payload with
its work order, the refusal's shape, the audit rows. Their rules are tests/unit/test_work_orders.py.
Execution is not this module's: the states it reaches are set in the tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import ApiClient
from tests.production_calls import CLOSE, set_state


async def test_a_run_without_units_closes_and_its_work_order_stays_open(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(authorize=True)
    data = await api.gql(CLOSE, {"r": run_no})
    assert data["closeRun"]["error"] is None
    assert data["closeRun"]["run"]["status"] == "COMPLETED"
    assert data["closeRun"]["run"]["workOrder"]["status"] == "IN_PROGRESS"  # 0 of 5 DONE
    again = await api.gql(CLOSE, {"r": run_no})
    assert again["closeRun"]["run"]["status"] == "COMPLETED"  # a no-op


CREATE_RUN = """mutation($w: String!, $l: String!) {
  createRun(input: {woNo: $w, lineCode: $l, planQty: 5}) { run { runNo } error { code } } }"""


CLOSE_WO = """mutation($w: String!) { closeWorkOrder(woNo: $w) {
  workOrder { woNo status } error { code message details } } }"""


async def test_close_work_order(api: ApiClient, services: Services) -> None:
    f = Factory(services.bus)
    run_no = await f.run(units=1)
    refused = await api.gql(CLOSE_WO, {"w": f.code("WO")})
    error = refused["closeWorkOrder"]["error"]
    assert refused["closeWorkOrder"]["workOrder"] is None
    assert error["code"] == "WORK_ORDER_RUN_OPEN"
    assert error["details"] == {"woNo": f.code("WO"), "openRuns": [run_no], "count": 1}
    assert await wo_status(services.engine, f.code("WO")) == "IN_PROGRESS"
    await set_state(services.engine, run_no, "IN_PROGRESS", "SCRAPPED")
    assert (await api.gql(CLOSE, {"r": run_no}))["closeRun"]["error"] is None
    data = await api.gql(CLOSE_WO, {"w": f.code("WO")})
    assert data["closeWorkOrder"] == {
        "workOrder": {"woNo": f.code("WO"), "status": "COMPLETED"},
        "error": None,
    }
    again = await api.gql(CLOSE_WO, {"w": f.code("WO")})
    assert again["closeWorkOrder"]["workOrder"]["status"] == "COMPLETED"  # a no-op
    late = await api.gql(CREATE_RUN, {"w": f.code("WO"), "l": f.code("LINE")})
    assert late["createRun"]["error"]["code"] == "WORK_ORDER_NOT_RELEASED"
    missing = await api.gql(CLOSE_WO, {"w": "NO-SUCH-WO"})
    assert missing["closeWorkOrder"]["error"]["code"] == "WORK_ORDER_NOT_FOUND"
    async with services.engine.connect() as conn:
        outcomes = (
            await conn.execute(
                select(t.audit_event.c.outcome, t.audit_event.c.error_code)
                .where(
                    t.audit_event.c.action == "closeWorkOrder",
                    t.audit_event.c.entity_key == f.code("WO"),
                )
                .order_by(t.audit_event.c.id)
            )
        ).all()
    assert [tuple(o) for o in outcomes] == [
        ("REFUSED", "WORK_ORDER_RUN_OPEN"),
        ("OK", None),
        ("OK", None),
    ]


async def wo_status(engine: AsyncEngine, wo_no: str) -> str:
    async with engine.connect() as conn:
        stmt = select(t.work_order.c.status).where(t.work_order.c.wo_no == wo_no)
        return str((await conn.execute(stmt)).scalar_one())
