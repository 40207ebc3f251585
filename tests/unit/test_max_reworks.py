"""maxReworks (DOMAIN.md §6, issue 16 item 9) over the fakes: RETEST and REWORK together at
most the route's maxReworks times per unit; one more is DISPOSITION_INVALID with the count."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain import master as dm
from domain.enums import DispositionAction, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.usecases import lifecycle as lc
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from tests.fakes import FakeStore, fake_bus
from tests.ingest_builders import IngestFactory


def out_failed(store: FakeStore, sn: str) -> None:
    store.units[sn] = replace(store.units[sn], status=UnitStatus.OUT_FAILED, current_step_no=20)


async def with_max_reworks(max_reworks: int | None) -> tuple[IngestFactory, FakeStore]:
    bus, store = fake_bus()
    f = await IngestFactory(bus).build(units=1)
    c = f.code
    if max_reworks is not None:
        await f.do(md.SetExecutionConfig(dm.ExecutionConfig(c("R"), max_reworks=max_reworks)))
    version = await f.do(md.CompileRouting(c("R")))
    assert version.is_ready, version.errors
    run = await f.do(prod.CreateRun(c("WO"), c("L"), 1, run_no=c("RUN2")))
    f.sns = [u.sn for u in await f.do(prod.RegisterUnits(run.run_no, count=1, sn_prefix=c("M-")))]
    return f, store


async def test_retest_and_rework_together_stop_at_max_reworks() -> None:
    f, store = await with_max_reworks(2)
    sn = f.sns[0]
    out_failed(store, sn)
    await f.do(lc.DisposeUnit(sn, DispositionAction.RETEST, "reseat"))
    out_failed(store, sn)
    await f.do(lc.DisposeUnit(sn, DispositionAction.REWORK, "new R1", to_step_no=10))
    out_failed(store, sn)
    for action, to_step in ((DispositionAction.RETEST, None), (DispositionAction.REWORK, 10)):
        with pytest.raises(DomainError) as refused:
            await f.do(lc.DisposeUnit(sn, action, "again", to_step_no=to_step))
        assert refused.value.code is ErrorCode.DISPOSITION_INVALID
        assert refused.value.details is not None
        assert (refused.value.details["reworks"], refused.value.details["maxReworks"]) == (2, 2)
    assert store.units[sn].status is UnitStatus.OUT_FAILED  # nothing written
    # other dispositions stay open to it
    await f.do(lc.DisposeUnit(sn, DispositionAction.SCRAP, "beyond repair"))
    assert store.units[sn].status is UnitStatus.SCRAPPED


async def test_the_default_is_three() -> None:
    f, store = await with_max_reworks(None)
    sn = f.sns[0]
    for _ in range(3):
        out_failed(store, sn)
        await f.do(lc.DisposeUnit(sn, DispositionAction.RETEST, "again"))
    out_failed(store, sn)
    with pytest.raises(DomainError) as refused:
        await f.do(lc.DisposeUnit(sn, DispositionAction.RETEST, "a fourth time"))
    assert refused.value.details is not None and refused.value.details["maxReworks"] == 3


async def test_zero_allows_no_rework_and_only_the_route_scope_sets_it() -> None:
    f, store = await with_max_reworks(0)
    sn = f.sns[0]
    out_failed(store, sn)
    with pytest.raises(DomainError) as refused:
        await f.do(lc.DisposeUnit(sn, DispositionAction.RETEST, "no"))
    assert refused.value.code is ErrorCode.DISPOSITION_INVALID
    for cfg in (
        dm.ExecutionConfig(f.code("R"), step_no=20, max_reworks=1),
        dm.ExecutionConfig(f.code("R"), operation_code=f.code("ICT"), max_reworks=1),
        dm.ExecutionConfig(f.code("R"), max_reworks=-1),
        dm.ExecutionConfig(f.code("R"), max_reworks=101),
    ):
        with pytest.raises(DomainError) as bad:
            await f.do(md.SetExecutionConfig(cfg))
        assert bad.value.code is ErrorCode.VALIDATION_FAILED
        assert bad.value.details is not None and bad.value.details["field"] == "maxReworks"
