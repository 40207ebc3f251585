"""Ports: what the use cases need from the world (repositories, unit of work, clock, reads),
one module per concept; every port is importable from here (`from domain.ports import UnitOfWork`).

Adapters implement them (SQLAlchemy), tests implement them as Fake* classes.
"""

from domain.ports.carriers import CarrierRepository, DeviceDataRepository, ProductionCountRepository
from domain.ports.cfx import CfxWorkRepository
from domain.ports.changes import ChangeFeed, ChangeStream
from domain.ports.ingest import (
    CarrierWrites,
    DataValueRepository,
    EventWrites,
    IngestEventRepository,
    IngestWrites,
    KeyClaim,
    ParkedEventRepository,
    RejectionRepository,
    RunStart,
    TrackRepository,
)
from domain.ports.master_data import (
    DataSpecRepository,
    ExecutionConfigRepository,
    LineRepository,
    OperationRepository,
    RouteVersionRepository,
    RoutingRepository,
    StationGroupRepository,
    StationRepository,
)
from domain.ports.reads import (
    AuditFilter,
    EventFilter,
    ParkedFilter,
    ReadStore,
    RejectionFilter,
)
from domain.ports.runs_and_units import (
    HoldRepository,
    RunRepository,
    UnitRepository,
    WorkOrderRepository,
)
from domain.ports.security import AuditRepository, TokenRepository
from domain.ports.unit_of_work import Clock, UnitOfWork, UnitOfWorkFactory
from domain.ports.units_of_measure import UnitMismatch, UnitsOfMeasure

__all__ = [
    "AuditFilter",
    "AuditRepository",
    "CarrierRepository",
    "CarrierWrites",
    "CfxWorkRepository",
    "ChangeFeed",
    "ChangeStream",
    "Clock",
    "DataSpecRepository",
    "DataValueRepository",
    "DeviceDataRepository",
    "EventFilter",
    "EventWrites",
    "ExecutionConfigRepository",
    "HoldRepository",
    "IngestEventRepository",
    "IngestWrites",
    "KeyClaim",
    "LineRepository",
    "OperationRepository",
    "ParkedEventRepository",
    "ParkedFilter",
    "ProductionCountRepository",
    "ReadStore",
    "RejectionFilter",
    "RejectionRepository",
    "RouteVersionRepository",
    "RoutingRepository",
    "RunRepository",
    "RunStart",
    "StationGroupRepository",
    "StationRepository",
    "TokenRepository",
    "TrackRepository",
    "UnitMismatch",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UnitRepository",
    "UnitsOfMeasure",
    "WorkOrderRepository",
]
