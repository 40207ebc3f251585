"""What a step's ingest mapping reads out of a payload: per unit its SN, result and measurements,
and the event's own fields (domain/mapping/normalize.py does the reading)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import TrackResult
from domain.lifecycle import event_result


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    value: Any
    unit: str | None = None
    #: the source's own judge word, if it sent one
    judge: str | None = None
    #: the limits the machine sent with the value (lowLimitPath, ...), and their unit when it
    #: is not the value's (limitUnitPath)
    low: float | None = None
    high: float | None = None
    expected: float | None = None
    limit_unit: str | None = None


@dataclass(frozen=True, slots=True)
class UnitReading:
    sn: str
    result: TrackResult
    measurements: tuple[Measurement, ...] = ()
    #: who did the work (`operatorPath`): the track's operator
    operator: str | None = None
    #: the board's position when `sn` is its panel's barcode (`units.positionPath`)
    position: int | None = None
    #: the result as sent when it is one of the mapping's `result.skipValues`: the machine
    #: skipped the board. A panel's board becomes X_OUT (no track); `result` is then ERROR,
    #: which is what a unit of no panel records (domain/ingest/accept.py)
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class NormalizedPayload:
    station_code: str
    units: tuple[UnitReading, ...]
    line_code: str | None = None
    occurred_at: datetime | None = None
    #: when the machine started the work (`startedAtPath`): the tracks' inAt
    started_at: datetime | None = None
    #: the program the machine ran (`recipePath`), for the step's recipe interlock
    recipe: str | None = None
    test_result_id: str | None = None
    carrier_code: str | None = None
    #: BATCH without `units`: the event's measurements, for EACH_CARRIER specs
    carrier_measurements: tuple[Measurement, ...] = ()
    #: BATCH: whether the payload named its units (else the carrier's open loads stand in)
    sns_given: bool = True
    #: the vocabulary, for judging measurements by the same words
    pass_values: tuple[str, ...] = ()
    fail_values: tuple[str, ...] = ()
    #: BATCH without `units`: the event's one result, for every board (also the carrier's)
    event_result: TrackResult | None = None
    #: measurement items skipped because neither their namePath nor a fallback named them
    unnamed_measurements: int = 0
    #: which alternative of the step's `oneOf` read the payload (None: the step has one mapping)
    mapping_alternative: int | None = None

    @property
    def result(self) -> TrackResult:
        """Over the units' verdicts (a skipped board gives none)."""
        return event_result(u.result for u in self.units if u.skipped is None)
