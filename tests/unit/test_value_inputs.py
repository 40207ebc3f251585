"""The one reading of trackOut's data and the device gateway's items (domain/values.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.enums import CollectionMethod, DataType, SpecItemType, StationType, TriggerType
from domain.errors import DomainError, ErrorCode
from domain.routes import RouteStep, StepDataSpec
from domain.values import ValueInput, judged_inputs

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _spec(name: str, trigger: TriggerType = TriggerType.EACH_UNIT) -> StepDataSpec:
    return StepDataSpec(
        name=name,
        data_type=DataType.NUMBER,
        method=CollectionMethod.MANUAL,
        item_type=SpecItemType.OBSERVATION,
        trigger_type=trigger,
        is_required=False,
    )


STEP = RouteStep(
    10,
    "OP",
    "Op",
    StationType.MANUAL,
    data_specs=(_spec("Pressure"), _spec("OvenTemp", TriggerType.EACH_CARRIER)),
)


def _anything(spec: StepDataSpec) -> None:
    pass


def _read(v: ValueInput, carrier_level: bool = False) -> None:
    judged_inputs(STEP, [v], NOW, carrier_level=carrier_level, check_method=_anything)


def test_a_value_is_judged_and_collected_now_unless_it_says_when() -> None:
    at = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    [(first, when_first), (second, when_second)] = judged_inputs(
        STEP,
        [
            ValueInput("Pressure", {"valueNumber": 5.8}),
            ValueInput("Pressure", {"valueNumber": 6}, collected_at=at),
        ],
        NOW,
        carrier_level=False,
        check_method=_anything,
    )
    assert (first.spec.name, first.value.number, when_first) == ("Pressure", 5.8, NOW)
    assert (second.value.number, when_second) == (6, at)


@pytest.mark.parametrize(
    ("value", "carrier_level", "code", "message"),
    [
        (
            ValueInput("Nope", {"valueNumber": 1}),
            False,
            ErrorCode.DATA_SPEC_NOT_FOUND,
            "not bound to step 10",
        ),
        (
            ValueInput("OvenTemp", {"valueNumber": 1}),
            False,
            ErrorCode.DATA_SPEC_NOT_FOUND,
            "not bound",
        ),
        (
            ValueInput("Pressure", {"valueNumber": 1}),
            True,
            ErrorCode.DATA_SPEC_NOT_FOUND,
            "for carriers",
        ),
        (ValueInput("Pressure", {}), False, ErrorCode.VALIDATION_FAILED, "set exactly one"),
        (
            ValueInput("Pressure", {"valueNumber": 1, "valueText": "1"}),
            False,
            ErrorCode.VALIDATION_FAILED,
            "set exactly one",
        ),
        (
            ValueInput("Pressure", {"valueNumber": 1}, collected_at=datetime(2026, 3, 2, 7, 0)),
            False,
            ErrorCode.VALIDATION_FAILED,
            "collectedAt has no UTC offset",
        ),
    ],
)
def test_refusals(value: ValueInput, carrier_level: bool, code: ErrorCode, message: str) -> None:
    with pytest.raises(DomainError) as err:
        _read(value, carrier_level)
    assert err.value.code is code
    assert message in err.value.message


def test_the_writers_method_check_runs_after_the_lookup_and_before_the_value_checks() -> None:
    def refuse(spec: StepDataSpec) -> None:
        raise DomainError(ErrorCode.DATA_SPEC_METHOD_MISMATCH, spec.name)

    with pytest.raises(DomainError) as err:
        judged_inputs(
            STEP, [ValueInput("Pressure", {})], NOW, carrier_level=False, check_method=refuse
        )
    assert err.value.code is ErrorCode.DATA_SPEC_METHOD_MISMATCH
    with pytest.raises(DomainError) as err:
        judged_inputs(STEP, [ValueInput("Nope", {})], NOW, carrier_level=False, check_method=refuse)
    assert err.value.code is ErrorCode.DATA_SPEC_NOT_FOUND
