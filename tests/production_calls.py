"""Work orders, runs and units through GraphQL: the documents and calls the API tests share
(tests/api/test_production.py, test_panels.py, test_close_run.py, test_x_outs.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t
from tests.builders import Factory
from tests.conftest import ApiClient

ERROR = "error { code message details }"
RECEIVE = f"""mutation($i: WorkOrderInput!) {{ receiveWorkOrder(input: $i) {{
  workOrder {{ woNo productCode plannedQty status routingCode dueDate }} {ERROR} }} }}"""
RELEASE = f"""mutation($w: String!) {{ releaseWorkOrder(woNo: $w) {{
  workOrder {{ woNo status }} {ERROR} }} }}"""
CREATE_RUN = f"""mutation($i: CreateRunInput!) {{ createRun(input: $i) {{
  run {{ runNo status planQty workOrder {{ woNo status }} line {{ code }}
    routeVersion {{ versionNo status }} }} {ERROR} }} }}"""
CLOSE = """mutation($r: String!) { closeRun(runNo: $r) {
  run { runNo status workOrder { woNo status } } error { code message details } } }"""


async def payload(api: ApiClient, doc: str, field: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await api.gql(doc, variables))[field]
    return found


def wo_input(f: Factory, **kw: Any) -> dict[str, Any]:
    return {
        "woNo": f.code("WO"),
        "productCode": "PCB-9",
        "plannedQty": 10,
        "routingCode": f.code("R"),
        **kw,
    }


def run_input(f: Factory, **kw: Any) -> dict[str, Any]:
    return {"woNo": f.code("WO"), "lineCode": f.code("LINE"), "planQty": 5, **kw}


async def released(api: ApiClient, f: Factory) -> None:
    assert (await payload(api, RECEIVE, "receiveWorkOrder", i=wo_input(f)))["error"] is None
    assert (await payload(api, RELEASE, "releaseWorkOrder", w=f.code("WO")))["error"] is None


async def a_run(api: ApiClient, f: Factory, **kw: Any) -> str:
    created = await payload(api, CREATE_RUN, "createRun", i=run_input(f, **kw))
    assert created["error"] is None, created["error"]
    run_no: str = created["run"]["runNo"]
    return run_no


async def set_state(
    engine: AsyncEngine, run_no: str, run_status: str, unit_status: str | None = None
) -> None:
    """A run's (and its units') state set in the tables, execution skipped."""
    async with engine.begin() as conn:
        await conn.execute(update(t.run).where(t.run.c.run_no == run_no).values(status=run_status))
        if unit_status:
            await conn.execute(
                update(t.unit).where(t.unit.c.run_no == run_no).values(status=unit_status)
            )
