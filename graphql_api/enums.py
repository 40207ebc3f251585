"""The domain's enums, exposed under the contract's names (no copies to drift)."""

from __future__ import annotations

import dataclasses

import strawberry

from domain import enums as e
from domain.errors import ErrorCode

for _enum in (
    e.StationType,
    e.IngestEventType,
    e.TrackSource,
    e.TrackResult,
    e.Judge,
    e.UnitStatus,
    e.RunStatus,
    e.WorkOrderStatus,
    e.DataType,
    e.CollectionMethod,
    e.SpecItemType,
    e.TriggerType,
    e.AlarmAction,
    e.RouteVersionStatus,
    e.IngestStatus,
    e.DeviceDataSource,
    e.DispositionAction,
    e.ReportGroupBy,
    e.LateKeyFailAction,
    e.TrackFlag,
    ErrorCode,
):
    strawberry.enum(_enum)

#: descriptions of enum values added after the contract (the domain's enums stay plain Python)
VALUE_DESCRIPTIONS = {
    e.TrackResult.ERROR: "The tester or fixture failed, or the operator aborted (issue 16): no "
    "verdict on the board. The track keeps its values and the number of the attempt it "
    "interrupted, does not count toward maxAttempts, and leaves the unit QUEUED at its step.",
}

for _member, _description in VALUE_DESCRIPTIONS.items():
    _definition = type(_member).__strawberry_definition__  # type: ignore[attr-defined]
    _definition.values = [
        dataclasses.replace(v, description=_description) if v.value == _member.value else v
        for v in _definition.values
    ]
