"""Work orders, runs and units through GraphQL, on both databases (DOMAIN.md §2 Production):
each mutation's input and payload, a refusal's shape, the queries and their paging. The rules
and every refusal are tests/unit/test_production.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import tables as t
from domain.master import Routing
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import ApiClient, count_statements, unique
from tests.production_calls import (
    CREATE_RUN,
    ERROR,
    RECEIVE,
    RELEASE,
    a_run,
    payload,
    released,
    run_input,
    wo_input,
)

AUTHORIZE = (
    f"""mutation($r: String!) {{ authorizeRun(runNo: $r) {{ run {{ runNo status }} {ERROR} }} }}"""
)
REVOKE = f"""mutation($r: String!) {{ revokeRunAuthorization(runNo: $r) {{
  run {{ runNo status }} {ERROR} }} }}"""
REGISTER = f"""mutation($i: RegisterUnitsInput!) {{ registerUnits(input: $i) {{
  units {{ sn status currentStepNo }} {ERROR} }} }}"""
UNITS_PAGE = """query($r: String!, $first: Int, $after: String) { run(runNo: $r) {
  units(first: $first, after: $after) { edges { cursor node { sn status currentStepNo } }
    pageInfo { hasNextPage endCursor } totalCount } } }"""


async def written(engine: AsyncEngine, wo_no: str) -> dict[str, Any]:
    """What a refusal must leave as it was: the work order, its runs, their units."""
    async with engine.connect() as conn:
        wo = (await conn.execute(select(t.work_order).where(t.work_order.c.wo_no == wo_no))).first()
        runs = (
            await conn.execute(
                select(t.run.c.run_no, t.run.c.status, t.run.c.route_version_id)
                .where(t.run.c.wo_no == wo_no)
                .order_by(t.run.c.run_no)
            )
        ).all()
        units = (
            await conn.execute(
                select(t.unit.c.sn, t.unit.c.status, t.unit.c.run_no)
                .where(t.unit.c.wo_no == wo_no)
                .order_by(t.unit.c.sn)
            )
        ).all()
    return {
        "workOrder": tuple(wo) if wo else None,
        "runs": [tuple(r) for r in runs],
        "units": [tuple(u) for u in units],
    }


# ---------------------------------------------------------------- work orders


async def test_receive_work_order_upserts_by_wo_no(
    api: ApiClient, f: Factory, services: Services
) -> None:
    first = await payload(
        api, RECEIVE, "receiveWorkOrder", i=wo_input(f, dueDate="2026-07-01T18:00:00+02:00")
    )
    assert first == {
        "workOrder": {
            "woNo": f.code("WO"),
            "productCode": "PCB-9",
            "plannedQty": 10,
            "status": "RECEIVED",
            "routingCode": f.code("R"),
            "dueDate": "2026-07-01T16:00:00Z",
        },
        "error": None,
    }
    same = await payload(
        api, RECEIVE, "receiveWorkOrder", i=wo_input(f, dueDate="2026-07-01T18:00:00+02:00")
    )
    assert same == first
    changed = await payload(api, RECEIVE, "receiveWorkOrder", i=wo_input(f, plannedQty=12))
    assert changed["workOrder"]["plannedQty"] == 12
    assert changed["workOrder"]["dueDate"] is None
    assert (await written(services.engine, f.code("WO")))["workOrder"][2] == 12


async def test_release_work_order(api: ApiClient, f: Factory) -> None:
    await payload(api, RECEIVE, "receiveWorkOrder", i=wo_input(f))
    first = await payload(api, RELEASE, "releaseWorkOrder", w=f.code("WO"))
    assert first == {"workOrder": {"woNo": f.code("WO"), "status": "RELEASED"}, "error": None}
    again = await payload(api, RELEASE, "releaseWorkOrder", w=f.code("WO"))
    assert again == first  # a no-op
    wo_no = unique("NOWO")
    refused = await payload(api, RELEASE, "releaseWorkOrder", w=wo_no)
    assert (refused["workOrder"], refused["error"]["code"]) == (None, "WORK_ORDER_NOT_FOUND")
    assert refused["error"]["details"] == {"key": wo_no}


# ---------------------------------------------------------------- runs


async def test_create_run_freezes_the_latest_ready_version(
    api: ApiClient, f: Factory, services: Services
) -> None:
    await released(api, f)
    # version 2 READY, then version 3 INVALID: a run freezes version 2
    await f.do(md.CompileRouting(f.code("R")))
    await f.do(md.UpsertRouting(Routing(f.code("R"), "Route", steps=())))
    await f.do(md.CompileRouting(f.code("R")))
    created = await payload(
        api, CREATE_RUN, "createRun", i=run_input(f, runNo=f.code("RUN-A"), planQty=3)
    )
    assert created == {
        "run": {
            "runNo": f.code("RUN-A"),
            "status": "PREP",
            "planQty": 3,
            "workOrder": {"woNo": f.code("WO"), "status": "IN_PROGRESS"},
            "line": {"code": f.code("LINE")},
            "routeVersion": {"versionNo": 2, "status": "READY"},
        },
        "error": None,
    }
    data = await api.gql(
        """query($r: String!) { run(runNo: $r) { runNo status planQty
          workOrder { woNo status plannedQty runs { runNo } } line { code name }
          routeVersion { versionNo status route { code } }
          units { edges { node { sn } } pageInfo { hasNextPage endCursor } totalCount } } }""",
        {"r": f.code("RUN-A")},
    )
    assert data["run"] == {
        "runNo": f.code("RUN-A"),
        "status": "PREP",
        "planQty": 3,
        "workOrder": {
            "woNo": f.code("WO"),
            "status": "IN_PROGRESS",
            "plannedQty": 10,
            "runs": [{"runNo": f.code("RUN-A")}],
        },
        "line": {"code": f.code("LINE"), "name": "Line"},
        "routeVersion": {"versionNo": 2, "status": "READY", "route": {"code": f.code("R")}},
        "units": {
            "edges": [],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "totalCount": 0,
        },
    }
    dup = await payload(
        api, CREATE_RUN, "createRun", i=run_input(f, runNo=f.code("RUN-A"), planQty=9)
    )
    assert (dup["run"], dup["error"]["code"]) == (None, "RUN_ALREADY_EXISTS")
    assert dup["error"]["details"] == {"runNo": f.code("RUN-A")}


async def test_authorize_and_revoke(api: ApiClient, f: Factory) -> None:
    await released(api, f)
    run_no = await a_run(api, f)
    steps = [
        (AUTHORIZE, "authorizeRun", "AUTHORIZED"),
        (AUTHORIZE, "authorizeRun", "AUTHORIZED"),  # again: a no-op
        (REVOKE, "revokeRunAuthorization", "PREP"),
        (REVOKE, "revokeRunAuthorization", "PREP"),  # PREP: a no-op
        (AUTHORIZE, "authorizeRun", "AUTHORIZED"),
    ]
    for doc, field, status in steps:
        result = await payload(api, doc, field, r=run_no)
        assert result == {"run": {"runNo": run_no, "status": status}, "error": None}, field


async def test_run_not_found(api: ApiClient) -> None:
    run_no = unique("NORUN")
    for doc, field in ((AUTHORIZE, "authorizeRun"), (REVOKE, "revokeRunAuthorization")):
        result = await payload(api, doc, field, r=run_no)
        assert (result["run"], result["error"]["code"]) == (None, "RUN_NOT_FOUND")
        assert result["error"]["details"] == {"key": run_no}
    reg = await payload(api, REGISTER, "registerUnits", i={"runNo": run_no, "count": 1})
    assert (reg["units"], reg["error"]["code"]) == ([], "RUN_NOT_FOUND")
    data = await api.gql("query($r: String!) { run(runNo: $r) { runNo } }", {"r": run_no})
    assert data["run"] is None


# ---------------------------------------------------------------- units


async def test_register_units_explicit_and_generated(
    api: ApiClient, f: Factory, services: Services
) -> None:
    await released(api, f)
    run_no = await a_run(api, f, runNo=f.code("RUN"))
    sns = [f.code("A"), f.code("B")]
    explicit = await payload(api, REGISTER, "registerUnits", i={"runNo": run_no, "sns": sns})
    assert explicit == {
        "units": [{"sn": sn, "status": "QUEUED", "currentStepNo": 10} for sn in sns],
        "error": None,
    }
    prefixed = await payload(
        api, REGISTER, "registerUnits", i={"runNo": run_no, "count": 2, "snPrefix": f.code("P-")}
    )
    assert [u["sn"] for u in prefixed["units"]] == [f.code("P-000001"), f.code("P-000002")]
    default = await payload(api, REGISTER, "registerUnits", i={"runNo": run_no, "count": 3})
    # the sequence is counted per prefix (the default one is the run's own)
    assert [u["sn"] for u in default["units"]] == [f"{run_no}-00000{i}" for i in (1, 2, 3)]
    # ... across runs: another run generating under P- goes on from P-000002
    other = await a_run(api, f, runNo=f.code("RUN2"))
    more = await payload(
        api, REGISTER, "registerUnits", i={"runNo": other, "count": 1, "snPrefix": f.code("P-")}
    )
    assert more == {
        "units": [{"sn": f.code("P-000003"), "status": "QUEUED", "currentStepNo": 10}],
        "error": None,
    }
    unit = await api.gql(
        """query($sn: String!) { unit(sn: $sn) { sn status currentStepNo
          workOrder { woNo status } run { runNo status } } }""",
        {"sn": f"{run_no}-000003"},
    )
    assert unit["unit"] == {
        "sn": f"{run_no}-000003",
        "status": "QUEUED",
        "currentStepNo": 10,
        "workOrder": {"woNo": f.code("WO"), "status": "IN_PROGRESS"},
        "run": {"runNo": run_no, "status": "PREP"},
    }
    missing = await api.gql('query { unit(sn: "NO-SUCH-SN") { sn } }')
    assert missing["unit"] is None
    assert len((await written(services.engine, f.code("WO")))["units"]) == 8


async def test_work_order_validation(api: ApiClient, f: Factory, services: Services) -> None:
    refused = await payload(api, RECEIVE, "receiveWorkOrder", i=wo_input(f, plannedQty=0))
    assert refused["workOrder"] is None
    assert refused["error"]["code"] == "VALIDATION_FAILED"
    # a naive dueDate is a request error (times carry an offset), and writes nothing
    errors = await api.errors(RECEIVE, {"i": wo_input(f, dueDate="2026-07-01T18:00:00")})
    assert "offset" in errors[0]["message"]
    assert (await written(services.engine, f.code("WO")))["workOrder"] is None


# ---------------------------------------------------------------- run units: paging, bounded reads


async def test_units_pagination(api: ApiClient, services: Services) -> None:
    f = Factory(services.bus)
    run_no = await f.run(units=7)
    pages: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(3):
        data = await api.gql(UNITS_PAGE, {"r": run_no, "first": 3, "after": after})
        page = data["run"]["units"]
        pages.append(page)
        after = page["pageInfo"]["endCursor"]
    assert [len(p["edges"]) for p in pages] == [3, 3, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert {p["totalCount"] for p in pages} == {7}
    sns = [e["node"]["sn"] for p in pages for e in p["edges"]]
    assert sns == [f.code(f"SN-00000{i}") for i in range(1, 8)]  # registration order
    assert all(p["pageInfo"]["endCursor"] == p["edges"][-1]["cursor"] for p in pages)
    # cursors are stable: the same `after` gives the same page
    again = await api.gql(
        UNITS_PAGE, {"r": run_no, "first": 3, "after": pages[0]["pageInfo"]["endCursor"]}
    )
    assert again["run"]["units"] == pages[1]
    everything = await api.gql(UNITS_PAGE, {"r": run_no, "first": 10})
    assert [e["node"]["sn"] for e in everything["run"]["units"]["edges"]] == sns
    assert everything["run"]["units"]["pageInfo"]["hasNextPage"] is False
    defaults = await api.gql(
        "query($r: String!) { run(runNo: $r) { units { totalCount edges { node { sn } } } } }",
        {"r": run_no},
    )
    assert len(defaults["run"]["units"]["edges"]) == 7  # first defaults to 100


@pytest.mark.parametrize(
    ("first", "after"),
    [(3, "not-a-cursor"), (3, "dW5pdDp4"), (3, "dHJhY2s6MQ=="), (501, None), (-1, None)],
    ids=["garbage", "non-numeric", "other-kind", "above-limit", "negative"],
)
async def test_bad_paging_arguments_are_graphql_errors(
    api: ApiClient, services: Services, first: int, after: str | None
) -> None:
    f = Factory(services.bus)
    run_no = await f.run(units=1)
    errors = await api.errors(UNITS_PAGE, {"r": run_no, "first": first, "after": after})
    assert errors[0]["path"] == ["run", "units"]


async def test_run_units_read_in_a_bounded_number_of_statements(
    api: ApiClient, services: Services
) -> None:
    f = Factory(services.bus)
    small = await f.run(units=2)
    big = (
        await f.do(prod.CreateRun(f.code("WO"), f.code("LINE"), 40, run_no=f.code("BIG")))
    ).run_no
    await f.do(prod.RegisterUnits(big, count=40))
    query = """query($r: String!) { run(runNo: $r) { runNo
      units(first: 50) { edges { node { sn workOrder { woNo } run { runNo } } } totalCount }
      routeVersion { versionNo } } }"""
    counts = {}
    for run_no, n in ((small, 2), (big, 40)):
        with count_statements(services.engine) as seen:
            data = await api.gql(query, {"r": run_no})
        assert data["run"]["units"]["totalCount"] == n
        assert len(data["run"]["units"]["edges"]) == n
        assert {e["node"]["run"]["runNo"] for e in data["run"]["units"]["edges"]} == {run_no}
        assert {e["node"]["workOrder"]["woNo"] for e in data["run"]["units"]["edges"]} == {
            f.code("WO")
        }
        counts[n] = len(seen)
    assert counts[2] == counts[40], counts
    assert counts[40] <= 6, counts
