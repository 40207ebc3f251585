"""The repository contract of CFX work transactions (issue 21), on the fake and both SQL units
of work: one row per (Source, TransactionID); the first start and the first result stand."""

from __future__ import annotations

from tests.conftest import unique
from tests.repository_data import AT, LATER, Implementation, assert_utc

UNITS = (
    {"UnitIdentifier": "PNL-1", "PositionNumber": 1},
    {"UnitIdentifier": "PNL-1", "PositionNumber": 2},
)


async def test_a_start_and_a_result_pair_under_their_key(impl: Implementation) -> None:
    source, tx = unique("CFX"), "2c24590d-39c5-4039-96a5-91900cecedfa"
    async with impl.new_uow() as u:
        assert await u.cfx_work.get(source, tx) is None
        work = await u.cfx_work.record_result(source, tx, 7, "uid-7")
        assert (work.started_at, work.result_event_id, work.result_key) == (None, 7, "uid-7")
        work = await u.cfx_work.record_start(source, tx, AT, UNITS, "Recipe1", 3)
        # the row as it now stands: the start and the result already recorded
        assert (work.result_event_id, work.start_event_id, work.recipe) == (7, 3, "Recipe1")
        assert work.units == UNITS
        assert_utc(work.started_at, AT)
        await u.commit()
    async with impl.new_uow() as u:
        # the first of each stands: a second start or result changes nothing
        again = await u.cfx_work.record_start(source, tx, LATER, (), None, 9)
        again = await u.cfx_work.record_result(source, tx, 8, "uid-8")
        assert (again.start_event_id, again.result_event_id, again.units) == (3, 7, UNITS)
        assert_utc(again.started_at, AT)
        await u.commit()
    async with impl.new_uow() as u:
        found = await u.cfx_work.get(source, tx)
        assert found is not None and found.id == again.id
        assert (found.start_event_id, found.result_key) == (3, "uid-7")
        # another source's same TransactionID is another transaction
        assert await u.cfx_work.get(f"{source}-other", tx) is None
        assert await u.cfx_work.fill_in_at(-1, AT) == 0
