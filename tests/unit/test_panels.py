"""The pure rules of a panel's boards (domain/panels.py, issue 19 item 1)."""

from __future__ import annotations

import pytest

from domain.errors import DomainError, ErrorCode
from domain.panels import MAX_PANEL_POSITIONS, PanelSpec, check_barcodes_distinct, panel_boards
from domain.usecases.runs_and_units import RegisterUnits
from tests.production_builders import a_run, factory, refused, released


def test_boards_are_named_by_pattern_unless_they_have_their_own_label() -> None:
    assert panel_boards(PanelSpec("P", 3, sns=(None, "OWN", None)), None) == [
        (1, "P-1"),
        (2, "OWN"),
        (3, "P-3"),
    ]
    # braces other than the two placeholders stay as they are (a pattern is data)
    assert panel_boards(PanelSpec("P", 1, sn_pattern="{x}{panel}.{position}"), None) == [
        (1, "{x}P.1")
    ]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PanelSpec("P", 0), "panels.positions"),
        (PanelSpec("P", MAX_PANEL_POSITIONS + 1), "panels.positions"),
        (PanelSpec("P", 2, sns=("A",)), "panels.sns"),
        (PanelSpec("P", 2, sn_pattern="{panel}"), "panels.snPattern"),
        (PanelSpec("P", 2, x_out_positions=(3,)), "panels.xOutPositions"),
        (PanelSpec("P", 2, x_out_positions=(1, 1)), "panels.xOutPositions"),
        (PanelSpec("", 2), "panels.panelSn"),
    ],
)
def test_what_cannot_be_a_panel_is_refused(spec: PanelSpec, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        panel_boards(spec, None)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert (refused.value.details or {})["field"] == field


def test_the_site_sn_pattern_applies_to_generated_boards() -> None:
    with pytest.raises(DomainError):
        panel_boards(PanelSpec("P", 1), r"SN\d+")


def test_a_barcode_names_one_thing_in_a_registration() -> None:
    check_barcodes_distinct(["P1", "P2"], ["P1-1", "P2-1"])
    with pytest.raises(DomainError) as refused:
        check_barcodes_distinct(["P1"], ["P1", "X", "X"])
    assert (refused.value.details or {})["repeated"] == ["P1", "X"]


async def test_a_registration_of_panels_is_bounded_and_all_or_nothing() -> None:
    f, store = await factory()
    await released(f)
    run_no = await a_run(f)
    eleven = tuple(PanelSpec(f.code(f"P{i}"), 1000) for i in range(11))
    bad: list[tuple[PanelSpec, ...]] = [
        (),
        eleven,  # 11,000 boards: over MES_MAX_REGISTER_UNITS
        (PanelSpec(f.code("A"), 2), PanelSpec(f.code("A"), 2)),  # one barcode twice
        (PanelSpec(f.code("B"), 1), PanelSpec(f.code("B-1"), 1, sn_pattern="{panel}{position}")),
    ]
    for panels in bad:
        await refused(f, store, RegisterUnits(run_no, panels=panels), ErrorCode.VALIDATION_FAILED)
    assert store.panels == {}
    units = await f.do(RegisterUnits(run_no, panels=(PanelSpec(f.code("OK"), 2),)))
    assert [(u.sn, u.panel_sn, u.position) for u in units] == [
        (f.code("OK-1"), f.code("OK"), 1),
        (f.code("OK-2"), f.code("OK"), 2),
    ]
    assert store.panels[f.code("OK")].run_no == run_no


async def test_generated_sns_skip_a_panel_barcode() -> None:
    f, _ = await factory()
    await released(f)
    run_no = await a_run(f)
    await f.do(RegisterUnits(run_no, panels=(PanelSpec(f"{run_no}-000001", 1),)))
    units = await f.do(RegisterUnits(run_no, count=1))
    assert [u.sn for u in units] == [f"{run_no}-000002"]
