"""The domain's enums, exposed under the contract's names (no copies to drift)."""

from __future__ import annotations

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
    ErrorCode,
):
    strawberry.enum(_enum)
