"""Issue 20's "Done when": a route's events for a batch of units sent in order, in reverse and
in a random order end with the same tracks and unit states (early events park and are
re-driven by the event that brings their units to the step); and on PostgreSQL an early event
and the event that unblocks it, sent at once many times, each end ACCEPTED exactly once.

The route has two AUTO steps and two TEST steps back to back (SPI → AOI → ICT → FCT), so the
event's step is told apart by its station as well as by its type."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters import tables as t
from domain import master as dm
from domain.enums import (
    CollectionMethod,
    DataType,
    IngestEventType,
    IngestStatus,
    SpecItemType,
    StationType,
)
from domain.ingest.pipeline import IngestOutcome
from domain.ingest.records import IngestEnvelope
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from graphql_api.bootstrap import Services
from tests.conftest import unique
from tests.ingest_builders import ACTOR
from tests.races import both, unexpected

#: (step, operation, station type, station group and station)
STEPS = (
    (10, "SPI", StationType.AUTO),
    (20, "AOI", StationType.AUTO),
    (30, "ICT", StationType.TEST),
    (40, "FCT", StationType.TEST),
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def mapping(event_type: StationType) -> dict[str, Any]:
    tester = {"testResultIdPath": "payload.testId"} if event_type is StationType.TEST else {}
    return tester | {
        "eventType": event_type.value,
        "snPath": "payload.sn",
        "stationCodePath": "payload.station",
        "result": {"path": "payload.result", "passValues": ["OK"], "failValues": ["NG"]},
        "measurements": {"itemsPath": "payload.values[*]", "namePath": "k", "valuePath": "v"},
    }


@dataclass
class Plant:
    services: Services
    tag: str
    source: str

    def code(self, name: str) -> str:
        return f"{self.tag}-{name}"

    async def do(self, cmd: Any) -> Any:
        return await self.services.bus.handle(cmd, ACTOR)

    async def run(self, units: int) -> list[str]:
        """A fresh AUTHORIZED run of the route with `units` units; their SNs."""
        c = self.code
        run_tag = unique("O")
        await self.do(prod.ReceiveWorkOrder(f"{run_tag}-WO", "P", units, c("R")))
        await self.do(prod.ReleaseWorkOrder(f"{run_tag}-WO"))
        run = await self.do(prod.CreateRun(f"{run_tag}-WO", c("L"), units, run_no=f"{run_tag}-RUN"))
        await self.do(prod.AuthorizeRun(run.run_no))
        registered = await self.do(
            prod.RegisterUnits(run.run_no, count=units, sn_prefix=f"{run_tag}-SN-")
        )
        return [u.sn for u in registered]

    async def outcome(self, event: dict[str, Any]) -> IngestOutcome:
        return await self.services.ingest.ingest(
            IngestEnvelope(
                source_system=self.source,
                dedupe_key=event["key"],
                event_type=IngestEventType(event["type"].value),
                occurred_at=event["at"],
                payload=event["payload"],
            ),
            ACTOR,
        )

    async def send(self, event: dict[str, Any]) -> IngestStatus:
        """Sent, and not refused."""
        outcome = await self.outcome(event)
        assert outcome.status is not IngestStatus.REJECTED, outcome.error
        return outcome.status


async def plant(
    services: Services, route: Sequence[tuple[int, str, StationType, str]] | None = None
) -> Plant:
    """The route (step, operation, type, station group: one station each, `{group}-1`)."""
    route = route or [(no, op, stype, op) for no, op, stype in STEPS]
    p = Plant(services, unique("OT"), unique("EQP"))
    c = p.code
    await p.do(md.UpsertLine(dm.Line(c("L"), "Line")))
    for _, op, stype, group in route:
        await p.do(md.UpsertStationGroup(dm.StationGroup(c(f"{group}-G"), group)))
        await p.do(
            md.UpsertStation(dm.Station(c(f"{group}-1"), group, stype, c("L"), c(f"{group}-G")))
        )
        await p.do(md.UpsertOperation(dm.Operation(c(op), op, stype)))
        await p.do(
            md.UpsertDataSpec(
                dm.DataCollectionSpec(
                    c(op),
                    f"{op}_V",
                    DataType.NUMBER,
                    CollectionMethod.AUTO,
                    SpecItemType.OBSERVATION,
                    limits=dm.SpecLimits(0.0, 100.0, None),
                )
            )
        )
    steps = tuple(dm.RoutingStep(no, c(op)) for no, op, _, _ in route)
    await p.do(md.UpsertRouting(dm.Routing(c("R"), "Route", steps=steps)))
    for no, op, stype, group in route:
        await p.do(
            md.SetExecutionConfig(
                dm.ExecutionConfig(
                    c("R"),
                    step_no=no,
                    station_group_code=c(f"{group}-G"),
                    ingest_mapping=mapping(stype) | {"dataSpecMap": {"v": f"{op}_V"}},
                    max_attempts=3,
                )
            )
        )
    version = await p.do(md.CompileRouting(c("R")))
    assert version.is_ready, version.errors
    return p


def route_events(p: Plant, sns: Sequence[str]) -> list[dict[str, Any]]:
    """Each unit's events in route order; the second unit fails ICT once and passes its
    retest (attempt 2)."""
    events: list[dict[str, Any]] = []
    for i, sn in enumerate(sns):
        at = T0 + timedelta(minutes=10 * i)
        tries = [(no, op, stype, "OK") for no, op, stype in STEPS]
        if i == 1:
            tries.insert(2, (30, "ICT", StationType.TEST, "NG"))
        for n, (no, op, stype, result) in enumerate(tries):
            events.append(
                {
                    "key": f"{sn}-{n}",
                    "type": stype,
                    "at": at + timedelta(seconds=30 * n),
                    "payload": {
                        "sn": sn,
                        "testId": f"{sn}-{n}",
                        "station": p.code(f"{op}-1"),
                        "result": result,
                        "values": [{"k": "v", "v": no + n + (0.5 if result == "NG" else 0)}],
                    },
                }
            )
    return events


async def outcome_of(services: Services, sns: Sequence[str]) -> list[Any]:
    """Per unit, in SN order: its state and its tracks (outAt order) with their values."""
    async with services.bus.uow_factory() as uow:
        units = sorted(await uow.units.get_many(list(sns)), key=lambda u: u.sn)
    tracks = await services.store.tracks_of_units([u.id or 0 for u in units])
    track_ids = [tr.id or 0 for trs in tracks.values() for tr in trs]
    values = await services.store.values_of_tracks(track_ids)
    out: list[Any] = []
    for u in units:
        mine = sorted(tracks.get(u.id or 0, []), key=lambda tr: (tr.out_at, tr.id))
        out.append(
            (
                u.status.value,
                u.current_step_no,
                [
                    (
                        tr.step_no,
                        tr.station_code.rsplit("-", 2)[-2] if tr.station_code else None,
                        tr.result.value if tr.result else None,
                        tr.attempt,
                        sorted(
                            (v.spec_name, v.value_number, v.judge.value if v.judge else None)
                            for v in values.get(tr.id or 0, [])
                        ),
                    )
                    for tr in mine
                ],
            )
        )
    return out


async def test_a_route_sent_in_reverse_or_random_order_ends_as_sent_in_order(
    services: Services,
) -> None:
    p = await plant(services)
    results: dict[str, list[Any]] = {}
    for order in ("in order", "reverse", "random"):
        sns = await p.run(units=4)
        events = route_events(p, sns)
        if order == "reverse":
            events.reverse()
        elif order == "random":
            random.Random(20).shuffle(events)
        statuses = [await p.send(e) for e in events]
        if order != "in order":
            assert IngestStatus.PARKED in statuses  # the test exercises parking at all
        results[order] = await outcome_of(services, sns)
        async with services.engine.connect() as conn:
            parked = await conn.scalar(
                select(func.count())
                .select_from(t.parked_event)
                .where(t.parked_event.c.source_system == p.source)
            )
            rejected = await conn.scalar(
                select(func.count())
                .select_from(t.ingest_rejection)
                .where(t.ingest_rejection.c.source_system == p.source)
            )
        assert (parked, rejected) == (0, 0), order
    assert results["in order"][0][:2] == ("DONE", 40)
    assert [len(unit[2]) for unit in results["in order"]] == [4, 5, 4, 4]
    assert results["reverse"] == results["in order"]
    assert results["random"] == results["in order"]


@pytest.mark.postgres_only
async def test_an_early_event_and_its_unblocking_event_sent_at_once_each_end_accepted_once(
    services: Services,
) -> None:
    p = await plant(services)
    rounds = 20
    sns = await p.run(units=rounds)
    for sn in sns:
        spi, aoi = route_events(p, [sn])[:2]
        results = await both(p.send(aoi), p.send(spi), jitter=0.003)
        assert not unexpected(results), results
    async with services.engine.connect() as conn:
        parked = await conn.scalar(
            select(func.count())
            .select_from(t.parked_event)
            .where(t.parked_event.c.source_system == p.source)
        )
        accepted = await conn.scalar(
            select(func.count())
            .select_from(t.ingest_event)
            .where(t.ingest_event.c.source_system == p.source)
        )
    assert parked == 0
    assert accepted == 2 * rounds
    done = await outcome_of(services, sns)
    assert {(status, step) for status, step, _ in done} == {("QUEUED", 30)}
    assert all([tr[0] for tr in tracks] == [10, 20] for _, _, tracks in done)


async def test_a_late_event_of_a_step_tested_twice_is_not_parked_for_the_second_test(
    services: Services,
) -> None:
    """ICT tests at steps 20 and 40 at one station group: once a unit passed step 20, a late
    copy of its ICT result (sent again under another key) is STEP_MISMATCH, not parked for
    step 40; an ICT result that came after the unit's step-20 track waits for step 40."""
    twice = [
        (10, "SPI", StationType.AUTO, "SPI"),
        (20, "ICT", StationType.TEST, "ICT"),
        (30, "AOI", StationType.AUTO, "AOI"),
        (40, "RICT", StationType.TEST, "ICT"),
    ]
    p = await plant(services, twice)
    [sn] = await p.run(units=1)

    def event(key: str, station: str, stype: StationType, minutes: int) -> dict[str, Any]:
        return {
            "key": f"{sn}-{key}",
            "type": stype,
            "at": T0 + timedelta(minutes=minutes),
            "payload": {
                "sn": sn,
                "testId": f"{sn}-{key}",
                "station": p.code(station),
                "result": "OK",
                "values": [],
            },
        }

    assert await p.send(event("spi", "SPI-1", StationType.AUTO, 0)) is IngestStatus.ACCEPTED
    ict = event("ict", "ICT-1", StationType.TEST, 5)
    assert await p.send(ict) is IngestStatus.ACCEPTED
    late = ict | {"key": f"{sn}-ict-again", "payload": ict["payload"] | {"testId": "again"}}
    outcome = await p.outcome(late)
    assert outcome.status is IngestStatus.REJECTED
    assert outcome.error is not None and outcome.error.code.value == "STEP_MISMATCH"
    # the second test's result, before the AOI's: it waits for step 40
    retest = event("rict", "ICT-1", StationType.TEST, 20)
    assert await p.send(retest) is IngestStatus.PARKED
    assert await p.send(event("aoi", "AOI-1", StationType.AUTO, 10)) is IngestStatus.ACCEPTED
    [(status, step, tracks)] = await outcome_of(services, [sn])
    assert (status, step, [tr[0] for tr in tracks]) == ("DONE", 40, [10, 20, 30, 40])
