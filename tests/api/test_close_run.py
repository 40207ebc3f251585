"""closeRun (DOMAIN.md §6). No operation of this release moves a run to IN_PROGRESS or a unit
to DONE yet (ingest and manual execution come next), so those states are set in the tables."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import ApiClient

CLOSE = """mutation($r: String!) { closeRun(runNo: $r) {
  run { runNo status workOrder { woNo status } } error { code message details } } }"""


async def set_state(
    engine: AsyncEngine, run_no: str, run_status: str, unit_status: str | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(t.run).where(t.run.c.run_no == run_no).values(status=run_status))
        if unit_status:
            await conn.execute(
                update(t.unit).where(t.unit.c.run_no == run_no).values(status=unit_status)
            )


async def run_status(engine: AsyncEngine, run_no: str) -> str:
    async with engine.connect() as conn:
        return str(
            (
                await conn.execute(select(t.run.c.status).where(t.run.c.run_no == run_no))
            ).scalar_one()
        )


async def test_closing_an_authorized_run_completes_it_and_its_work_order(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(authorize=True, units=2)
    data = await api.gql(CLOSE, {"r": run_no})
    assert data["closeRun"]["error"] is None
    assert data["closeRun"]["run"]["status"] == "COMPLETED"
    assert data["closeRun"]["run"]["workOrder"]["status"] == "COMPLETED"
    again = await api.gql(CLOSE, {"r": run_no})
    assert again["closeRun"]["run"]["status"] == "COMPLETED"  # a no-op


async def test_in_progress_run_with_open_units_is_not_ready(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(units=3)
    await set_state(services.engine, run_no, "IN_PROGRESS")
    data = await api.gql(CLOSE, {"r": run_no})
    error = data["closeRun"]["error"]
    assert error["code"] == "RUN_NOT_READY"
    assert error["details"]["openUnits"] == 3
    assert error["details"]["byStatus"] == {"QUEUED": 3}
    assert await run_status(services.engine, run_no) == "IN_PROGRESS"


async def test_in_progress_run_whose_units_are_done_or_scrapped_closes(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(units=2)
    await set_state(services.engine, run_no, "IN_PROGRESS", "DONE")
    async with services.engine.begin() as conn:
        first = (
            await conn.execute(select(t.unit.c.id).where(t.unit.c.run_no == run_no).limit(1))
        ).scalar_one()
        await conn.execute(update(t.unit).where(t.unit.c.id == first).values(status="SCRAPPED"))
    data = await api.gql(CLOSE, {"r": run_no})
    assert data["closeRun"]["error"] is None
    assert data["closeRun"]["run"]["status"] == "COMPLETED"


async def test_work_order_stays_in_progress_while_another_run_is_open(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    run_no = await f.run()
    second = await api.gql(
        """mutation($w: String!, $l: String!) {
          createRun(input: {woNo: $w, lineCode: $l, planQty: 1}) { run { runNo } error { code } }
        }""",
        {"w": f.code("WO"), "l": f.code("LINE")},
    )
    assert second["createRun"]["error"] is None
    data = await api.gql(CLOSE, {"r": run_no})
    assert data["closeRun"]["run"]["workOrder"]["status"] == "IN_PROGRESS"
    data = await api.gql(CLOSE, {"r": second["createRun"]["run"]["runNo"]})
    assert data["closeRun"]["run"]["workOrder"]["status"] == "COMPLETED"


async def test_close_refusals(api: ApiClient, services: Services) -> None:
    missing = await api.gql(CLOSE, {"r": "NO-SUCH-RUN"})
    assert missing["closeRun"]["error"]["code"] == "RUN_NOT_FOUND"
    f = Factory(services.bus)
    run_no = await f.run()
    await set_state(services.engine, run_no, "ON_HOLD")
    held = await api.gql(CLOSE, {"r": run_no})
    assert held["closeRun"]["error"]["code"] == "RUN_NOT_READY"
    assert held["closeRun"]["error"]["details"]["runStatus"] == "ON_HOLD"
