"""Events that name a panel (issue 19 item 2), with the IPC-CFX SDK's published messages (their
MessageBody as payload), on both databases: a panel barcode with a position is the board at
that position, without one every board of the panel."""

from __future__ import annotations

import copy

from domain.panels import PanelSpec
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.cfx_messages import body
from tests.conftest import ApiClient, count_statements, unique
from tests.ingest_builders import IngestFactory
from tests.ingest_calls import ingest
from tests.panel_builders import AOI, panel_input


async def _factory(services: Services, panel_sn: str, positions: int) -> IngestFactory:
    f = await IngestFactory(services.bus).build(units=1, aoi_mapping=AOI, aoi_required=False)
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(panel_sn, positions),)))
    return f


async def test_the_published_units_inspected_reaches_each_board(
    api: ApiClient, services: Services
) -> None:
    f = await _factory(services, "PANEL34543535", 2)
    r = await ingest(api, panel_input(f, body("UnitsInspected")))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == ["PANEL34543535-1", "PANEL34543535-2"]
    units = r["event"]["normalized"]["units"]
    assert [(u["sn"], u["result"]) for u in units] == [
        ("PANEL34543535-1", "PASS"),
        ("PANEL34543535-2", "FAIL"),
    ]


async def test_a_panel_level_verdict_is_each_boards(api: ApiClient, services: Services) -> None:
    f = await _factory(services, "PN123456789", 3)
    r = await ingest(api, panel_input(f, body("UnitsInspected.panel")))
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f"PN123456789-{n}" for n in (1, 2, 3)]
    assert {u["result"] for u in r["event"]["normalized"]["units"]} == {"PASS"}


async def test_the_same_board_twice_and_a_missing_position_are_refused(
    api: ApiClient, services: Services
) -> None:
    panel = unique("PNL")
    f = await _factory(services, panel, 2)
    message = body("UnitsInspected")
    for unit in message["InspectedUnits"]:
        unit["UnitIdentifier"] = panel
    twice = copy.deepcopy(message)
    twice["InspectedUnits"][1]["UnitPositionNumber"] = 1
    r = await ingest(api, panel_input(f, twice))
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "INGEST_PAYLOAD_INVALID")
    beyond = copy.deepcopy(message)
    beyond["InspectedUnits"][1]["UnitPositionNumber"] = 3
    r = await ingest(api, panel_input(f, beyond))
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "UNIT_NOT_FOUND")
    assert r["error"]["details"] == {"panelSn": panel, "position": 3}
    # a board named by its own SN and by its panel's position is the same board twice
    mixed = copy.deepcopy(message)
    mixed["InspectedUnits"][1]["UnitIdentifier"] = f"{panel}-1"
    r = await ingest(api, panel_input(f, mixed))
    assert (r["status"], r["error"]["code"]) == ("REJECTED", "INGEST_PAYLOAD_INVALID")


async def test_a_100_board_panel_event_is_bounded(api: ApiClient, services: Services) -> None:
    panel = unique("PNL")
    f = await _factory(services, panel, 100)
    message = body("UnitsInspected")
    one = message["InspectedUnits"][0]
    message["InspectedUnits"] = [
        {**copy.deepcopy(one), "UnitIdentifier": panel, "UnitPositionNumber": n}
        for n in range(1, 101)
    ]
    with count_statements(services.engine) as seen:
        r = await ingest(api, panel_input(f, message))
    assert r["status"] == "ACCEPTED", r["error"]
    assert len(r["event"]["snList"]) == 100
    # the tracks' insert is one executemany (SQLite's driver reports it row by row)
    others = [q for q in seen if not q.lstrip().startswith("INSERT INTO track ")]
    assert len(others) <= 20, others


async def test_a_partial_replay_of_one_board_of_a_panel_event(
    api: ApiClient, services: Services
) -> None:
    panel = unique("PNL")
    per_board = {**AOI["oneOf"][0], "batchPolicy": "PARTIAL"}
    f = await IngestFactory(services.bus).build(
        units=1, aoi_mapping={"oneOf": [per_board, AOI["oneOf"][1]]}, aoi_required=False
    )
    await f.do(prod.RegisterUnits(f.run_no, panels=(PanelSpec(panel, 2),)))
    ahead = body("UnitsInspected.panel")
    ahead["InspectedPanel"]["UnitIdentifier"] = f"{panel}-2"  # a board's own SN: that board
    assert (await ingest(api, panel_input(f, ahead)))["status"] == "ACCEPTED"
    message = body("UnitsInspected")
    for unit in message["InspectedUnits"]:
        unit["UnitIdentifier"] = panel
    data = panel_input(f, message)
    r = await ingest(api, data)
    assert r["status"] == "ACCEPTED", r["error"]
    assert r["event"]["snList"] == [f"{panel}-1"]
    listed = await api.gql(
        "query($s: String!) { ingestRejections(filter: {sourceSystem: $s}) "
        "{ edges { node { id dedupeKey } } } }",
        {"s": f.code("AOI-1")},
    )
    ids = [
        e["node"]["id"]
        for e in listed["ingestRejections"]["edges"]
        if e["node"]["dedupeKey"] == f"{data['dedupeKey']}#{panel}-2"
    ]
    assert len(ids) == 1
    replay = await api.gql(
        "mutation($id: ID!) { replayRejection(id: $id) { status error { code details } } }",
        {"id": ids[0]},
    )
    done = replay["replayRejection"]
    # board 2 is still past the AOI step: refused for itself, the panel's other board unasked
    assert (done["status"], done["error"]["code"]) == ("REJECTED", "STEP_MISMATCH")
