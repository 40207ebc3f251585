"""Values sent by hand or by a device for a step's data collection specs: one value type and
one reading of them (trackOut's data and the device gateway's items)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.enums import Judge, TriggerType
from domain.errors import DomainError, ErrorCode
from domain.ingest.data import JudgedValue, judged
from domain.routes import RouteStep, StepDataSpec

VALUE_FIELDS = ("valueNumber", "valueText", "valueBoolean", "valueJson")


@dataclass(frozen=True, slots=True)
class ValueInput:
    """A value for one spec: exactly one of VALUE_FIELDS set (in `values`)."""

    spec_name: str
    values: dict[str, Any] = field(default_factory=dict, hash=False)
    judge: Judge | None = None
    collected_at: datetime | None = None


def judged_inputs(
    step: RouteStep,
    inputs: Sequence[ValueInput],
    now: datetime,
    *,
    carrier_level: bool,
    check_method: Callable[[StepDataSpec], None],
) -> list[tuple[JudgedValue, datetime]]:
    """Each input for a spec bound to the step (at carrier level or not), whose method the
    writer may write (`check_method` raises otherwise), with exactly one value field and an
    aware collectedAt: coerced and judged as in §3, with when it was collected (else `now`)."""
    out: list[tuple[JudgedValue, datetime]] = []
    for v in inputs:
        spec = next(
            (
                s
                for s in step.data_specs
                if s.name == v.spec_name
                and (s.trigger_type is TriggerType.EACH_CARRIER) == carrier_level
            ),
            None,
        )
        if spec is None:
            raise DomainError(
                ErrorCode.DATA_SPEC_NOT_FOUND,
                f"spec {v.spec_name!r} is not bound to step {step.step_no}"
                + (" for carriers" if carrier_level else ""),
                {"specName": v.spec_name, "stepNo": step.step_no},
            )
        check_method(spec)
        set_fields = [k for k in VALUE_FIELDS if k in v.values]
        if len(set_fields) != 1:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"data for {spec.name}: set exactly one of {', '.join(VALUE_FIELDS)}",
                {"specName": spec.name, "set": set_fields},
            )
        if v.collected_at is not None and v.collected_at.tzinfo is None:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"data for {spec.name}: collectedAt has no UTC offset",
                {"specName": spec.name, "field": "collectedAt"},
            )
        judge_word = v.judge.value if v.judge is not None and v.judge is not Judge.NA else None
        out.append((judged(spec, v.values[set_fields[0]], judge_word), v.collected_at or now))
    return out
