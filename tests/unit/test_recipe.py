"""Program (recipe) interlock (issue 16 item 6, DOMAIN.md §4 step 7): a step's recipe, frozen
at compile, against the program the machine says it ran (`recipePath`). Over the fakes."""

from __future__ import annotations

import pytest

from domain import master as dm
from domain.enums import IngestStatus, StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.checks import check_recipe
from domain.ingest.pipeline import IngestService, MappingCache
from domain.limits import Limits
from domain.mapping.normalize import IngestMapping
from domain.routes import RouteStep
from domain.usecases import master_data as md
from tests.fakes import FakeClock, FakeUnitsOfMeasure, fake_bus
from tests.ingest_builders import ACTOR, PROGRAMMED, IngestFactory


def _step(recipe: str | None) -> RouteStep:
    return RouteStep(10, "AOI", "AOI", StationType.AUTO, recipe=recipe)


def test_check_recipe() -> None:
    assert check_recipe(_step("TOP-v3"), "TOP-v3") is None
    assert check_recipe(_step("TOP-v3"), None) is None  # the machine said nothing
    assert check_recipe(_step(None), "BOT-v1") is None  # the step names none
    err = check_recipe(_step("TOP-v3"), "BOT-v1", sn="B1")
    assert err is not None and err.code is ErrorCode.RECIPE_MISMATCH
    assert err.details == {"stepNo": 10, "expected": "TOP-v3", "got": "BOT-v1", "sn": "B1"}


def test_the_mapping_reads_the_recipe() -> None:
    root = {"payload": {"station": "A", "pcb": {"id": "B"}, "judgement": "OK", "program": 7}}
    assert IngestMapping.parse(PROGRAMMED).normalize(root, StationType.AUTO).recipe == "7"
    root["payload"]["program"] = " TOP "
    with pytest.raises(DomainError) as err:
        IngestMapping.parse(PROGRAMMED).normalize(root, StationType.AUTO)
    assert err.value.code is ErrorCode.INGEST_PAYLOAD_INVALID


async def _factory(recipe: str | None) -> tuple[IngestFactory, IngestService, object]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=3, aoi_mapping=PROGRAMMED, aoi_recipe=recipe)
    return (
        f,
        IngestService(bus.uow_factory, FakeClock(), Limits(), MappingCache(), FakeUnitsOfMeasure()),
        store,
    )


async def test_another_program_is_refused_with_expected_and_got() -> None:
    f, service, store = await _factory("TOP-v3")
    a, b, c = f.sns
    wrong = f.aoi_input(a)
    wrong["payload"]["program"] = "BOT-v1"
    out = await service.ingest(f.envelope(wrong), ACTOR)
    assert out.status is IngestStatus.REJECTED and out.error is not None
    assert out.error.code is ErrorCode.RECIPE_MISMATCH
    assert out.error.details == {"stepNo": 10, "expected": "TOP-v3", "got": "BOT-v1"}
    assert store.tracks == []  # type: ignore[attr-defined]
    right = f.aoi_input(b)
    right["payload"]["program"] = "TOP-v3"
    out = await service.ingest(f.envelope(right), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error
    assert out.event is not None and out.event.normalized is not None
    assert out.event.normalized["recipe"] == "TOP-v3"
    # a machine that names no program is not checked
    out = await service.ingest(f.envelope(f.aoi_input(c)), ACTOR)
    assert out.status is IngestStatus.ACCEPTED, out.error


async def test_a_step_without_a_recipe_takes_any_program() -> None:
    f, service, _ = await _factory(None)
    data = f.aoi_input(f.sns[0])
    data["payload"]["program"] = "ANYTHING"
    assert (await service.ingest(f.envelope(data), ACTOR)).status is IngestStatus.ACCEPTED


async def test_the_recipe_is_frozen_in_the_version() -> None:
    f, service, _ = await _factory("TOP-v3")
    # the config changes after the run froze its version: the run keeps TOP-v3
    await f.do(
        md.SetExecutionConfig(
            dm.ExecutionConfig(
                f.code("R"),
                step_no=10,
                station_group_code=f.code("AOI-G"),
                ingest_mapping=PROGRAMMED,
                recipe="TOP-v4",
            )
        )
    )
    version = await f.do(md.CompileRouting(f.code("R")))
    assert version.step(10).recipe == "TOP-v4"
    data = f.aoi_input(f.sns[0])
    data["payload"]["program"] = "TOP-v4"
    out = await service.ingest(f.envelope(data), ACTOR)
    assert out.error is not None and out.error.details is not None
    assert (out.error.code, out.error.details["expected"]) == (ErrorCode.RECIPE_MISMATCH, "TOP-v3")


async def test_a_route_scope_recipe_is_inherited_and_a_step_one_wins() -> None:
    from domain.compile import merge_config

    route = dm.ExecutionConfig("R", recipe="ROUTE-P")
    step = dm.ExecutionConfig("R", step_no=10, recipe="STEP-P")
    assert merge_config(10, None, "AOI", [route]).recipe == "ROUTE-P"
    assert merge_config(10, None, "AOI", [route, step]).recipe == "STEP-P"


async def test_a_recipe_that_is_not_a_code_is_refused() -> None:
    bus, _ = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    with pytest.raises(DomainError) as err:
        await f.do(md.SetExecutionConfig(dm.ExecutionConfig(f.code("R"), recipe=" TOP ")))
    assert err.value.code is ErrorCode.VALIDATION_FAILED
