"""Apply a step's ingest mapping to an event: the normalized reading of a source's payload.

Never raises anything but DomainError(INGEST_PAYLOAD_INVALID) naming the path that failed,
whatever the JSON (property-tested with hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import StationType, TrackResult
from domain.errors import DomainError, ErrorCode
from domain.mapping.normalized import Measurement, NormalizedPayload, UnitReading
from domain.mapping.paths import Path, parse_path
from domain.mapping.vocabulary import to_result
from domain.validation import MAX_CODE_LENGTH


def invalid(message: str, **details: Any) -> DomainError:
    return DomainError(ErrorCode.INGEST_PAYLOAD_INVALID, message, details or None)


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 200 else text[:200] + "…"


def as_code(value: Any, what: str, path: str) -> str:
    """A code-like scalar (numbers become strings), 1–100 characters, no outer white space."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{what} at {path} is not a string or number", path=path, value=_short(value))
    text = (
        value
        if isinstance(value, str)
        else format(value, "g")
        if isinstance(value, float)
        else str(value)
    )
    if not text or len(text) > MAX_CODE_LENGTH or text != text.strip() or "\x00" in text:
        raise invalid(
            f"{what} at {path} must be 1–{MAX_CODE_LENGTH} characters without outer white space",
            path=path,
            value=_short(text),
        )
    return text


def _one(path: Path, root: Any, what: str) -> Any:
    found = path.values(root)
    if not found:
        raise invalid(f"{what}: path {path.text} yielded no value", path=path.text)
    if len(found) > 1:
        raise invalid(
            f"{what}: path {path.text} yielded {len(found)} values, expected one",
            path=path.text,
            count=len(found),
        )
    return found[0]


def _optional_one(path: Path | None, root: Any, what: str) -> Any:
    if path is None:
        return None
    found = path.values(root)
    if len(found) > 1:
        raise invalid(
            f"{what}: path {path.text} yielded {len(found)} values, expected one",
            path=path.text,
            count=len(found),
        )
    return found[0] if found else None


def _p(spec: Any) -> Path | None:
    return parse_path(spec) if isinstance(spec, str) else None


@dataclass(frozen=True, slots=True)
class MeasurementsSpec:
    items: Path
    name: Path
    value: Path
    unit: Path | None
    judge: Path | None

    @classmethod
    def parse(cls, spec: Any) -> MeasurementsSpec | None:
        if not isinstance(spec, dict):
            return None
        return cls(
            items=parse_path(spec["itemsPath"]),
            name=parse_path(spec["namePath"]),
            value=parse_path(spec["valuePath"]),
            unit=_p(spec.get("unitPath")),
            judge=_p(spec.get("judgePath")),
        )

    def read(self, root: Any, where: str) -> tuple[Measurement, ...]:
        out: list[Measurement] = []
        for index, item in enumerate(self.items.items(root)):
            at = f"{where}[{index}]"
            names = self.name.values(item)
            if len(names) != 1:
                raise invalid(
                    f"measurement {at}: namePath {self.name.text} yielded "
                    f"{len(names)} values, expected one",
                    path=self.name.text,
                    item=index,
                )
            name = as_code(names[0], f"measurement {at} name", self.name.text)
            values = self.value.values(item)
            value = values[0] if len(values) == 1 else (values or None)
            unit = _optional_one(self.unit, item, f"measurement {name} unit")
            judge = _optional_one(self.judge, item, f"measurement {name} judge")
            out.append(
                Measurement(
                    name=name,
                    value=value,
                    unit=None if unit is None else str(unit)[:50],
                    judge=None if judge is None else str(judge)[:50],
                )
            )
        return tuple(out)


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
    measurements: MeasurementsSpec | None
    data_spec_map: dict[str, str]
    partial: bool
    unit_items: Path | None
    unit_sn: Path | None
    unit_result: Path | None
    unit_measurements: MeasurementsSpec | None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> IngestMapping:
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
            measurements=MeasurementsSpec.parse(raw.get("measurements")),
            data_spec_map=dict(raw.get("dataSpecMap") or {}),
            partial=raw.get("batchPolicy") == "PARTIAL",
            unit_items=_p(units.get("itemsPath")),
            unit_sn=_p(units.get("snPath")),
            unit_result=_p(units.get("resultPath")),
            unit_measurements=MeasurementsSpec.parse(units.get("measurements")),
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

    def _result(self, path: Path | None, root: Any, what: str) -> TrackResult:
        if path is None:
            raise invalid(f"{what}: the mapping has no result path")
        value = _one(path, root, f"{what} result")
        result = to_result(value, self.pass_values, self.fail_values, self.error_values)
        if result is None:
            raise invalid(
                f"{what}: result {_short(value)!r} at {path.text} is neither a pass nor a fail "
                "value (nor an error value)",
                path=path.text,
                value=_short(value),
                passValues=list(self.pass_values),
                failValues=list(self.fail_values),
                errorValues=list(self.error_values),
            )
        return result

    def normalize(self, root: Any, station_type: StationType) -> NormalizedPayload:
        station = as_code(_one(self.station, root, "station"), "station", self.station.text)
        line_raw = _optional_one(self.line, root, "line")
        line = (
            None
            if line_raw is None
            else as_code(line_raw, "line", self.line.text if self.line else "")
        )
        # the event time inside the payload; when the path finds nothing, the envelope's
        occurred_raw = _optional_one(self.occurred_at, root, "occurredAt")
        occurred_at = None
        if occurred_raw is not None and self.occurred_at is not None:
            occurred_at = _parse_time(occurred_raw, self.occurred_at.text)
        # when the work started (the tracks' inAt); nothing found: the track has no duration
        started_raw = _optional_one(self.started_at, root, "startedAt")
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
        recipe_raw = _optional_one(self.recipe, root, "recipe")
        recipe = (
            None
            if recipe_raw is None or self.recipe is None
            else as_code(recipe_raw, "recipe", self.recipe.text)
        )
        test_result_id = None
        if self.test_result_id is not None:
            raw_id = _one(self.test_result_id, root, "testResultId")
            test_result_id = as_code(raw_id, "testResultId", self.test_result_id.text)
        carrier = None
        if station_type is StationType.BATCH and self.carrier is not None:
            carrier = as_code(_one(self.carrier, root, "carrier"), "carrier", self.carrier.text)
        units, carrier_measurements, sns_given = self._units(root, station_type)
        event_result = None
        if station_type is StationType.BATCH and self.unit_items is None:
            event_result = self._result(self.result, root, "event")
        return NormalizedPayload(
            station_code=station,
            units=units,
            line_code=line,
            occurred_at=occurred_at,
            started_at=started_at,
            recipe=recipe,
            test_result_id=test_result_id,
            carrier_code=carrier,
            carrier_measurements=carrier_measurements,
            sns_given=sns_given,
            pass_values=self.pass_values,
            fail_values=self.fail_values,
            event_result=event_result,
        )

    def _units(
        self, root: Any, station_type: StationType
    ) -> tuple[tuple[UnitReading, ...], tuple[Measurement, ...], bool]:
        top_measurements = self.measurements.read(root, "measurements") if self.measurements else ()
        if self.unit_items is not None and self.unit_sn is not None:
            readings = []
            for index, item in enumerate(self.unit_items.items(root)):
                where = f"units[{index}]"
                sn = as_code(
                    _one(self.unit_sn, item, f"{where} sn"), f"{where} sn", self.unit_sn.text
                )
                if self.unit_result is not None:
                    result = self._result(self.unit_result, item, where)
                else:
                    result = self._result(self.result, root, where)
                measurements = (
                    self.unit_measurements.read(item, f"{where}.measurements")
                    if self.unit_measurements
                    else top_measurements
                )
                readings.append(UnitReading(sn, result, measurements))
            if not readings:
                raise invalid(
                    f"units: itemsPath {self.unit_items.text} yielded no unit",
                    path=self.unit_items.text,
                )
            # BATCH with `units`: per-board values; the carrier's specs read the top level
            carrier_values = top_measurements if station_type is StationType.BATCH else ()
            return _no_repeats(tuple(readings)), carrier_values, True
        result = self._result(self.result, root, "event")
        if station_type is StationType.BATCH:
            sns = []
            if self.sn_list is not None:
                sns = [
                    as_code(v, "snList item", self.sn_list.text) for v in self.sn_list.values(root)
                ]
            elif self.sn is not None:
                sns = [as_code(v, "sn", self.sn.text) for v in self.sn.values(root)]
            batch = tuple(UnitReading(sn, result) for sn in dict.fromkeys(sns))
            return batch, top_measurements, bool(batch)
        if self.sn is None:
            raise invalid("the mapping has no snPath")
        sn = as_code(_one(self.sn, root, "sn"), "sn", self.sn.text)
        return (UnitReading(sn, result, top_measurements),), (), True


def _no_repeats(readings: tuple[UnitReading, ...]) -> tuple[UnitReading, ...]:
    seen: set[str] = set()
    for r in readings:
        if r.sn in seen:
            raise invalid(f"unit {r.sn} is reported twice in one event", sn=r.sn)
        seen.add(r.sn)
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
        raise invalid(f"{what} at {path} is not an ISO-8601 string", path=path, value=_short(value))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{what} {value!r} at {path} is not ISO-8601", path=path) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid(f"{what} {value!r} at {path} has no UTC offset", path=path)
    return parsed
