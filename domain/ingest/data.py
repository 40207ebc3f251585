"""Typed data values: coercion, judging and alarms (DOMAIN.md §3), shared by every way data
enters (ingest, trackOut, device data)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    Judge,
    SpecItemType,
    TrackSource,
    TriggerType,
)
from domain.errors import DomainError, ErrorCode
from domain.mapping.normalized import Measurement
from domain.mapping.vocabulary import to_judge
from domain.ports.units_of_measure import UnitMismatch, UnitsOfMeasure
from domain.routes import RouteStep, StepDataSpec
from domain.tracks import DataValue
from domain.validation import finite_number

MAX_TEXT_LENGTH = 10_000
#: a converted number keeps this many significant digits: a factor's float noise (28400 Ohm is
#: 28.400000000000002 kOhm) must not fail a value that sits exactly on a limit
CONVERTED_DIGITS = 12


@dataclass(frozen=True, slots=True)
class TypedValue:
    number: float | None = None
    text: str | None = None
    boolean: bool | None = None
    json: Any = None


@dataclass(frozen=True, slots=True)
class JudgedValue:
    """A value ready to be written: coerced, judged, alarm checked."""

    spec: StepDataSpec
    value: TypedValue
    unit: str | None
    judge: Judge
    alarmed: bool
    #: the number and unit as sent, when the value was converted into the spec's unit
    original_value: float | None = None
    original_unit: str | None = None
    #: the limits the machine sent, their unit filled in (the value's as sent, by default)
    sent: SentLimits | None = None

    def data_value(
        self,
        source: TrackSource,
        collected_at: datetime,
        *,
        track_id: int | None = None,
        carrier_track_id: int | None = None,
        device_record_id: int | None = None,
    ) -> DataValue:
        """The value as it is stored, on one track or carrier track."""
        return DataValue(
            spec_name=self.spec.name,
            data_type=self.spec.data_type,
            source=source,
            collected_at=collected_at,
            value_number=self.value.number,
            value_text=self.value.text,
            value_boolean=self.value.boolean,
            value_json=self.value.json,
            value_unit=self.unit,
            judge=self.judge,
            alarmed=self.alarmed,
            track_id=track_id,
            carrier_track_id=carrier_track_id,
            device_record_id=device_record_id,
            original_value=self.original_value,
            original_unit=self.original_unit,
            low_limit=None if self.sent is None else self.sent.low,
            high_limit=None if self.sent is None else self.sent.high,
            expected=None if self.sent is None else self.sent.expected,
            limit_unit=None if self.sent is None else self.sent.unit,
        )

    @property
    def holds(self) -> bool:
        """An alarm whose action is HOLD puts the unit ON_HOLD (after the advance)."""
        return (
            self.alarmed
            and self.spec.alarm is not None
            and self.spec.alarm.action is AlarmAction.HOLD
        )

    @property
    def key_failure(self) -> bool:
        return self.spec.item_type is SpecItemType.KEY and self.judge is Judge.FAIL


def _invalid(spec: StepDataSpec, value: Any, why: str) -> DomainError:
    shown = repr(value)
    return DomainError(
        ErrorCode.DATA_VALUE_INVALID,
        f"value {shown[:100]} for spec {spec.name} ({spec.data_type.value}): {why}",
        {"specName": spec.name, "dataType": spec.data_type.value, "value": shown[:200]},
    )


def coerce(spec: StepDataSpec, raw: Any) -> TypedValue:
    """NUMBER: finite numbers and numeric strings (not booleans); BOOLEAN: true/false,
    "true"/"false", 0/1; TEXT: strings and numbers; JSON: anything."""
    dtype = spec.data_type
    if dtype is DataType.JSON:
        return TypedValue(json=raw)
    if dtype is DataType.NUMBER:
        number = finite_number(raw)
        if number is None:
            raise _invalid(spec, raw, "not a finite number")
        return TypedValue(number=number)
    if dtype is DataType.BOOLEAN:
        if isinstance(raw, bool):
            return TypedValue(boolean=raw)
        if isinstance(raw, int) and raw in (0, 1):
            return TypedValue(boolean=bool(raw))
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return TypedValue(boolean=raw.strip().lower() == "true")
        raise _invalid(spec, raw, "not a boolean")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _invalid(spec, raw, "not a string or number")
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) > MAX_TEXT_LENGTH:
        raise _invalid(spec, text[:20] + "…", f"longer than {MAX_TEXT_LENGTH} characters")
    return TypedValue(text=text)


def _outside(number: float, low: float | None, high: float | None) -> bool:
    return (low is not None and number < low) or (high is not None and number > high)


def judge_value(
    spec: StepDataSpec,
    value: TypedValue,
    source_judge: Any,
    pass_values: Iterable[str] = (),
    fail_values: Iterable[str] = (),
    limits: tuple[float | None, float | None] | None = None,
) -> Judge:
    """Our limits are the authority: a NUMBER outside them is FAIL whatever the source says;
    inside, the source's judge (PASS when none was sent). Without limits: the source's judge,
    or NA (an unknown judge word is NA, not a refusal). `limits` (low, high) stand in for the
    spec's when it has none (the machine's own, already in the value's unit)."""
    low, high = _spec_limits(spec) or limits or (None, None)
    if (low is not None or high is not None) and value.number is not None:
        if _outside(value.number, low, high):
            return Judge.FAIL
        return (
            Judge.PASS
            if source_judge is None
            else _inside_judge(source_judge, pass_values, fail_values)
        )
    if source_judge is None:
        return Judge.NA
    return to_judge(source_judge, pass_values, fail_values)


def _spec_limits(spec: StepDataSpec) -> tuple[float | None, float | None] | None:
    limits = spec.limits
    if limits is None or (limits.min is None and limits.max is None):
        return None
    return limits.min, limits.max


def _inside_judge(
    source_judge: Any, pass_values: Iterable[str], fail_values: Iterable[str]
) -> Judge:
    judged = to_judge(source_judge, pass_values, fail_values)
    # inside our limits an unknown word is no verdict: our limits say PASS
    return Judge.PASS if judged is Judge.NA else judged


def is_alarmed(spec: StepDataSpec, value: TypedValue) -> bool:
    alarm = spec.alarm
    if alarm is None or value.number is None:
        return False
    return _outside(value.number, alarm.min, alarm.max)


def _converted(
    spec: StepDataSpec,
    number: float,
    unit: str,
    into: str,
    units_of_measure: UnitsOfMeasure | None,
    *,
    into_limits: bool = False,
) -> float:
    """`number` sent in `unit`, in the unit `into` (the spec's, or the sent limits' when
    `into_limits`); DATA_VALUE_INVALID naming both units when it cannot be (an unknown unit,
    or one of another kind)."""
    if units_of_measure is None:
        raise TypeError(f"a value in {unit} for spec {spec.name} needs a units converter")
    try:
        converted = units_of_measure.convert(number, unit, into)
    except UnitMismatch as err:
        whose = "the sent limits' unit" if into_limits else "the spec's unit"
        raise DomainError(
            ErrorCode.DATA_VALUE_INVALID,
            f"value {number!r} {unit} for spec {spec.name}: {unit} cannot be converted to "
            f"{whose} {into} ({err.why})",
            {
                "specName": spec.name,
                "dataType": spec.data_type.value,
                "value": repr(number),
                "unit": unit,
                "limitUnit" if into_limits else "specUnit": into,
            },
        ) from None
    if not math.isfinite(converted):
        raise _invalid(spec, number, f"not a finite number in {into}")
    return float(f"{converted:.{CONVERTED_DIGITS}g}")


@dataclass(frozen=True, slots=True)
class SentLimits:
    """The limits a machine sent with a value, as sent; `unit` None: the value's unit."""

    low: float | None = None
    high: float | None = None
    expected: float | None = None
    unit: str | None = None

    @classmethod
    def of(cls, m: Measurement) -> SentLimits | None:
        if m.low is None and m.high is None and m.expected is None:
            return None
        return cls(m.low, m.high, m.expected, m.limit_unit)


def judged(
    spec: StepDataSpec,
    raw: Any,
    source_judge: Any = None,
    unit: str | None = None,
    pass_values: Iterable[str] = (),
    fail_values: Iterable[str] = (),
    units_of_measure: UnitsOfMeasure | None = None,
    sent: SentLimits | None = None,
) -> JudgedValue:
    """Coerced to the spec's type; a number sent in another unit than the spec's is converted
    into it (the original kept), then judged and checked for alarms in the spec's unit. The
    machine's `sent` limits are kept on the value and judge it when the spec has no limits:
    without a spec unit the value is converted into theirs, else they are converted into the
    spec's for judging. `units_of_measure` may be None only where values carry no unit of
    their own (trackOut, device data)."""
    value = coerce(spec, raw)
    spec_unit = ((spec.limits.unit or "").strip() or None) if spec.limits else None
    unit = (unit or "").strip() or None
    limit_unit = None if sent is None else (sent.unit or unit)
    into = spec_unit or limit_unit
    original_value: float | None = None
    original_unit: str | None = None
    if value.number is not None and unit and into and unit != into:
        original_value, original_unit = value.number, unit
        number = _converted(
            spec, value.number, unit, into, units_of_measure, into_limits=spec_unit is None
        )
        value = TypedValue(number=number)
        unit = into
    limits = None
    if sent is not None and value.number is not None and _spec_limits(spec) is None:
        limits = (
            _limit_in(spec, sent.low, limit_unit, into, units_of_measure),
            _limit_in(spec, sent.high, limit_unit, into, units_of_measure),
        )
    return JudgedValue(
        spec=spec,
        value=value,
        unit=unit if unit is not None else spec_unit,
        judge=judge_value(spec, value, source_judge, pass_values, fail_values, limits),
        alarmed=is_alarmed(spec, value),
        original_value=original_value,
        original_unit=original_unit,
        sent=sent if sent is None or sent.unit == limit_unit else replace(sent, unit=limit_unit),
    )


def _limit_in(
    spec: StepDataSpec,
    limit: float | None,
    unit: str | None,
    into: str | None,
    units_of_measure: UnitsOfMeasure | None,
) -> float | None:
    """A sent limit in the unit the value is judged in (the spec's, when it has one)."""
    if limit is None or unit is None or into is None or unit == into:
        return limit
    return _converted(spec, limit, unit, into, units_of_measure)


@dataclass(frozen=True, slots=True)
class StepData:
    """The measurements of one unit (or one carrier) read against the step's bound specs."""

    values: tuple[JudgedValue, ...] = ()
    unmapped: tuple[str, ...] = ()
    key_failures: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())


def spec_for(step: RouteStep, data_spec_map: dict[str, str], name: str) -> StepDataSpec | None:
    target = data_spec_map.get(name, name)
    return next((s for s in step.data_specs if s.name == target), None)


def read_measurements(
    step: RouteStep,
    measurements: Sequence[Measurement],
    data_spec_map: dict[str, str],
    *,
    carrier_level: bool,
    units_of_measure: UnitsOfMeasure,
    pass_values: Iterable[str] = (),
    fail_values: Iterable[str] = (),
    unmapped_names: str = "STORE",
) -> StepData:
    """Map names to the step's bound specs, allow only AUTO-method specs, coerce, convert into
    the spec's unit, judge, alarm. carrier_level: EACH_CARRIER specs only. A name no bound spec
    takes is listed in `unmapped` and, by the mapping's `unmappedNames`, stored as a value
    without a spec (STORE), dropped (IGNORE) or refused (REFUSE: INGEST_PAYLOAD_INVALID, the
    payload carries what the mapping says it must not)."""
    values: list[JudgedValue] = []
    unmapped: list[str] = []
    for m in measurements:
        spec = spec_for(step, data_spec_map, m.name)
        if spec is None or (spec.trigger_type is TriggerType.EACH_CARRIER) != carrier_level:
            unmapped.append(m.name)
            if spec is not None or unmapped_names == "IGNORE":
                continue
            if unmapped_names == "REFUSE":
                raise DomainError(
                    ErrorCode.INGEST_PAYLOAD_INVALID,
                    f"measurement {m.name} has no spec at step {step.step_no}, and the mapping "
                    "refuses unmapped names (unmappedNames: REFUSE)",
                    {"measurement": m.name, "stepNo": step.step_no},
                )
            spec = unspecified(m.name, m.value, carrier_level=carrier_level)
        elif spec.method is not CollectionMethod.AUTO:
            raise DomainError(
                ErrorCode.DATA_SPEC_METHOD_MISMATCH,
                f"spec {spec.name} is collected {spec.method.value}, not by machines",
                {"specName": spec.name, "method": spec.method.value, "measurement": m.name},
            )
        values.append(
            judged(
                spec,
                m.value,
                m.judge,
                m.unit,
                pass_values,
                fail_values,
                units_of_measure,
                SentLimits.of(m),
            )
        )
    return StepData(
        values=tuple(values),
        unmapped=tuple(dict.fromkeys(unmapped)),
        key_failures=tuple(dict.fromkeys(v.spec.name for v in values if v.key_failure)),
    )


def unspecified(name: str, raw: Any, *, carrier_level: bool) -> StepDataSpec:
    """The spec a value without one is kept under: its name, the type its JSON says (a number,
    a string, a boolean, anything else JSON), an observation no rule requires."""
    if isinstance(raw, bool):
        dtype = DataType.BOOLEAN
    elif isinstance(raw, int | float) and math.isfinite(raw):
        dtype = DataType.NUMBER
    elif isinstance(raw, str | float) and len(str(raw)) <= MAX_TEXT_LENGTH:
        dtype = DataType.TEXT
    else:
        dtype = DataType.JSON
    trigger = TriggerType.EACH_CARRIER if carrier_level else TriggerType.EACH_UNIT
    return StepDataSpec(
        name, dtype, CollectionMethod.AUTO, SpecItemType.OBSERVATION, trigger, is_required=False
    )


def missing_required(
    step: RouteStep, present: Iterable[str], *, method: CollectionMethod, carrier_level: bool
) -> list[str]:
    """Required specs of this method (and level) that have no value: a PASS needs them all."""
    have = set(present)
    return [
        s.name
        for s in step.data_specs
        if s.is_required
        and s.method is method
        and (s.trigger_type is TriggerType.EACH_CARRIER) == carrier_level
        and s.name not in have
    ]
