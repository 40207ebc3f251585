"""The production report groups by the plant's day (MES_PLANT_TZ)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.device_records import ModuleCount, ProductionCountRecord
from domain.usecases.counts import production_report


def rec(
    event: str, started: datetime, picked: int, placed: int, run: str = "R1"
) -> ProductionCountRecord:
    return ProductionCountRecord(
        event_id=event,
        input_hash="h",
        line_code="L1",
        quantity=1,
        started_at=started,
        ended_at=started,
        modules=(ModuleCount("M1", picked, placed),),
        received_at=started,
        run_no=run,
        product_code="P",
    )


def test_days_follow_the_plant_time_zone() -> None:
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already the 3rd in Berlin
    early = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    records = [rec("a", early, 100, 90), rec("b", late, 50, 50), rec("c", early, 10, 0, run="R2")]
    utc = production_report(records, UTC)
    assert [(r.day, r.run_no, r.picked, r.placed) for r in utc] == [
        ("2026-03-02", "R1", 150, 140),
        ("2026-03-02", "R2", 10, 0),
    ]
    berlin = production_report(records, ZoneInfo("Europe/Berlin"))
    assert [(r.day, r.run_no, r.picked) for r in berlin] == [
        ("2026-03-02", "R1", 100),
        ("2026-03-02", "R2", 10),
        ("2026-03-03", "R1", 50),
    ]
    assert berlin[1].placement_rate == 0.0 and berlin[1].pick_loss == 10
    assert production_report([rec("z", early, 0, 0)], UTC)[0].placement_rate is None
