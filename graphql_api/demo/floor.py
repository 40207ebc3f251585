"""`mes demo`, second part: a shift on line SMT-1 through all four kinds of step.

Boards 1–4 of run WO-1001-01 are printed at PRN-01 (manual trackIn/trackOut with the squeegee
pressure), loaded on tray TRAY-01 and sent through reflow oven RFL-01 (one carrier-only BATCH
event with the oven profile), then inspected at AOI-01; the placement machine reports a day
of job counts. Idempotent: a board that moved on is not printed again, events are resent
under their own keys (DUPLICATE), counts under their eventIds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from domain.actors import Actor
from domain.device_records import ModuleCount
from domain.enums import IngestEventType, TrackResult
from domain.ingest.pipeline import IngestService
from domain.ingest.records import IngestEnvelope
from domain.ports import ReadStore
from domain.usecases import carriers as ca
from domain.usecases import counts as co
from domain.usecases import manual_execution as ex
from domain.usecases.bus import MessageBus
from domain.values import ValueInput

CET = timezone(timedelta(hours=1))
RUN = "WO-1001-01"
BOARDS = [f"BRD100-{n:06d}" for n in range(1, 5)]
TRAY = "TRAY-01"


def reflow_event() -> IngestEnvelope:
    return IngestEnvelope(
        source_system="RFL-01",
        dedupe_key="RFL-01/2026-03-02/lot-0001",
        event_type=IngestEventType.BATCH,
        occurred_at=datetime(2026, 3, 2, 7, 40, tzinfo=CET),
        payload={
            "oven": "RFL-01",
            "carrier": TRAY,
            "status": "COMPLETE",
            "recipe": "SAC305-leadfree",
            "profile": [
                {"name": "peak_temp", "value": 243.5, "unit": "C"},
                {"name": "conveyor_speed", "value": 80, "unit": "cm/min"},
                {"name": "zone_7_setpoint", "value": 265},
            ],
        },
    )


def aoi_event(sn: str, minute: int, void_pct: float) -> IngestEnvelope:
    return IngestEnvelope(
        source_system="AOI-01",
        dedupe_key=f"AOI-01/2026-03-02/{sn}",
        event_type=IngestEventType.AUTO,
        occurred_at=datetime(2026, 3, 2, 7, minute, tzinfo=CET),
        payload={
            "station": "AOI-01",
            "pcb": {"id": sn},
            "judgement": "OK",
            "features": [{"key": "void_pct", "val": void_pct, "uom": "%"}],
        },
    )


def placement_jobs() -> list[co.RecordProductionCounts]:
    """A day of counts from the placement machine, one job window every two hours."""
    jobs = []
    for n in range(8):
        start = datetime(2026, 3, 2, 6, 0, tzinfo=CET) + timedelta(hours=2 * n)
        modules = tuple(
            ModuleCount(f"M{m}", picked := 1200 + 37 * n + 11 * m, picked - (3 + (n * m) % 7))
            for m in range(1, 5)
        )
        jobs.append(
            co.RecordProductionCounts(
                event_id=f"NXT-01/2026-03-02/job-{n + 1:02d}",
                line_code="SMT-1",
                station_code=None,
                equipment_id="NXT-01",
                run_no=RUN,
                product_code="BRD-100",
                quantity=60 + n,
                started_at=start,
                ended_at=start + timedelta(minutes=95),
                modules=modules,
            )
        )
    return jobs


async def run_the_floor(
    bus: MessageBus, store: ReadStore, ingest: IngestService, actor: Actor
) -> list[str]:
    done: list[str] = []

    async def do(cmd: Any) -> Any:
        return await bus.handle(cmd, actor)

    units = await store.units(BOARDS)
    to_print = [
        sn
        for sn in BOARDS
        if units[sn].current_step_no == 10 and units[sn].status.value == "QUEUED"
    ]
    for i, sn in enumerate(to_print):
        await do(ex.TrackIn("PRN-01", RUN, sn, operator_id="OP-0042"))
        pressure = ValueInput("SqueegeePressure", {"valueNumber": 5.8 + 0.1 * i})
        await do(ex.TrackOut("PRN-01", RUN, sn, TrackResult.PASS, "OP-0042", (pressure,)))
    if to_print:
        done.append(f"printed {len(to_print)} boards at PRN-01 (trackIn/trackOut)")
    units = await store.units(BOARDS)
    to_load = tuple(
        sn
        for sn in BOARDS
        if units[sn].current_step_no == 20 and units[sn].status.value == "QUEUED"
    )
    if to_load:
        await do(ca.LoadCarrier(TRAY, to_load, datetime(2026, 3, 2, 7, 30, tzinfo=CET)))
        done.append(f"loaded {len(to_load)} boards on {TRAY}")
    outcomes = [await ingest.ingest(reflow_event(), actor)]
    outcomes += [
        await ingest.ingest(aoi_event(sn, 50 + i, 9.5 + i), actor)
        for i, sn in enumerate(BOARDS[:2])
    ]
    statuses = ", ".join(
        o.status.value + (f" {o.error.code.value}" if o.error else "") for o in outcomes
    )
    done.append(f"reflow and AOI events: {statuses}")
    recorded = [await do(job) for job in placement_jobs()]
    new = sum(1 for r in recorded if not r.duplicate)
    done.append(f"placement counts: {len(recorded)} jobs ({new} new)")
    return done
