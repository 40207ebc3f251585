"""Master data and route versions."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry

from domain import master as dm
from domain import routes as dr
from domain.enums import (
    AlarmAction,
    CollectionMethod,
    DataType,
    LateKeyFailAction,
    RouteVersionStatus,
    SpecItemType,
    StationType,
    TriggerType,
)
from graphql_api.context import Info
from graphql_api.scalars import JSON


@strawberry.type
class Line:
    code: str
    name: str

    @strawberry.field
    async def stations(self, info: Info) -> list[Station]:
        found = await info.context.loaders.stations_of_line.load(self.code)
        return [Station.of(s) for s in found]

    @classmethod
    def of(cls, line: dm.Line) -> Line:
        return cls(code=line.code, name=line.name)


@strawberry.type
class StationGroup:
    code: str
    name: str

    @strawberry.field
    async def stations(self, info: Info) -> list[Station]:
        found = await info.context.loaders.stations_of_group.load(self.code)
        return [Station.of(s) for s in found]

    @classmethod
    def of(cls, group: dm.StationGroup) -> StationGroup:
        return cls(code=group.code, name=group.name)


@strawberry.type
class Station:
    code: str
    name: str
    station_type: StationType
    line_code: strawberry.Private[str | None]
    group_code: strawberry.Private[str | None]
    cfx_handle: str | None = strawberry.field(
        description="The machine's IPC-CFX handle (an envelope's Source)"
    )

    @strawberry.field
    async def line(self, info: Info) -> Line | None:
        if self.line_code is None:
            return None
        found = await info.context.loaders.line.load(self.line_code)
        return Line.of(found) if found else None

    @strawberry.field
    async def group(self, info: Info) -> StationGroup | None:
        if self.group_code is None:
            return None
        found = await info.context.loaders.station_group.load(self.group_code)
        return StationGroup.of(found) if found else None

    @classmethod
    def of(cls, s: dm.Station) -> Station:
        return cls(
            code=s.code,
            name=s.name,
            station_type=s.station_type,
            line_code=s.line_code,
            group_code=s.group_code,
            cfx_handle=s.cfx_handle,
        )


async def load_station(info: Info, code: str | None) -> Station | None:
    """The station of that code through the request's loader; None for no code or none found."""
    if code is None:
        return None
    found = await info.context.loaders.station.load(code)
    return Station.of(found) if found else None


@strawberry.type
class SpecLimits:
    min: float | None
    max: float | None
    unit: str | None

    @classmethod
    def of(cls, limits: dm.SpecLimits | None) -> SpecLimits | None:
        return cls(min=limits.min, max=limits.max, unit=limits.unit) if limits else None


@strawberry.type
class SpecAlarm:
    min: float | None
    max: float | None
    action: AlarmAction

    @classmethod
    def of(cls, alarm: dm.SpecAlarm | None) -> SpecAlarm | None:
        return cls(min=alarm.min, max=alarm.max, action=alarm.action) if alarm else None


@strawberry.type
class DataCollectionSpec:
    id: strawberry.ID
    operation_code: str
    name: str
    data_type: DataType
    method: CollectionMethod
    item_type: SpecItemType
    trigger_type: TriggerType
    is_required: bool
    is_active: bool
    limits: SpecLimits | None
    alarm: SpecAlarm | None

    @classmethod
    def of(cls, s: dm.DataCollectionSpec) -> DataCollectionSpec:
        return cls(
            id=strawberry.ID(str(s.id)),
            operation_code=s.operation_code,
            name=s.name,
            data_type=s.data_type,
            method=s.method,
            item_type=s.item_type,
            trigger_type=s.trigger_type,
            is_required=s.is_required,
            is_active=s.is_active,
            limits=SpecLimits.of(s.limits),
            alarm=SpecAlarm.of(s.alarm),
        )


@strawberry.type
class Operation:
    code: str
    name: str
    default_station_type: StationType

    @strawberry.field
    async def data_specs(self, info: Info) -> list[DataCollectionSpec]:
        found = await info.context.loaders.specs_of_operation.load(self.code)
        return [DataCollectionSpec.of(s) for s in found]

    @classmethod
    def of(cls, op: dm.Operation) -> Operation:
        return cls(code=op.code, name=op.name, default_station_type=op.default_station_type)


@strawberry.type
class RoutingStep:
    step_no: int
    operation_code: str


@strawberry.type
class Routing:
    code: str
    name: str
    source_system: str
    source_key: str | None
    product_code: str | None
    is_active: bool
    steps: list[RoutingStep]

    @strawberry.field
    async def versions(self, info: Info) -> list[RouteVersion]:
        found = await info.context.loaders.versions_of_routing.load(self.code)
        return [RouteVersion.of(v) for v in found]

    @strawberry.field
    async def latest_ready_version(self, info: Info) -> RouteVersion | None:
        found = await info.context.loaders.versions_of_routing.load(self.code)
        ready = [v for v in found if v.is_ready]
        return RouteVersion.of(ready[-1]) if ready else None

    @classmethod
    def of(cls, r: dm.Routing) -> Routing:
        return cls(
            code=r.code,
            name=r.name,
            source_system=r.source_system,
            source_key=r.source_key,
            product_code=r.product_code,
            is_active=r.is_active,
            steps=[
                RoutingStep(step_no=s.step_no, operation_code=s.operation_code) for s in r.steps
            ],
        )


@strawberry.type
class RouteIdentity:
    code: str
    name: str
    source_system: str
    source_key: str | None
    product_code: str | None


@strawberry.type
class CompileError:
    step_no: int | None
    code: str
    message: str


@strawberry.type(
    description="A data spec as frozen in a route version (limits as they were at compile time)."
)
class StepDataSpec:
    name: str
    data_type: DataType
    method: CollectionMethod
    item_type: SpecItemType
    trigger_type: TriggerType
    is_required: bool
    limits: SpecLimits | None
    alarm: SpecAlarm | None


@strawberry.type
class RouteStep:
    step_no: int
    operation_code: str
    operation_name: str
    station_type: StationType
    station_group_code: str | None
    allowed_station_codes: list[str]
    requires_fai: bool = strawberry.field(name="requiresFAI")
    requires_authorization: bool
    data_specs: list[StepDataSpec]
    ingest_mapping: JSON | None
    max_attempts: int = strawberry.field(
        description="FAILs allowed at this step before the unit is OUT_FAILED (retest)."
    )
    recipe: str | None = strawberry.field(
        default=None,
        description="The program (recipe) the step's machine must run, as compiled; null: any. "
        "An event whose mapping reads another one (recipePath) is RECIPE_MISMATCH.",
    )
    on_late_key_fail: LateKeyFailAction = strawberry.field(
        default=LateKeyFailAction.HOLD,
        description="A KEY spec judged FAIL by device data after the track passed: HOLD the "
        "unit (reason LATE_KEY_FAIL) or only FLAG the track, as compiled.",
    )

    @classmethod
    def of(cls, s: dr.RouteStep) -> RouteStep:
        assert s.station_type is not None  # compile leaves type-less steps out of a version
        return cls(
            step_no=s.step_no,
            operation_code=s.operation_code,
            operation_name=s.operation_name,
            station_type=s.station_type,
            station_group_code=s.station_group_code,
            allowed_station_codes=list(s.allowed_station_codes),
            requires_fai=s.requires_fai,
            requires_authorization=s.requires_authorization,
            data_specs=[
                StepDataSpec(
                    name=d.name,
                    data_type=d.data_type,
                    method=d.method,
                    item_type=d.item_type,
                    trigger_type=d.trigger_type,
                    is_required=d.is_required,
                    limits=SpecLimits.of(d.limits),
                    alarm=SpecAlarm.of(d.alarm),
                )
                for d in s.data_specs
            ],
            ingest_mapping=cast(JSON, s.ingest_mapping),
            max_attempts=s.max_attempts,
            recipe=s.recipe,
            on_late_key_fail=s.on_late_key_fail,
        )


#: RouteVersion.of's views by version id, with the domain object each was made from
_VERSION_VIEWS: dict[int, tuple[dr.RouteVersion, RouteVersion]] = {}


@strawberry.type(
    description="An immutable, compiled snapshot of a routing plus its execution semantics. "
    "Runs freeze one."
)
class RouteVersion:
    id: strawberry.ID
    version_no: int
    status: RouteVersionStatus
    compiled_at: datetime
    route: RouteIdentity
    steps: list[RouteStep]
    errors: list[CompileError]
    max_reworks: int = strawberry.field(
        description="RETEST and REWORK dispositions together allowed per unit (the route's "
        "execution config, default 3); one more is DISPOSITION_INVALID."
    )
    info_mappings: list[JSON] = strawberry.field(
        description="The route's infoMappings (mappings without result that read INFO "
        "events), frozen at compile."
    )

    @classmethod
    def of(cls, v: dr.RouteVersion) -> RouteVersion:
        """The view of a version; kept per process for the version object the read side
        caches (versions never change): a trace asks for its run's version every time, and
        converting 12 steps of 170 specs cost ~4% of a deep trace."""
        hit = _VERSION_VIEWS.get(v.id) if v.id is not None else None
        if hit is not None and hit[0] is v:
            return hit[1]
        view = cls._convert(v)
        if v.id is not None:
            if len(_VERSION_VIEWS) >= 256:
                _VERSION_VIEWS.pop(next(iter(_VERSION_VIEWS)))
            _VERSION_VIEWS[v.id] = (v, view)
        return view

    @classmethod
    def _convert(cls, v: dr.RouteVersion) -> RouteVersion:
        return cls(
            id=strawberry.ID(str(v.id)),
            version_no=v.version_no,
            status=v.status,
            compiled_at=v.compiled_at,
            route=RouteIdentity(
                code=v.route.code,
                name=v.route.name,
                source_system=v.route.source_system,
                source_key=v.route.source_key,
                product_code=v.route.product_code,
            ),
            steps=[RouteStep.of(s) for s in v.steps],
            errors=[
                CompileError(step_no=e.step_no, code=e.code, message=e.message) for e in v.errors
            ],
            max_reworks=v.max_reworks,
            info_mappings=[cast(JSON, m) for m in v.info_mappings],
        )
