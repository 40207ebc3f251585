"""X-out boards of a panel (issue 19 item 3) on both databases: registered X_OUT with the
disposition that says so, terminal for closeRun, left out of later events that name the panel,
left out too when an event names one by position, refused (UNIT_X_OUT) when an event names
only X_OUT boards; marked X_OUT by
an event whose result for the board is a skip value (`result.skipValues`)."""

from __future__ import annotations

import copy

from sqlalchemy import update

from adapters import tables as t
from domain.enums import TrackResult
from domain.panels import PanelSpec
from domain.usecases import manual_execution as ex
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.cfx_messages import body
from tests.conftest import ApiClient, unique
from tests.ingest_builders import IngestFactory
from tests.ingest_calls import ingest
from tests.panel_builders import AOI, SKIP_AOI, panel_input, register, released_run
from tests.production_calls import CLOSE, set_state

EVENT = "query($id: ID!) { ingestEvent(id: $id) { normalized } }"
UNIT = """query($sn: String!) { unit(sn: $sn) { sn status
  dispositions { action reason fromStatus toStatus } } }"""


async def test_registered_x_outs_are_x_out_with_a_disposition_and_terminal(
    api: ApiClient, f: Factory, services: Services
) -> None:
    run_no = await released_run(api, f)
    panel = f.code("XPNL")
    reg = await register(
        api, run_no, panels=[{"panelSn": panel, "positions": 3, "xOutPositions": [2]}]
    )
    assert reg["error"] is None
    assert [(u["position"], u["status"]) for u in reg["units"]] == [
        (1, "QUEUED"),
        (2, "X_OUT"),
        (3, "QUEUED"),
    ]
    board = (await api.gql(UNIT, {"sn": f"{panel}-2"}))["unit"]
    assert board["dispositions"] == [
        {
            "action": "X_OUT",
            "reason": f"registered X_OUT on panel {panel} at position 2",
            "fromStatus": "X_OUT",
            "toStatus": "X_OUT",
        }
    ]
    assert (await api.gql(UNIT, {"sn": f"{panel}-1"}))["unit"]["dispositions"] == []
    refused = (await api.gql(CLOSE, {"r": run_no}))["closeRun"]
    assert refused["error"]["code"] == "RUN_NOT_READY"
    assert refused["error"]["details"]["openUnits"] == 2
    # the worked boards finish; the X_OUT one counts as finished like a SCRAPPED one
    await set_state(services.engine, run_no, "IN_PROGRESS")
    async with services.engine.begin() as conn:
        await conn.execute(
            update(t.unit)
            .where(t.unit.c.run_no == run_no, t.unit.c.status == "QUEUED")
            .values(status="DONE")
        )
    closed = (await api.gql(CLOSE, {"r": run_no}))["closeRun"]
    assert closed["error"] is None and closed["run"]["status"] == "COMPLETED"


async def _x_out_factory(
    services: Services, panel_sn: str, positions: int, x_outs: tuple[int, ...]
) -> IngestFactory:
    f = await IngestFactory(services.bus).build(units=1, aoi_mapping=AOI, aoi_required=False)
    spec = PanelSpec(panel_sn, positions, x_out_positions=x_outs)
    await f.do(prod.RegisterUnits(f.run_no, panels=(spec,)))
    return f


async def test_an_event_naming_the_panel_leaves_its_x_outs_out(
    api: ApiClient, services: Services
) -> None:
    panel = unique("XPNL")
    f = await _x_out_factory(services, panel, 3, (2,))
    message = body("UnitsInspected.panel")
    message["InspectedPanel"]["UnitIdentifier"] = panel
    r = await ingest(api, panel_input(f, message))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f"{panel}-1", f"{panel}-3"]
    board = (await api.gql(UNIT, {"sn": f"{panel}-2"}))["unit"]
    assert board["status"] == "X_OUT"


async def test_x_out_boards_an_event_names_are_left_out_and_only_x_outs_is_unit_x_out(
    api: ApiClient, services: Services
) -> None:
    panel = unique("XPNL")
    f = await _x_out_factory(services, panel, 2, (2,))
    by_position = body("UnitsInspected")
    for unit in by_position["InspectedUnits"]:
        unit["UnitIdentifier"] = panel
    # named by its position, the X_OUT board is left out: the other board's result is taken
    r = await ingest(api, panel_input(f, copy.deepcopy(by_position)))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f"{panel}-1"]
    event = (await api.gql(EVENT, {"id": r["event"]["id"]}))["ingestEvent"]
    assert event["normalized"]["xOutsLeftOut"] == [f"{panel}-2"]
    board = (await api.gql(UNIT, {"sn": f"{panel}-2"}))["unit"]
    assert board["status"] == "X_OUT"
    # a panel whose every board is X_OUT: nothing for a panel-level event to reach
    every = unique("XPNL")
    g = await _x_out_factory(services, every, 2, (1, 2))
    panel_level = body("UnitsInspected.panel")
    panel_level["InspectedPanel"]["UnitIdentifier"] = every
    r = await ingest(api, panel_input(g, panel_level))
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "UNIT_X_OUT")
    assert r["error"]["details"] == {"panelSns": [every], "sns": [f"{every}-1", f"{every}-2"]}
    # nor for one that names only the X_OUT boards by position
    only = copy.deepcopy(by_position)
    for unit in only["InspectedUnits"]:
        unit["UnitIdentifier"] = every
    r = await ingest(api, panel_input(g, only))
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "UNIT_X_OUT")


SKIP_TRACE = """query($sn: String!) { unit(sn: $sn) { sn status currentStepNo
  tracks { stepNo result } dispositions { action reason operatorId }
  ingestEvents { dedupeKey } } }"""


async def test_a_skip_value_marks_a_board_x_out_and_the_run_still_closes(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1, aoi_mapping=SKIP_AOI, aoi_required=False)
    panel = unique("SKP")
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(panel, 2),)))
    one, two = f"{panel}-1", f"{panel}-2"
    # the SDK's published UnitsInspected, its panel renamed, the second board "Skipped"
    message = body("UnitsInspected")
    for unit in message["InspectedUnits"]:
        unit["UnitIdentifier"] = panel
    message["InspectedUnits"][1]["OverallResult"] = "Skipped"
    data = panel_input(f, message)
    r = await ingest(api, data)
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [one, two]
    assert [(u["sn"], u["result"]) for u in r["event"]["normalized"]["units"]] == [
        (one, "PASS"),
        (two, "X_OUT"),
    ]
    board = (await api.gql(SKIP_TRACE, {"sn": two}))["unit"]
    assert (board["status"], board["currentStepNo"], board["tracks"]) == ("X_OUT", 10, [])
    assert board["dispositions"] == [
        {
            "action": "X_OUT",
            "reason": f"marked X_OUT by event {data['sourceSystem']}/{data['dedupeKey']} at "
            "step 10 (result 'Skipped')",
            "operatorId": "BADGE489499",
        }
    ]
    assert board["ingestEvents"] == [{"dedupeKey": data["dedupeKey"]}]
    worked = (await api.gql(SKIP_TRACE, {"sn": one}))["unit"]
    assert (worked["status"], worked["currentStepNo"]) == ("QUEUED", 20)
    assert worked["tracks"] == [{"stepNo": 10, "result": "PASS"}]
    # ICT names the panel without positions: the X_OUT board gets no track
    r = await ingest(api, f.ict_input([(panel, "Passed", 1000.0, 3.3)]))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [one]
    assert (await api.gql(SKIP_TRACE, {"sn": two}))["unit"]["tracks"] == []
    pack = f.code("PACK-1")
    await f.do(ex.TrackIn(pack, f.run_no, one))
    await f.do(ex.TrackOut(pack, f.run_no, one, TrackResult.PASS))
    # the factory's own (plain) unit finishes too; the X_OUT board counts as finished
    async with services.engine.begin() as conn:
        await conn.execute(update(t.unit).where(t.unit.c.sn == f.sns[0]).values(status="DONE"))
    closed = (await api.gql(CLOSE, {"r": f.run_no}))["closeRun"]
    assert closed["error"] is None and closed["run"]["status"] == "COMPLETED"
