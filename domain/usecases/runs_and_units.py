"""Work orders, runs and units (DOMAIN.md §2 Production)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar

from domain import run_states as rs
from domain import work_order_states as wos
from domain.changes import UnitsChanged
from domain.enums import DispositionAction, RunStatus, UnitStatus, WorkOrderStatus
from domain.errors import DomainError, ErrorCode, KeyTaken, not_found
from domain.lifecycle import registered
from domain.panels import (
    Panel,
    PanelSpec,
    check_barcodes_distinct,
    panel_boards,
    x_out_positions,
)
from domain.ports import UnitOfWork
from domain.run_states import RunAction
from domain.runs_and_units import Disposition, Run, Unit, WorkOrder
from domain.usecases.bus import Command, Deps
from domain.validation import (
    MAX_CODE_LENGTH,
    check_code,
    check_optional_code,
    check_positive,
    check_sn,
)


@dataclass(frozen=True, slots=True)
class ReceiveWorkOrder(Command):
    wo_no: str
    product_code: str
    planned_qty: int
    routing_code: str | None = None
    due_date: datetime | None = None
    action: ClassVar[str] = "receiveWorkOrder"
    entity_type: ClassVar[str] = "WorkOrder"

    def entity_key(self) -> str:
        return self.wo_no


async def receive_work_order(cmd: ReceiveWorkOrder, uow: UnitOfWork, deps: Deps) -> WorkOrder:
    """Upsert by woNo; never moves the status backwards. The routing is resolved at createRun."""
    check_code(cmd.wo_no, "woNo")
    check_code(cmd.product_code, "productCode")
    check_optional_code(cmd.routing_code, "routingCode")
    check_positive(cmd.planned_qty, "plannedQty")
    existing = await uow.work_orders.get(cmd.wo_no, for_update=True)
    wo = WorkOrder(
        wo_no=cmd.wo_no,
        product_code=cmd.product_code,
        planned_qty=cmd.planned_qty,
        status=existing.status if existing else WorkOrderStatus.RECEIVED,
        routing_code=cmd.routing_code,
        due_date=cmd.due_date,
    )
    if existing is None:
        await uow.work_orders.add(wo)
    elif existing != wo:
        await uow.work_orders.update(wo)
    return wo


@dataclass(frozen=True, slots=True)
class ReleaseWorkOrder(Command):
    wo_no: str
    action: ClassVar[str] = "releaseWorkOrder"
    entity_type: ClassVar[str] = "WorkOrder"

    def entity_key(self) -> str:
        return self.wo_no


async def release_work_order(cmd: ReleaseWorkOrder, uow: UnitOfWork, deps: Deps) -> WorkOrder:
    wo = await _locked_work_order(uow, cmd.wo_no)
    released = wos.moved(wo, wos.WorkOrderAction.RELEASE)
    if released is not wo:
        await uow.work_orders.update(released)
    return released


async def _locked_work_order(uow: UnitOfWork, wo_no: str) -> WorkOrder:
    wo = await uow.work_orders.get(wo_no, for_update=True)
    if wo is None:
        raise not_found(ErrorCode.WORK_ORDER_NOT_FOUND, "work order", wo_no)
    return wo


@dataclass(frozen=True, slots=True)
class CreateRun(Command):
    wo_no: str
    line_code: str
    plan_qty: int
    run_no: str | None = None
    shift_code: str | None = None
    action: ClassVar[str] = "createRun"
    entity_type: ClassVar[str] = "Run"

    def entity_key(self) -> str:
        return self.run_no or f"{self.wo_no}/*"


async def create_run(cmd: CreateRun, uow: UnitOfWork, deps: Deps) -> Run:
    """Freeze the routing's latest READY version for good; the first run starts the work order."""
    check_code(cmd.wo_no, "woNo")
    check_code(cmd.line_code, "lineCode")
    check_optional_code(cmd.run_no, "runNo")
    check_optional_code(cmd.shift_code, "shiftCode")
    check_positive(cmd.plan_qty, "planQty")
    wo = await _locked_work_order(uow, cmd.wo_no)
    started = wos.moved(wo, wos.WorkOrderAction.CREATE_RUN)
    if not await uow.lines.get(cmd.line_code):
        raise not_found(ErrorCode.LINE_NOT_FOUND, "line", cmd.line_code)
    if wo.routing_code is None or not await uow.routings.get(wo.routing_code):
        raise DomainError(
            ErrorCode.ROUTE_NOT_FOUND,
            f"work order {wo.wo_no!r} has no known routing ({wo.routing_code!r})",
            {"woNo": wo.wo_no, "routingCode": wo.routing_code},
        )
    version = await uow.route_versions.latest_ready(wo.routing_code)
    if version is None or version.id is None:
        raise DomainError(
            ErrorCode.ROUTE_VERSION_NOT_READY,
            f"routing {wo.routing_code!r} has no READY version: compile it first",
            {"routingCode": wo.routing_code},
        )
    run_no = cmd.run_no or await _next_run_no(uow, wo.wo_no)
    if await uow.runs.get(run_no):
        raise DomainError(
            ErrorCode.RUN_ALREADY_EXISTS, f"run {run_no!r} already exists", {"runNo": run_no}
        )
    run = Run(
        run_no=run_no,
        wo_no=wo.wo_no,
        status=RunStatus.PREP,
        plan_qty=cmd.plan_qty,
        route_version_id=version.id,
        line_code=cmd.line_code,
        shift_code=cmd.shift_code,
        created_at=deps.clock.now(),
    )
    await uow.runs.add(run)
    if started is not wo:
        await uow.work_orders.update(started)
    return run


async def _next_run_no(uow: UnitOfWork, wo_no: str) -> str:
    """`{woNo}-{nn}`, counted per work order (the work order row is locked by the caller)."""
    n = await uow.runs.count_for_work_order(wo_no) + 1
    while True:
        run_no = f"{wo_no}-{n:02d}"
        if len(run_no) > MAX_CODE_LENGTH:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                "woNo is too long to generate a runNo from it: send runNo",
                {"field": "runNo"},
            )
        if not await uow.runs.get(run_no):
            return run_no
        n += 1


@dataclass(frozen=True, slots=True)
class AuthorizeRun(Command):
    run_no: str
    action: ClassVar[str] = "authorizeRun"
    entity_type: ClassVar[str] = "Run"

    def entity_key(self) -> str:
        return self.run_no


async def _locked_run(uow: UnitOfWork, run_no: str) -> Run:
    run = await uow.runs.get(run_no, for_update=True)
    if run is None:
        raise not_found(ErrorCode.RUN_NOT_FOUND, "run", run_no)
    return run


async def authorize_run(cmd: AuthorizeRun, uow: UnitOfWork, deps: Deps) -> Run:
    return await _move_run(uow, cmd.run_no, RunAction.AUTHORIZE)


async def _move_run(uow: UnitOfWork, run_no: str, action: RunAction) -> Run:
    """Lock the run, move it as the table says (rs.RUN_MOVES), save it if it moved."""
    run = await _locked_run(uow, run_no)
    moved = rs.moved(run, action)
    if moved is not run:
        await uow.runs.update(moved)
    return moved


@dataclass(frozen=True, slots=True)
class RevokeRunAuthorization(Command):
    run_no: str
    action: ClassVar[str] = "revokeRunAuthorization"
    entity_type: ClassVar[str] = "Run"

    def entity_key(self) -> str:
        return self.run_no


async def revoke_run_authorization(cmd: RevokeRunAuthorization, uow: UnitOfWork, deps: Deps) -> Run:
    return await _move_run(uow, cmd.run_no, RunAction.REVOKE)


@dataclass(frozen=True, slots=True)
class CloseRun(Command):
    run_no: str
    action: ClassVar[str] = "closeRun"
    entity_type: ClassVar[str] = "Run"

    def entity_key(self) -> str:
        return self.run_no


async def close_run(cmd: CloseRun, uow: UnitOfWork, deps: Deps) -> Run:
    """→ COMPLETED when every unit is DONE, SCRAPPED or X_OUT, whatever the run's status (a run with
    no units may be closed); the work order completes only by its quantity (DOMAIN.md §6)."""
    run = await _locked_run(uow, cmd.run_no)
    closed = rs.moved(run, RunAction.CLOSE)
    if closed is run:
        return run
    rs.check_units_finished(run, await uow.units.status_counts(run.run_no))
    await uow.runs.update(closed)
    # lock order work order → run is used by createRun too; here the run is already locked,
    # and createRun never locks a run, so no cycle can form.
    await complete_work_order_if_done(uow, run.wo_no)
    return closed


async def work_order_done_qty(uow: UnitOfWork, wo_no: str) -> int:
    """The units that count toward the work order's planned quantity: the one place this is
    computed. A held unit is ON_HOLD (not DONE), so a held good board does not count."""
    return await uow.units.count_for_work_order(wo_no, (UnitStatus.DONE,))


async def complete_work_order_if_done(uow: UnitOfWork, wo_no: str) -> WorkOrder | None:
    """COMPLETED when its DONE units reach the planned quantity and none of its runs is open;
    never merely because its last open run closed (DOMAIN.md §6). The completed order, if so."""
    wo = await uow.work_orders.get(wo_no, for_update=True)
    if wo is None or not wos.may_complete(wo, await uow.runs.statuses_for_work_order(wo_no)):
        return None
    completed = wos.completed_by_quantity(wo, await work_order_done_qty(uow, wo_no))
    if completed is not None:
        await uow.work_orders.update(completed)
    return completed


@dataclass(frozen=True, slots=True)
class CloseWorkOrder(Command):
    wo_no: str
    action: ClassVar[str] = "closeWorkOrder"
    entity_type: ClassVar[str] = "WorkOrder"

    def entity_key(self) -> str:
        return self.wo_no


async def close_work_order(cmd: CloseWorkOrder, uow: UnitOfWork, deps: Deps) -> WorkOrder:
    """RELEASED or IN_PROGRESS → COMPLETED whatever its quantity, refused while a run is open
    (WORK_ORDER_RUN_OPEN); COMPLETED again is a no-op (DOMAIN.md §2, §6)."""
    wo = await _locked_work_order(uow, cmd.wo_no)
    completed = wos.moved(wo, wos.WorkOrderAction.CLOSE)
    if completed is wo:
        return wo
    wos.check_no_open_runs(wo, await uow.runs.statuses_for_work_order(wo.wo_no))
    await uow.work_orders.update(completed)
    return completed


@dataclass(frozen=True, slots=True)
class RegisterUnits(Command):
    run_no: str
    sns: tuple[str, ...] | None = None
    count: int | None = None
    sn_prefix: str | None = None
    panels: tuple[PanelSpec, ...] | None = None
    action: ClassVar[str] = "registerUnits"
    entity_type: ClassVar[str] = "Run"

    def entity_key(self) -> str:
        return self.run_no


async def register_units(cmd: RegisterUnits, uow: UnitOfWork, deps: Deps) -> list[Unit]:
    """All or nothing: explicit SNs, `count` generated as prefix + a 6-digit sequence counted
    per prefix across runs, or panels whose boards are the units."""
    limit = deps.limits.max_register_units
    if sum(x is not None for x in (cmd.sns, cmd.count, cmd.panels)) != 1:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, "send one of sns, count or panels", {"field": "sns"}
        )
    if cmd.panels is not None:
        return await _register_panels(cmd.run_no, cmd.panels, uow, deps)
    if cmd.sns is not None and not cmd.sns:
        raise DomainError(ErrorCode.VALIDATION_FAILED, "sns must not be empty", {"field": "sns"})
    size = len(cmd.sns) if cmd.sns is not None else (cmd.count or 0)
    check_positive(size, "count" if cmd.count is not None else "sns", maximum=limit)
    run = rs.moved(await _locked_run(uow, cmd.run_no), RunAction.REGISTER_UNITS)
    await uow.units.lock_registrations()  # after the run's lock, as every registration
    if cmd.sns is not None:
        sns = [check_sn(sn, "sns", deps.limits.sn_pattern) for sn in cmd.sns]
        repeated = sorted(sn for sn, n in Counter(sns).items() if n > 1)
        if repeated:
            raise DomainError(
                ErrorCode.VALIDATION_FAILED,
                f"sns repeat: {', '.join(repeated[:10])}",
                {"field": "sns", "repeated": repeated[:100]},
            )
    else:
        prefix = f"{run.run_no}-" if cmd.sn_prefix is None else cmd.sn_prefix
        sns = await _generate_sns(uow, deps, prefix, size)
    # an SN that is a panel's barcode would be ambiguous; one that is a carrier's is not (a
    # barcode resolves as a unit SN before a carrier, as it always did)
    existing = await uow.units.taken_barcodes(sns, carriers=False)
    if existing:
        raise _units_exist(existing)
    now = deps.clock.now()
    first_step = await _first_step(uow, run)
    return await _add_units(uow, [registered(sn, run, first_step, now) for sn in sns])


async def _first_step(uow: UnitOfWork, run: Run) -> int | None:
    version = await uow.route_versions.get_by_id(run.route_version_id)
    return version.first_step_no if version else None


async def _add_units(uow: UnitOfWork, units: list[Unit]) -> list[Unit]:
    try:
        await uow.units.add_many(units)
    except KeyTaken as taken:  # by a concurrent registration since the check above
        raise _units_exist(taken.keys) from None
    uow.publish(UnitsChanged.of(units))
    return units


async def _register_panels(
    run_no: str, specs: tuple[PanelSpec, ...], uow: UnitOfWork, deps: Deps
) -> list[Unit]:
    """Each panel's barcode and every board's SN must be new in the one namespace of unit SNs,
    panel barcodes and carriers (UNIT_ALREADY_EXISTS otherwise)."""
    check_positive(len(specs), "panels", maximum=deps.limits.max_register_units)
    check_positive(
        sum(s.positions for s in specs), "panels.positions", deps.limits.max_register_units
    )
    boards = [(spec, panel_boards(spec, deps.limits.sn_pattern)) for spec in specs]
    panel_sns = [spec.panel_sn for spec in specs]
    board_sns = [sn for _, bs in boards for _, sn in bs]
    check_barcodes_distinct(panel_sns, board_sns)
    run = rs.moved(await _locked_run(uow, run_no), RunAction.REGISTER_UNITS)
    await uow.units.lock_registrations()  # after the run's lock, as every registration
    existing = await uow.units.taken_barcodes(panel_sns + board_sns)
    if existing:
        raise _units_exist(existing)
    now = deps.clock.now()
    try:
        await uow.units.add_panels([Panel(s.panel_sn, s.positions, run.run_no, now) for s in specs])
    except KeyTaken as taken:
        raise _units_exist(taken.keys) from None
    first_step = await _first_step(uow, run)
    units = [
        replace(
            registered(sn, run, first_step, now),
            panel_sn=spec.panel_sn,
            position=position,
            status=UnitStatus.X_OUT if position in x_out_positions(spec) else UnitStatus.QUEUED,
        )
        for spec, bs in boards
        for position, sn in bs
    ]
    added = await _add_units(uow, units)
    await _record_x_outs(uow, [u.sn for u in units if u.status is UnitStatus.X_OUT], now)
    return added


async def _record_x_outs(uow: UnitOfWork, sns: list[str], at: datetime) -> None:
    """Each board registered X_OUT gets its disposition, so the trace says when and by what."""
    if not sns:
        return
    for unit in await uow.units.get_many(sns):
        await uow.units.add_disposition(
            Disposition(
                unit_id=unit.id or 0,
                action=DispositionAction.X_OUT,
                reason=f"registered X_OUT on panel {unit.panel_sn} at position {unit.position}",
                at=at,
                from_status=UnitStatus.X_OUT,
                to_status=UnitStatus.X_OUT,
                from_step_no=unit.current_step_no,
                to_step_no=unit.current_step_no,
            )
        )


def _units_exist(sns: list[str]) -> DomainError:
    """UNIT_ALREADY_EXISTS: an SN names one unit for good, whichever run registered it."""
    return DomainError(
        ErrorCode.UNIT_ALREADY_EXISTS,
        f"{len(sns)} unit(s) already exist: {', '.join(sorted(sns)[:10])}",
        {"sns": sorted(sns)[:100], "count": len(sns)},
    )


async def _generate_sns(uow: UnitOfWork, deps: Deps, prefix: str, size: int) -> list[str]:
    """`size` new SNs numbered by the prefix's counter (shared by every run; the counter row
    stays locked until commit, so concurrent registrations get blocks of their own). Numbers
    whose SN is taken already (a unit registered explicitly, or a panel's barcode) are skipped,
    never a dead end."""
    check_sn(f"{prefix}{1:06d}", "snPrefix", deps.limits.sn_pattern)  # before the counter
    sns: list[str] = []
    while len(sns) < size:
        wanted = size - len(sns)
        first = await uow.units.next_sn_numbers(prefix, wanted)
        block = [
            check_sn(f"{prefix}{n:06d}", "snPrefix", deps.limits.sn_pattern)
            for n in range(first, first + wanted)
        ]
        taken = set(await uow.units.taken_barcodes(block, carriers=False))
        sns += [sn for sn in block if sn not in taken]
    return sns
