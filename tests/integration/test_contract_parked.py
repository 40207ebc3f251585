"""The repository contract of parked events (issue 20), on the fake and both SQL units of
work (the `impl` fixture, tests/integration/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.enums import IngestEventType, RouteVersionStatus, RunStatus, UnitStatus, WorkOrderStatus
from domain.ingest.records import IngestEvent, PairingKey, ParkedEvent
from domain.runs_and_units import Run, Unit, WorkOrder
from tests.conftest import unique
from tests.repository_data import AT, LATER, Implementation, a_version, assert_utc, master_data


async def _units(impl: Implementation, tag: str, n: int) -> list[int]:
    uow = impl.new_uow
    await master_data(uow, tag)
    async with uow() as u:
        version = await u.route_versions.add(a_version(f"{tag}-R", 1, RouteVersionStatus.READY))
        await u.work_orders.add(WorkOrder(f"{tag}-WO", "P", n, WorkOrderStatus.IN_PROGRESS))
        await u.runs.add(
            Run(f"{tag}-RUN", f"{tag}-WO", RunStatus.IN_PROGRESS, n, version.id or 0, created_at=AT)
        )
        await u.units.add_many(
            [
                Unit(f"{tag}-SN{i}", f"{tag}-WO", f"{tag}-RUN", UnitStatus.QUEUED, 10, AT)
                for i in range(n)
            ]
        )
        units = await u.units.get_many([f"{tag}-SN{i}" for i in range(n)])
        await u.commit()
    return [unit.id or 0 for unit in sorted(units, key=lambda unit: unit.sn)]


def _parked(tag: str, key: str, unit_ids: list[int], step_no: int, minutes: int) -> ParkedEvent:
    return ParkedEvent(
        source_system=f"{tag}-EQP",
        dedupe_key=key,
        input_hash="a" * 64,
        event_type=IngestEventType.TEST,
        occurred_at=AT + timedelta(minutes=minutes),
        received_at=LATER,
        expires_at=LATER + timedelta(minutes=minutes),
        run_no=f"{tag}-RUN",
        waiting_for_step_no=step_no,
        input={"sourceSystem": f"{tag}-EQP", "dedupeKey": key, "payload": {"sn": "x"}},
        unit_ids=tuple(unit_ids),
        sns=tuple(f"{tag}-SN{i}" for i in range(len(unit_ids))),
        token_name="tok",
    )


async def test_parked_events_round_trip(impl: Implementation) -> None:
    """Stored with their units, found by key, by unit and step (oldest occurredAt first), by
    expiry; removed once (the second remove answers False)."""
    tag = unique("PK")
    u0, u1, u2 = await _units(impl, tag, 3)
    late = _parked(tag, "k-late", [u0, u1], 20, minutes=5)
    early = _parked(tag, "k-early", [u1], 20, minutes=1)
    other_step = _parked(tag, "k-30", [u0], 30, minutes=0)
    async with impl.new_uow() as u:
        stored_late = await u.parked.add(late)
        stored_early = await u.parked.add(early)
        stored_30 = await u.parked.add(other_step)
        await u.commit()
    assert stored_late.id is not None and stored_early.id is not None
    assert len({stored_late.id, stored_early.id, stored_30.id}) == 3

    async with impl.new_uow() as u:
        found = await u.parked.get_by_key(late.source_system, "k-late")
        assert found is not None
        # datetimes compare by instant (SQL gives them back in UTC)
        assert found == stored_late
        if impl.name != "fake":
            assert_utc(found.occurred_at, late.occurred_at)
            assert_utc(found.expires_at, late.expires_at)
        assert await u.parked.get_by_key(late.source_system, "k-none") is None
        waiting = await u.parked.waiting([u1], 20)
        assert [p.dedupe_key for p in waiting] == ["k-early", "k-late"]
        assert [p.dedupe_key for p in await u.parked.waiting([u0, u2], 20)] == ["k-late"]
        assert [p.dedupe_key for p in await u.parked.waiting([u0], 30)] == ["k-30"]
        assert await u.parked.waiting([u2], 20) == []
        assert await u.parked.waiting([], 20) == []
        due = await u.parked.expired(LATER + timedelta(minutes=1), limit=10)
        assert [p.dedupe_key for p in due] == ["k-30", "k-early"]
        assert [p.dedupe_key for p in await u.parked.expired(LATER, limit=1)] == ["k-30"]
        assert sorted(due[1].unit_ids) == [u1]

    async with impl.new_uow() as u:
        assert await u.parked.remove(stored_early.id)
        assert not await u.parked.remove(stored_early.id)
        await u.commit()
    async with impl.new_uow() as u:
        assert [p.dedupe_key for p in await u.parked.waiting([u1], 20)] == ["k-late"]
        assert await u.parked.get_by_key(late.source_system, "k-early") is None


async def test_an_uncommitted_park_leaves_nothing(impl: Implementation) -> None:
    tag = unique("PKR")
    (u0,) = await _units(impl, tag, 1)
    async with impl.new_uow() as u:
        await u.parked.add(_parked(tag, "k-1", [u0], 20, minutes=0))
    async with impl.new_uow() as u:
        assert await u.parked.get_by_key(f"{tag}-EQP", "k-1") is None
        assert await u.parked.waiting([u0], 20) == []


async def test_an_event_keeps_its_acceptance_time(impl: Implementation) -> None:
    """ingest_event.accepted_at (a re-driven event: accepted after it was received)."""
    source = unique("ACC")
    event = IngestEvent(
        source_system=source,
        dedupe_key="k-1",
        input_hash="c" * 64,
        event_type=IngestEventType.AUTO,
        occurred_at=AT,
        received_at=AT,
        accepted_at=LATER,
        payload={},
    )
    async with impl.new_uow() as u:
        saved = await u.ingest_events.add(event, [])
        await u.commit()
    assert saved is not None
    async with impl.new_uow() as u:
        found = await u.ingest_events.get_by_key(source, "k-1")
        assert found is not None
        assert found == saved
        if impl.name != "fake":
            assert_utc(found.accepted_at, LATER)


async def test_claim_key_answers_the_keys_parked_event(impl: Implementation) -> None:
    """The accept's first step names the event parked under the key (its id and input hash),
    so a resend of a parked event is answered without another statement on PostgreSQL."""
    tag = unique("PC")
    [u0] = await _units(impl, tag, 1)
    async with impl.new_uow() as u:
        stored = await u.parked.add(_parked(tag, "k-parked", [u0], 20, minutes=0))
        await u.commit()
    async with impl.new_uow() as u:
        claim = await u.ingest_events.claim_key(f"{tag}-EQP", "k-parked", None)
        assert (claim.token_held, claim.event) == (True, None)
        assert (claim.parked_id, claim.parked_hash) == (stored.id, "a" * 64)
        free = await u.ingest_events.claim_key(f"{tag}-EQP", "k-free", None)
        assert (free.event, free.parked_id, free.parked_hash) == (None, None, None)


async def test_events_waiting_for_a_cfx_start(impl: Implementation) -> None:
    """No run, no step, no units: found by their source and TransactionID, oldest occurredAt
    first, and by no unit's step; removed as any parked event."""
    tag = unique("PS")
    (u0,) = await _units(impl, tag, 1)
    base = replace(
        _parked(tag, "k", [], 0, minutes=0),
        run_no=None,
        waiting_for_step_no=None,
        waiting_for_transaction="tx-1",
    )
    late = replace(base, dedupe_key="k-late", occurred_at=AT + timedelta(minutes=5))
    early = replace(base, dedupe_key="k-early", occurred_at=AT + timedelta(minutes=1))
    other = replace(base, dedupe_key="k-other", waiting_for_transaction="tx-2")
    by_step = _parked(tag, "k-step", [u0], 20, minutes=0)
    async with impl.new_uow() as u:
        stored = [await u.parked.add(p) for p in (late, early, other, by_step)]
        await u.commit()
    async with impl.new_uow() as u:
        found = await u.parked.waiting_for_start(f"{tag}-EQP", "tx-1")
        assert [p.dedupe_key for p in found] == ["k-early", "k-late"]
        assert found[1] == stored[0]
        assert (found[0].run_no, found[0].waiting_for_step_no, found[0].unit_ids) == (
            None,
            None,
            (),
        )
        assert [p.dedupe_key for p in await u.parked.waiting_for_start(f"{tag}-EQP", "tx-2")] == [
            "k-other"
        ]
        assert await u.parked.waiting_for_start("another-source", "tx-1") == []
        assert [p.dedupe_key for p in await u.parked.waiting([u0], 20)] == ["k-step"]
        step = await u.parked.get_by_key(f"{tag}-EQP", "k-step")
        assert step is not None and step.waiting_for_transaction is None
        assert stored[1].id is not None and await u.parked.remove(stored[1].id)
        await u.commit()
    async with impl.new_uow() as u:
        found = await u.parked.waiting_for_start(f"{tag}-EQP", "tx-1")
        assert [p.dedupe_key for p in found] == ["k-late"]


async def test_waits_for_a_recorded_start_are_found_once(impl: Implementation) -> None:
    """Transactions that parked events wait for and whose start is recorded, each once; not
    those without a start, nor a start nothing waits for."""
    tag = unique("PW")
    await _units(impl, tag, 1)
    base = replace(_parked(tag, "k", [], 0, minutes=0), run_no=None, waiting_for_step_no=None)
    source = f"{tag}-EQP"
    async with impl.new_uow() as u:
        for key, tx in (("k1", "tx-started"), ("k2", "tx-started"), ("k3", "tx-waiting")):
            await u.parked.add(replace(base, dedupe_key=key, waiting_for_transaction=tx))
        await u.cfx_work.record_start(source, "tx-started", AT, (), None, 1)
        await u.cfx_work.record_start(source, "tx-nobody-waits", AT, (), None, 2)
        await u.cfx_work.record_result(source, "tx-waiting", 3, "uid-3")  # a result, no start
        await u.commit()
    async with impl.new_uow() as u:
        found = [k for k in await u.parked.started_waits(10_000) if k.source_system == source]
        assert found == [PairingKey(source, "tx-started")]
