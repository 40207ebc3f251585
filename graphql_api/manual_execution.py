"""Manual execution over GraphQL: trackIn/trackOut, unit dispositions and validateUnits."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry

from domain.enums import DispositionAction, TrackResult
from domain.errors import DomainError, ErrorCode
from domain.usecases import lifecycle as lc
from domain.usecases import manual_execution as ex
from domain.usecases.validate import validate_units
from graphql_api.context import Info
from graphql_api.errors import BadInput
from graphql_api.metrics import record_track_errors
from graphql_api.mutations import run_command
from graphql_api.scalars import JSON
from graphql_api.types.common import MesError
from graphql_api.types.runs_and_units import Unit
from graphql_api.types.tracks import Track
from graphql_api.types.values import DataValueInput, value_input


@strawberry.input
class TrackInInput:
    station_code: str
    run_no: str
    sn: str
    operator_id: str | None = None


@strawberry.input
class TrackOutInput:
    station_code: str
    run_no: str
    sn: str
    result: TrackResult
    operator_id: str | None = None
    data: list[DataValueInput] | None = strawberry.field(default_factory=list)


@strawberry.type
class TrackPayload:
    track: Track | None = None
    unit: Unit | None = None
    error: MesError | None = None


def _executed(r: ex.Executed) -> TrackPayload:
    return TrackPayload(track=Track.of(r.track), unit=Unit.of(r.unit))


@strawberry.input
class DisposeUnitInput:
    sn: str
    action: DispositionAction
    reason: str
    operator_id: str | None = None
    to_step_no: int | None = strawberry.field(
        default=None, description="REWORK only: the step to go back to."
    )


@strawberry.type
class UnitPayload:
    unit: Unit | None = None
    error: MesError | None = None


@strawberry.type
class UnitValidation:
    sn: str
    ok: bool
    code: ErrorCode | None = strawberry.field(
        description="The refusal an event for this unit at this station would get now; "
        "null when ok."
    )
    details: JSON | None
    current_step_no: int | None


@strawberry.type
class ExecutionQuery:
    @strawberry.field(
        description="The interlock: would these units be accepted at this station now (by its "
        "station type)? Writes nothing."
    )
    async def validate_units(
        self,
        info: Info,
        station_code: str,
        sns: list[str],
        recipe: Annotated[
            str | None,
            strawberry.argument(
                description="The program the machine is about to run: a unit whose current "
                "step names another recipe answers RECIPE_MISMATCH (expected and got)."
            ),
        ] = None,
    ) -> list[UnitValidation]:
        try:
            answers = await validate_units(info.context.store, station_code, sns, recipe)
        except DomainError as err:
            raise BadInput(err.message, err.code.value) from err
        return [
            UnitValidation(
                sn=a.sn,
                ok=a.ok,
                code=a.code,
                details=cast(JSON, a.details),
                current_step_no=a.current_step_no,
            )
            for a in answers
        ]


@strawberry.type
class ExecutionMutation:
    @strawberry.mutation
    async def dispose_unit(self, info: Info, input: DisposeUnitInput) -> UnitPayload:
        cmd = lc.DisposeUnit(
            sn=input.sn,
            disposition=input.action,
            reason=input.reason,
            operator_id=input.operator_id,
            to_step_no=input.to_step_no,
        )
        return await run_command(
            info, cmd, lambda r: UnitPayload(unit=Unit.of(r.unit)), UnitPayload
        )

    @strawberry.mutation
    async def track_in(self, info: Info, input: TrackInInput) -> TrackPayload:
        cmd = ex.TrackIn(input.station_code, input.run_no, input.sn, input.operator_id)
        return await run_command(info, cmd, _executed, TrackPayload)

    @strawberry.mutation
    async def track_out(self, info: Info, input: TrackOutInput) -> TrackPayload:
        cmd = ex.TrackOut(
            station_code=input.station_code,
            run_no=input.run_no,
            sn=input.sn,
            result=input.result,
            operator_id=input.operator_id,
            data=tuple(value_input(v) for v in input.data or ()),
        )
        payload = await run_command(info, cmd, _executed, TrackPayload)
        if payload.track is not None and payload.track.result is TrackResult.ERROR:
            record_track_errors(input.station_code)
        return payload
