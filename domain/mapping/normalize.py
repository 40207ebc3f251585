"""Apply a step's ingest mapping to an event: the normalized reading of a source's payload.

Never raises anything but DomainError(INGEST_PAYLOAD_INVALID) naming the path that failed,
whatever the JSON (property-tested with hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import StationType, TrackResult
from domain.errors import DomainError
from domain.mapping.measurements import (
    MeasurementsSpec,
    parse_measurements,
    read_measurements,
)
from domain.mapping.normalized import Measurement, NormalizedPayload, UnitReading
from domain.mapping.paths import Path, parse_path
from domain.mapping.reading import as_code, as_operator, invalid, one, optional_one, short
from domain.mapping.vocabulary import is_skip, to_result
from domain.validation import MAX_CODE_LENGTH


def _p(spec: Any) -> Path | None:
    return parse_path(spec) if isinstance(spec, str) else None


@dataclass(frozen=True, slots=True)
class IngestMapping:
    """A step's mapping, parsed once (cached per route version step)."""

    raw: dict[str, Any]
    station: Path
    line: Path | None
    occurred_at: Path | None
    started_at: Path | None
    recipe: Path | None
    sn: Path | None
    sn_list: Path | None
    carrier: Path | None
    test_result_id: Path | None
    result: Path | None
    pass_values: tuple[str, ...]
    fail_values: tuple[str, ...]
    #: words meaning the tester failed (result ERROR), besides ERROR/ERRORED/ABORTED
    error_values: tuple[str, ...]
    measurements: tuple[MeasurementsSpec, ...]
    data_spec_map: dict[str, str]
    partial: bool
    unit_items: Path | None
    unit_sn: Path | None
    unit_result: Path | None
    unit_measurements: tuple[MeasurementsSpec, ...]
    #: who did the work: a root path, and inside `units` a path relative to the unit item
    operator: Path | None = None
    unit_operator: Path | None = None
    #: inside `units`: the board's position on the panel whose barcode the item names
    unit_position: Path | None = None
    #: the index of this mapping in its step's `oneOf` (None: the step has one mapping)
    alternative: int | None = None
    #: STORE, IGNORE or REFUSE a measurement name no bound spec takes (domain/ingest/data.py)
    unmapped_names: str = "STORE"
    #: words meaning the machine skipped the board (an X-out): no verdict, the board X_OUT
    skip_values: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any], alternative: int | None = None) -> IngestMapping:
        """Parse a mapping that compile validated (schema and required fields)."""
        result = raw.get("result") or {}
        units = raw.get("units") or {}
        return cls(
            raw=raw,
            station=parse_path(raw["stationCodePath"]),
            line=_p(raw.get("lineCodePath")),
            occurred_at=_p(raw.get("occurredAtPath")),
            started_at=_p(raw.get("startedAtPath")),
            recipe=_p(raw.get("recipePath")),
            sn=_p(raw.get("snPath")),
            sn_list=_p(raw.get("snListPath")),
            carrier=_p(raw.get("carrierCodePath")),
            test_result_id=_p(raw.get("testResultIdPath")),
            result=_p(result.get("path")),
            pass_values=tuple(result.get("passValues") or ()),
            fail_values=tuple(result.get("failValues") or ()),
            error_values=tuple(result.get("errorValues") or ()),
            measurements=parse_measurements(raw.get("measurements")),
            data_spec_map=dict(raw.get("dataSpecMap") or {}),
            partial=raw.get("batchPolicy") == "PARTIAL",
            unit_items=_p(units.get("itemsPath")),
            unit_sn=_p(units.get("snPath")),
            unit_result=_p(units.get("resultPath")),
            unit_measurements=parse_measurements(units.get("measurements")),
            operator=_p(raw.get("operatorPath")),
            unit_operator=_p(units.get("operatorPath")),
            unit_position=_p(units.get("positionPath")),
            alternative=alternative,
            unmapped_names=raw.get("unmappedNames") or "STORE",
            skip_values=tuple(result.get("skipValues") or ()),
        )

    # ------------------------------------------------------------ step 3: which units

    def unit_sns(self, root: Any) -> list[str]:
        """The SNs this mapping finds in the event, for choosing the units and the run
        (DOMAIN.md §4 step 3). Lenient: values that are not SNs are skipped here; the
        normalization of step 6 names them."""
        found: list[Any] = []
        if self.unit_items is not None and self.unit_sn is not None:
            for item in self.unit_items.items(root):
                found += self.unit_sn.values(item)
        if self.sn is not None:
            found += self.sn.values(root)
        if self.sn_list is not None:
            found += self.sn_list.values(root)
        return _dedupe_sns(found)

    def unit_positions(self, root: Any) -> dict[str, set[int | None]]:
        """Per barcode of the unit items, the positions they name (None: the item names
        none), for resolving a panel's barcode to its boards; lenient as unit_sns."""
        out: dict[str, set[int | None]] = {}
        if self.unit_items is None or self.unit_sn is None:
            return out
        for item in self.unit_items.items(root):
            for sn in _dedupe_sns(self.unit_sn.values(item)):
                out.setdefault(sn, set()).add(self._position(item, lenient=True))
        return out

    def _position(self, item: Any, *, lenient: bool = False, what: str = "units") -> int | None:
        if self.unit_position is None:
            return None
        value = optional_one(self.unit_position, item, f"{what} position")
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        if lenient:
            return None
        raise invalid(
            f"{what} position {short(value)!r} at {self.unit_position.text} is not a "
            "position (a whole number from 1)",
            path=self.unit_position.text,
            value=short(value),
        )

    def carrier_code(self, root: Any) -> str | None:
        if self.carrier is None:
            return None
        found = self.carrier.values(root)
        if len(found) != 1:
            return None
        try:
            return as_code(found[0], "carrier", self.carrier.text)
        except DomainError:
            return None

    def test_result_id_of(self, root: Any) -> str | None:
        """The tester's own result id, leniently (nothing when the path yields no code)."""
        if self.test_result_id is None:
            return None
        found = self.test_result_id.values(root)
        if len(found) != 1:
            return None
        try:
            return as_code(found[0], "testResultId", self.test_result_id.text)
        except DomainError:
            return None

    # ------------------------------------------------------------ step 6: the reading

    def _result(
        self, path: Path | None, root: Any, what: str, *, skips: bool = True
    ) -> tuple[TrackResult, str | None]:
        """The result at the path, and the word as sent when it is a skip value (the result is
        then ERROR: no verdict). `skips`: False for a BATCH carrier's own result (skipValues
        mark boards; compile refuses them on a BATCH mapping without `units`)."""
        if path is None:
            raise invalid(f"{what}: the mapping has no result path")
        value = one(path, root, f"{what} result")
        if skips and is_skip(value, self.skip_values):
            return TrackResult.ERROR, str(value)
        result = to_result(value, self.pass_values, self.fail_values, self.error_values)
        if result is None:
            extra = {"skipValues": list(self.skip_values)} if self.skip_values else {}
            raise invalid(
                f"{what}: result {short(value)!r} at {path.text} is neither a pass nor a fail "
                "value (nor an error value)",
                path=path.text,
                value=short(value),
                passValues=list(self.pass_values),
                failValues=list(self.fail_values),
                errorValues=list(self.error_values),
                **extra,
            )
        return result, None

    def normalize(self, root: Any, station_type: StationType) -> NormalizedPayload:
        station = as_code(one(self.station, root, "station"), "station", self.station.text)
        line_raw = optional_one(self.line, root, "line")
        line = (
            None
            if line_raw is None
            else as_code(line_raw, "line", self.line.text if self.line else "")
        )
        # the event time inside the payload; when the path finds nothing, the envelope's
        occurred_raw = optional_one(self.occurred_at, root, "occurredAt")
        occurred_at = None
        if occurred_raw is not None and self.occurred_at is not None:
            occurred_at = _parse_time(occurred_raw, self.occurred_at.text)
        # when the work started (the tracks' inAt); nothing found: the track has no duration
        started_raw = optional_one(self.started_at, root, "startedAt")
        started_at = None
        if started_raw is not None and self.started_at is not None:
            started_at = _parse_time(started_raw, self.started_at.text, "startedAt")
            ended_at = occurred_at or _envelope_time(root)
            if ended_at is not None and started_at > ended_at:
                raise invalid(
                    f"startedAt {started_raw!r} at {self.started_at.text} is after the event's "
                    f"occurredAt {ended_at.isoformat()}",
                    path=self.started_at.text,
                    startedAt=started_at.isoformat(),
                    occurredAt=ended_at.isoformat(),
                )
        recipe_raw = optional_one(self.recipe, root, "recipe")
        recipe = (
            None
            if recipe_raw is None or self.recipe is None
            else as_code(recipe_raw, "recipe", self.recipe.text)
        )
        test_result_id = None
        if self.test_result_id is not None:
            raw_id = one(self.test_result_id, root, "testResultId")
            test_result_id = as_code(raw_id, "testResultId", self.test_result_id.text)
        carrier = None
        if station_type is StationType.BATCH and self.carrier is not None:
            carrier = as_code(one(self.carrier, root, "carrier"), "carrier", self.carrier.text)
        read = self._units(root, station_type)
        event_result = None
        if station_type is StationType.BATCH and self.unit_items is None:
            event_result, _ = self._result(self.result, root, "event", skips=False)
        return NormalizedPayload(
            station_code=station,
            units=read.units,
            line_code=line,
            occurred_at=occurred_at,
            started_at=started_at,
            recipe=recipe,
            test_result_id=test_result_id,
            carrier_code=carrier,
            carrier_measurements=read.carrier_measurements,
            sns_given=read.sns_given,
            pass_values=self.pass_values,
            fail_values=self.fail_values,
            event_result=event_result,
            unnamed_measurements=read.unnamed,
            mapping_alternative=self.alternative,
        )

    def _units(self, root: Any, station_type: StationType) -> _Units:
        top = read_measurements(self.measurements, root, "measurements")
        top_measurements = top.measurements
        unnamed = top.unnamed
        operator = self._operator(self.operator, root, "operator")
        if self.unit_items is not None and self.unit_sn is not None:
            readings = []
            for index, item in enumerate(self.unit_items.items(root)):
                where = f"units[{index}]"
                sn = as_code(
                    one(self.unit_sn, item, f"{where} sn"), f"{where} sn", self.unit_sn.text
                )
                if self.unit_result is not None:
                    result, skipped = self._result(self.unit_result, item, where)
                else:
                    result, skipped = self._result(self.result, root, where)
                measurements = top_measurements
                if self.unit_measurements:
                    own = read_measurements(self.unit_measurements, item, f"{where}.measurements")
                    measurements, unnamed = own.measurements, unnamed + own.unnamed
                # the unit's own operator when its item names one, else the event's
                own_operator = self._operator(self.unit_operator, item, f"{where} operator")
                position = self._position(item, what=where)
                readings.append(
                    UnitReading(
                        sn, result, measurements, own_operator or operator, position, skipped
                    )
                )
            if not readings:
                raise invalid(
                    f"units: itemsPath {self.unit_items.text} yielded no unit",
                    path=self.unit_items.text,
                )
            # BATCH with `units`: per-board values; the carrier's specs read the top level
            carrier_values = top_measurements if station_type is StationType.BATCH else ()
            return _Units(_no_repeats(tuple(readings)), carrier_values, True, unnamed)
        batch = station_type is StationType.BATCH
        result, skipped = self._result(self.result, root, "event", skips=not batch)
        if batch:
            sns = []
            if self.sn_list is not None:
                sns = [
                    as_code(v, "snList item", self.sn_list.text) for v in self.sn_list.values(root)
                ]
            elif self.sn is not None:
                sns = [as_code(v, "sn", self.sn.text) for v in self.sn.values(root)]
            named = tuple(UnitReading(sn, result, operator=operator) for sn in dict.fromkeys(sns))
            return _Units(named, top_measurements, bool(named), unnamed)
        if self.sn is None:
            raise invalid("the mapping has no snPath")
        sn = as_code(one(self.sn, root, "sn"), "sn", self.sn.text)
        reading = UnitReading(sn, result, top_measurements, operator, skipped=skipped)
        return _Units((reading,), (), True, unnamed)

    @staticmethod
    def _operator(path: Path | None, root: Any, what: str) -> str | None:
        """Who did the work, when the path finds someone (a null or absent operator is none)."""
        if path is None:
            return None
        value = optional_one(path, root, what)
        return None if value is None else as_operator(value, what, path.text)


@dataclass(frozen=True, slots=True)
class _Units:
    units: tuple[UnitReading, ...]
    carrier_measurements: tuple[Measurement, ...]
    #: BATCH: whether the payload named its units
    sns_given: bool
    unnamed: int


def _no_repeats(readings: tuple[UnitReading, ...]) -> tuple[UnitReading, ...]:
    # a panel's barcode at two positions names two boards; the boards' own SNs are checked
    # once the barcodes are resolved (domain/panels.py board_readings)
    seen: set[tuple[str, int | None]] = set()
    for r in readings:
        if (r.sn, r.position) in seen:
            raise invalid(f"unit {r.sn} is reported twice in one event", sn=r.sn)
        seen.add((r.sn, r.position))
    return readings


def _dedupe_sns(values: list[Any]) -> list[str]:
    out: dict[str, None] = {}
    for v in values:
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            v = format(v, "g") if isinstance(v, float) else str(v)
        if isinstance(v, str) and v and len(v) <= MAX_CODE_LENGTH and v == v.strip():
            out[v] = None
    return list(out)


def _envelope_time(root: Any) -> datetime | None:
    """The envelope's occurredAt (checked in §4 step 1), as the event root carries it."""
    value = root.get("occurredAt") if isinstance(root, dict) else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _parse_time(value: Any, path: str, what: str = "occurredAt") -> datetime:
    if not isinstance(value, str):
        raise invalid(f"{what} at {path} is not an ISO-8601 string", path=path, value=short(value))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{what} {value!r} at {path} is not ISO-8601", path=path) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid(f"{what} {value!r} at {path} has no UTC offset", path=path)
    return parsed
