"""Races between different operations (issue 14): each side of a race on its own connection,
many times over, and the invariant checked in the database afterwards.

PostgreSQL really overlaps them (row locks decide who waits); SQLite serializes writers
(BEGIN IMMEDIATE) and must hold the same invariants."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, func, select, text

from adapters import tables as t
from domain.enums import IngestStatus
from domain.errors import DomainError
from domain.ingest.records import IngestEnvelope
from domain.panels import PanelSpec
from domain.runs_and_units import Run
from domain.usecases import carriers as cr
from domain.usecases import runs_and_units as prod
from domain.usecases.manual_execution import TrackIn
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.exec_builders import ExecFactory
from tests.ingest_builders import ACTOR, IngestFactory
from tests.races import both, fresh_runs, rounds, unexpected


def envelope(data: dict[str, Any]) -> IngestEnvelope:
    return IngestFactory.envelope(None, data)  # type: ignore[arg-type]  # (self is unused)


async def run_statuses(services: Services, run_nos: list[str]) -> dict[str, str]:
    async with services.engine.connect() as conn:
        found = await conn.execute(
            select(t.run.c.run_no, t.run.c.status).where(t.run.c.run_no.in_(run_nos))
        )
        return {r.run_no: r.status for r in found}


async def runs_with_executions(services: Services, run_nos: list[str]) -> set[str]:
    """Runs holding an accepted event or a track."""
    async with services.engine.connect() as conn:
        events = await conn.execute(
            select(t.ingest_event.c.run_no).where(t.ingest_event.c.run_no.in_(run_nos))
        )
        tracks = await conn.execute(select(t.track.c.run_no).where(t.track.c.run_no.in_(run_nos)))
        return {r.run_no for r in events} | {r.run_no for r in tracks}


# ---------------------------------------------------------------- run status vs executions


async def test_a_revoked_run_holds_no_event_accepted_against_the_revoke(
    services: Services,
) -> None:
    """revokeRunAuthorization against a run's first events: either the revoke wins (PREP, and
    every event refused RUN_NOT_AUTHORIZED) or an event does (IN_PROGRESS, the revoke
    refused); never a PREP run holding accepted events."""
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.RevokeRunAuthorization(run_no), ACTOR),
            *(services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        revoked, *events = results
        if isinstance(revoked, Run) and any(e.status is IngestStatus.ACCEPTED for e in events):
            lost.append(run_no)  # both answered OK
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "PREP"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"
    assert set(statuses.values()) <= {"PREP", "IN_PROGRESS"}, statuses


async def test_a_revoked_run_holds_no_track_in_against_the_revoke(services: Services) -> None:
    """The same race with trackIn (a manual first step)."""
    f = await ExecFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.RevokeRunAuthorization(run_no), ACTOR),
            *(services.bus.handle(TrackIn(f.code("PRN-1"), run_no, sn), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        revoked, *tracked = results
        if isinstance(revoked, Run) and any(not isinstance(x, Exception) for x in tracked):
            lost.append(run_no)
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "PREP"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"


async def test_a_closed_run_holds_no_event_accepted_against_the_close(
    services: Services,
) -> None:
    """closeRun against a run's first events: the close wins (COMPLETED, every event refused)
    or the events do (IN_PROGRESS with units not DONE: the close refused RUN_NOT_READY)."""
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=10)
    lost: list[str] = []
    for run_no, sns in runs:
        results = await both(
            services.bus.handle(prod.CloseRun(run_no), ACTOR),
            *(services.ingest.ingest(f.envelope(f.aoi_input(sn)), ACTOR) for sn in sns),
        )
        assert not unexpected(results), results
        closed, *events = results
        if isinstance(closed, Run) and any(e.status is IngestStatus.ACCEPTED for e in events):
            lost.append(run_no)
    statuses = await run_statuses(services, [r for r, _ in runs])
    executed = await runs_with_executions(services, [r for r, _ in runs])
    lost += {r for r, s in statuses.items() if s == "COMPLETED"} & executed
    assert not lost, f"{len(set(lost))} of {len(runs)} runs"
    async with services.engine.connect() as conn:
        open_units = await conn.execute(
            select(t.unit.c.run_no)
            .join(t.run, t.run.c.run_no == t.unit.c.run_no)
            .where(
                t.run.c.run_no.in_(list(statuses)),
                t.run.c.status == "COMPLETED",
                t.unit.c.status.not_in(["DONE", "SCRAPPED"]),  # whatever the run's status
            )
        )
        assert not open_units.all()


# ---------------------------------------------------------------- commit order


class CommitOrder:
    """The order in which transactions that wrote audit rows committed. PostgreSQL: a
    deferred constraint trigger logs each audit row as its transaction commits (installed for
    the test only). SQLite: writers commit one at a time, so audit ids are in commit order."""

    def __init__(self, services: Services):
        self.services = services
        self.pg = services.engine.dialect.name == "postgresql"

    async def __aenter__(self) -> CommitOrder:
        if self.pg:
            async with self.services.engine.begin() as conn:
                for ddl in (
                    "CREATE TABLE IF NOT EXISTS race_commit "
                    "(seq bigserial PRIMARY KEY, audit_id bigint NOT NULL)",
                    "CREATE OR REPLACE FUNCTION race_commit_log() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN "
                    "INSERT INTO race_commit (audit_id) VALUES (NEW.id); RETURN NULL; END $$",
                    "DROP TRIGGER IF EXISTS race_commit_order ON audit_event",
                    "CREATE CONSTRAINT TRIGGER race_commit_order AFTER INSERT ON audit_event "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "EXECUTE FUNCTION race_commit_log()",
                ):
                    await conn.execute(text(ddl))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pg:
            async with self.services.engine.begin() as conn:
                await conn.execute(text("DROP TRIGGER IF EXISTS race_commit_order ON audit_event"))

    async def of(self, action: str, entity_keys: list[str]) -> dict[str, int]:
        """entity key → the commit position of its (one) OK audit row of that action."""
        a = t.audit_event
        position: Any = RACE_COMMIT.c.seq if self.pg else a.c.id
        stmt = select(a.c.entity_key, position.label("pos")).where(
            a.c.action == action, a.c.outcome == "OK", a.c.entity_key.in_(entity_keys)
        )
        if self.pg:
            stmt = stmt.join(RACE_COMMIT, RACE_COMMIT.c.audit_id == a.c.id)
        async with self.services.engine.connect() as conn:
            return {r.entity_key: int(r.pos) for r in await conn.execute(stmt)}


RACE_COMMIT = Table(
    "race_commit", MetaData(), Column("seq", BigInteger), Column("audit_id", BigInteger)
)


# ---------------------------------------------------------------- carrier loads vs BATCH events

LOADED_AT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
UNLOADED_AT = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize("other", ["unload", "move"])
async def test_a_board_unloaded_or_moved_first_gets_no_track_from_the_carrier_event(
    services: Services, other: str
) -> None:
    """A carrier-only BATCH event against `unloadCarrier` of its tray, or a `loadCarrier`
    moving one of its boards onto another tray: a board taken off before the event committed
    gets no track from it, and its load keeps the time it was taken off at."""
    f = await ExecFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, rounds(services), units=2, step_no=20)
    rounds_: list[tuple[str, str, list[str], str]] = []  # tray, its event's key, boards moved
    async with CommitOrder(services) as order:
        for _, sns in runs:
            tray, elsewhere = unique("TRAY"), unique("TRAY")
            await services.bus.handle(cr.LoadCarrier(tray, tuple(sns), LOADED_AT), ACTOR)
            event = f.reflow_input(None, carrier=tray)
            side: cr.UnloadCarrier | cr.LoadCarrier
            if other == "unload":
                taken, side = sns, cr.UnloadCarrier(tray, at=UNLOADED_AT)
            else:
                taken, side = sns[:1], cr.LoadCarrier(elsewhere, tuple(sns[:1]), UNLOADED_AT)
            results = await both(
                services.ingest.ingest(envelope(event), ACTOR), services.bus.handle(side, ACTOR)
            )
            assert not unexpected(results), results
            rounds_.append(
                (tray, f"{event['sourceSystem']}/{event['dedupeKey']}", taken, side.carrier_no)
            )
        events = await order.of("ingestEvent", [key for _, key, _, _ in rounds_])
        takers = await order.of(
            "unloadCarrier" if other == "unload" else "loadCarrier", [c for *_, c in rounds_]
        )
    lost = []
    async with services.engine.connect() as conn:
        for tray, key, taken, taker in rounds_:
            if key not in events or events[key] < takers[taker]:
                continue  # the event was refused, or committed first
            tracked = set(
                (
                    await conn.execute(
                        select(t.unit.c.sn)
                        .join(t.track, t.track.c.unit_id == t.unit.c.id)
                        .join(t.ingest_event, t.ingest_event.c.id == t.track.c.ingest_event_id)
                        .where(
                            t.ingest_event.c.dedupe_key == key.rsplit("/", 1)[1],
                            t.unit.c.sn.in_(taken),
                        )
                    )
                ).scalars()
            )
            unloaded = set(
                (
                    await conn.execute(
                        select(t.carrier_load.c.unloaded_at)
                        .join(t.carrier, t.carrier.c.id == t.carrier_load.c.carrier_id)
                        .join(t.unit, t.unit.c.id == t.carrier_load.c.unit_id)
                        .where(t.carrier.c.carrier_no == tray, t.unit.c.sn.in_(taken))
                    )
                ).scalars()
            )
            if tracked or unloaded != {UNLOADED_AT}:
                lost.append((tray, sorted(tracked), unloaded))
    assert not lost, f"{len(lost)} of {len(rounds_)} rounds: {lost[:3]}"


# ---------------------------------------------------------------- registrations


async def test_registrations_of_overlapping_sns_in_opposite_orders_never_deadlock(
    services: Services,
) -> None:
    """Two runs registering the same SNs, sent in opposite orders: one registers them, the
    other is refused UNIT_ALREADY_EXISTS (and audited), never a deadlock."""
    f = await IngestFactory(services.bus).build(units=1)
    runs = await fresh_runs(services, f.run_no, 2, units=0, step_no=10)
    (first, _), (second, _) = runs
    outcomes: Counter[str] = Counter()
    for _ in range(rounds(services) // 2):
        sns = [unique("REG") for _ in range(400)]
        results = await both(
            services.bus.handle(prod.RegisterUnits(first, sns=tuple(sns)), ACTOR),
            services.bus.handle(prod.RegisterUnits(second, sns=tuple(reversed(sns))), ACTOR),
            jitter=0,
        )
        outcomes.update(
            type(r).__name__
            if not isinstance(r, DomainError | list)
            else ("OK" if isinstance(r, list) else r.code.value)
            for r in results
        )
    n = rounds(services) // 2
    assert outcomes == {"OK": n, "UNIT_ALREADY_EXISTS": n}, outcomes
    async with services.engine.connect() as conn:
        audited = await conn.scalar(
            select(func.count())
            .select_from(t.audit_event)
            .where(
                t.audit_event.c.action == "registerUnits",
                t.audit_event.c.entity_key.in_([first, second]),
            )
        )
    assert audited == 2 * n  # the refused side too


async def test_one_barcode_registered_at_once_as_a_panel_and_as_a_unit_is_one_of_them(
    services: Services,
) -> None:
    """A panel barcode and a unit SN live in different tables: registrations take one lock,
    so a barcode sent as a panel by one run and as a unit by another at once is registered
    once, and the other side refused UNIT_ALREADY_EXISTS."""
    f = await IngestFactory(services.bus).build(units=1)
    (first, _), (second, _) = await fresh_runs(services, f.run_no, 2, units=0, step_no=10)
    outcomes: Counter[str] = Counter()
    n = rounds(services)
    for _ in range(n):
        barcode = unique("PNL")
        panel = PanelSpec(barcode, 2, sn_pattern="{panel}-B{position}")
        results = await both(
            services.bus.handle(prod.RegisterUnits(first, panels=(panel,)), ACTOR),
            services.bus.handle(prod.RegisterUnits(second, sns=(barcode,)), ACTOR),
        )
        assert not unexpected(results), results
        outcomes.update(
            "OK" if isinstance(r, list) else r.code.value
            for r in results
            if isinstance(r, list | DomainError)
        )
        async with services.engine.connect() as conn:
            as_panel = await conn.scalar(
                select(func.count()).select_from(t.panel).where(t.panel.c.panel_sn == barcode)
            )
            as_unit = await conn.scalar(
                select(func.count()).select_from(t.unit).where(t.unit.c.sn == barcode)
            )
        assert (as_panel, as_unit) in ((1, 0), (0, 1)), (barcode, as_panel, as_unit)
    assert outcomes == {"OK": n, "UNIT_ALREADY_EXISTS": n}, outcomes


# ---------------------------------------------------------------- token revocation

BATCH = """mutation($events: [IngestEventInput!]!) {
  ingestEvents(inputs: $events) { status error { code details } } }"""


async def test_no_item_of_a_batch_commits_after_its_token_was_revoked(
    services: Services,
) -> None:
    """`mes token revoke` while an ingestEvents request of that token runs: every item that
    commits after the revoke is refused FORBIDDEN (audited, nothing else written). The
    revoke must land mid-request for the run to prove anything; when the whole batch beat it
    (the request's items can keep SQLite's write lock from the revoker), it runs again."""
    outcomes = [await _batch_racing_a_revoke(services)]
    while "TOKEN_REVOKED" not in outcomes[-1] and len(outcomes) < 5:
        outcomes.append(await _batch_racing_a_revoke(services))
    assert "TOKEN_REVOKED" in outcomes[-1], outcomes  # revoked mid-request at least once


async def _batch_racing_a_revoke(services: Services) -> Counter[str]:
    """One race: the invariants asserted; the answers' statuses (or refusal reasons)."""
    from domain.usecases.tokens import CreateToken, RevokeToken
    from tests.conftest import ApiClient

    n = 150
    f = await IngestFactory(services.bus).build(units=n)
    name = unique("gw")
    created = await services.bus.handle(CreateToken(name, ("ingest",), (f.code("AOI-1"),)), ACTOR)
    items = [f.aoi_input(sn) for sn in f.sns]

    async def revoke_once_started() -> None:
        for _ in range(2000):  # (a connection each time: a SQLite read keeps its snapshot)
            async with services.engine.connect() as conn:
                if await conn.scalar(
                    select(func.count())
                    .select_from(t.ingest_event)
                    .where(t.ingest_event.c.source_system == f.code("AOI-1"))
                ):
                    break
            await asyncio.sleep(0.005)
        await services.bus.handle(RevokeToken(name), ACTOR)

    transport = httpx.ASGITransport(app=services.app())
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://mes.test") as client,
        CommitOrder(services) as order,
    ):
        api = ApiClient(client, token=str(created.secret))
        response, _ = await asyncio.gather(
            api.post(BATCH, {"events": items}), revoke_once_started()
        )
        keys = [f"{i['sourceSystem']}/{i['dedupeKey']}" for i in items]
        committed = await order.of("ingestEvent", keys)
        [revoked_at] = (await order.of("revokeToken", [name])).values()
    answers = response.json()["data"]["ingestEvents"]
    statuses = Counter(
        a["status"] if a["error"] is None else a["error"]["details"].get("reason") for a in answers
    )
    late = [k for k, pos in committed.items() if pos > revoked_at]
    assert not late, f"{len(late)} of {n} items committed after the revoke"
    assert set(statuses) <= {"ACCEPTED", "TOKEN_REVOKED"}, statuses
    refused = [k for k, a in zip(keys, answers, strict=True) if a["status"] != "ACCEPTED"]
    assert all(a["error"]["code"] == "FORBIDDEN" for a in answers if a["error"])
    async with services.engine.connect() as conn:
        written = await conn.scalar(
            select(func.count())
            .select_from(t.ingest_event)
            .where(t.ingest_event.c.dedupe_key.in_([k.rsplit("/", 1)[1] for k in refused]))
        )
        rejections = await conn.scalar(
            select(func.count())
            .select_from(t.ingest_rejection)
            .where(t.ingest_rejection.c.source_system == f.code("AOI-1"))
        )
    assert (written, rejections) == (0, 0)
    return statuses


async def test_a_command_of_a_revoked_token_writes_nothing_but_its_audit(
    services: Services,
) -> None:
    """The bus checks the token in the command's own transaction too (a revoke between the
    request's authentication and its write holds)."""
    from domain.actors import Actor
    from domain.usecases.tokens import CreateToken, RevokeToken

    name = unique("op")
    created = await services.bus.handle(CreateToken(name, ("configure",)), ACTOR)
    await services.bus.handle(RevokeToken(name), ACTOR)
    actor = Actor(name, unique("req"), token_id=created.token.id)
    with pytest.raises(DomainError) as refused:
        await services.bus.handle(cr.LoadCarrier(unique("TRAY"), (unique("SN"),)), actor)
    assert (refused.value.code.value, refused.value.details) == (
        "FORBIDDEN",
        {"token": name, "reason": "TOKEN_REVOKED"},
    )
    async with services.engine.connect() as conn:
        audited = (
            await conn.execute(
                select(t.audit_event.c.outcome, t.audit_event.c.error_code).where(
                    t.audit_event.c.request_id == actor.request_id
                )
            )
        ).all()
    assert [tuple(r) for r in audited] == [("REFUSED", "FORBIDDEN")]
