"""Panels through GraphQL on both databases (issue 19 item 1): registration by panel, the
panel query and unit.panel, one barcode namespace, limits, and bounded statements."""

from __future__ import annotations

from typing import Any

from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import ApiClient, count_statements
from tests.panel_builders import register, released_run

PANEL = """query($p: String!) { panel(panelSn: $p) { panelSn positions run { runNo }
  boards { sn position panelSn } } }"""
LOAD = """mutation($i: CarrierLoadInput!) { loadCarrier(input: $i) { error { code } } }"""
TRACE = """query($sn: String!) { unit(sn: $sn) { sn position
  panel { panelSn positions boards { sn position } } } }"""


async def test_a_panel_registers_its_boards_named_by_pattern_or_own_label(
    api: ApiClient, f: Factory
) -> None:
    run_no = await released_run(api, f)
    p1, p2, own = f.code("PNL1"), f.code("PNL2"), f.code("OWN")
    reg = await register(
        api,
        run_no,
        panels=[
            {"panelSn": p1, "positions": 3, "sns": [None, own, None]},
            {"panelSn": p2, "positions": 2, "snPattern": "{panel}/B{position}"},
        ],
    )
    assert reg["error"] is None
    assert [(u["sn"], u["panelSn"], u["position"]) for u in reg["units"]] == [
        (f"{p1}-1", p1, 1),
        (own, p1, 2),
        (f"{p1}-3", p1, 3),
        (f"{p2}/B1", p2, 1),
        (f"{p2}/B2", p2, 2),
    ]
    found = (await api.gql(PANEL, {"p": p1}))["panel"]
    assert found == {
        "panelSn": p1,
        "positions": 3,
        "run": {"runNo": run_no},
        "boards": [
            {"sn": f"{p1}-1", "position": 1, "panelSn": p1},
            {"sn": own, "position": 2, "panelSn": p1},
            {"sn": f"{p1}-3", "position": 3, "panelSn": p1},
        ],
    }
    trace = (await api.gql(TRACE, {"sn": own}))["unit"]
    assert trace["position"] == 2 and trace["panel"]["panelSn"] == p1
    assert len(trace["panel"]["boards"]) == 3
    assert (await api.gql(PANEL, {"p": f.code("NOPE")}))["panel"] is None
    plain = await register(api, run_no, sns=[f.code("PLAIN")])
    assert plain["units"][0]["panelSn"] is None and plain["units"][0]["position"] is None


async def test_one_barcode_namespace_for_unit_sns_and_panels(api: ApiClient, f: Factory) -> None:
    run_no = await released_run(api, f)
    sn, panel = f.code("SN"), f.code("PNL")
    assert (await register(api, run_no, sns=[sn]))["error"] is None
    assert (await register(api, run_no, panels=[{"panelSn": panel, "positions": 2}]))[
        "error"
    ] is None
    # a panel barcode that is a unit's SN, a board SN that is a unit's, a unit SN that is a panel's
    for kw, taken in (
        ({"panels": [{"panelSn": sn, "positions": 1}]}, sn),
        ({"panels": [{"panelSn": f.code("P2"), "positions": 1, "sns": [sn]}]}, sn),
        ({"sns": [panel]}, panel),
        ({"panels": [{"panelSn": panel, "positions": 1, "snPattern": "X{position}"}]}, panel),
    ):
        refused = await register(api, run_no, **kw)
        assert refused["units"] == [] and refused["error"]["code"] == "UNIT_ALREADY_EXISTS", kw
        assert taken in refused["error"]["details"]["sns"]
    # nothing of a refused registration stays
    assert (await api.gql(PANEL, {"p": f.code("P2")}))["panel"] is None
    # carriers: a panel barcode is no carrier's name, a carrier's name no panel's barcode
    on_panel = (await api.gql(LOAD, {"i": {"carrierNo": panel, "sns": [sn]}}))["loadCarrier"]
    assert on_panel["error"]["code"] == "UNIT_ALREADY_EXISTS"
    tray = f.code("TRAY")
    assert (await api.gql(LOAD, {"i": {"carrierNo": tray, "sns": [sn]}}))["loadCarrier"][
        "error"
    ] is None
    refused = await register(api, run_no, panels=[{"panelSn": tray, "positions": 1}])
    assert refused["error"]["code"] == "UNIT_ALREADY_EXISTS"
    # ... while a unit SN may still be a carrier's name (a unit SN resolves first)
    assert (await register(api, run_no, sns=[tray]))["error"] is None


async def test_panel_input_is_validated(api: ApiClient, f: Factory) -> None:
    run_no = await released_run(api, f)
    p = f.code("PV")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"panels": [{"panelSn": p, "positions": 0}]}, "panels.positions"),
        ({"panels": [{"panelSn": p, "positions": 1001}]}, "panels.positions"),
        ({"panels": [{"panelSn": p, "positions": 2, "sns": ["A"]}]}, "panels.sns"),
        ({"panels": [{"panelSn": p, "positions": 2, "snPattern": "{panel}"}]}, "panels.snPattern"),
        (
            {"panels": [{"panelSn": p, "positions": 2, "xOutPositions": [0]}]},
            "panels.xOutPositions",
        ),
        ({"panels": [{"panelSn": p, "positions": 1, "sns": [p]}]}, "panels"),
        ({"panels": [{"panelSn": p, "positions": 1}], "count": 1}, "sns"),
    ]
    for kw, field in cases:
        refused = await register(api, run_no, **kw)
        assert refused["error"]["code"] == "VALIDATION_FAILED", kw
        assert refused["error"]["details"]["field"] == field, (kw, refused["error"])


async def test_a_100_board_panel_costs_a_bounded_number_of_statements(
    api: ApiClient, f: Factory, services: Services
) -> None:
    run_no = await released_run(api, f)
    counts: dict[str, list[int]] = {"register": [], "panel": [], "trace": []}
    for n in (2, 100):
        panel = f.code(f"BIG{n}")
        with count_statements(services.engine) as seen:
            reg = await register(api, run_no, panels=[{"panelSn": panel, "positions": n}])
        assert reg["error"] is None and len(reg["units"]) == n
        counts["register"].append(len(seen))
        with count_statements(services.engine) as seen:
            found = (await api.gql(PANEL, {"p": panel}))["panel"]
        assert len(found["boards"]) == n
        counts["panel"].append(len(seen))
        with count_statements(services.engine) as seen:
            trace = (await api.gql(TRACE, {"sn": f"{panel}-{n}"}))["unit"]
        assert len(trace["panel"]["boards"]) == n
        counts["trace"].append(len(seen))
    for what, (small, big) in counts.items():
        assert small == big, (what, counts)
    assert counts["register"][1] <= 10, counts  # auth, run lock, 3 namespace reads, inserts, audit
    assert counts["panel"][1] <= 5 and counts["trace"][1] <= 5, counts
