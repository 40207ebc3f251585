"""§4 step 3: which units (and so which run and frozen version) an event is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.carriers import Carrier, CarrierLoad
from domain.cfx.meaning import cfx_info_mappings, cfx_step_mapping, is_cfx
from domain.enums import StationType, TrackResult, UnitStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.data import JudgedValue
from domain.ingest.panel_boards import pick_boards
from domain.ingest.records import IngestEnvelope
from domain.mapping.alternatives import StepMapping
from domain.mapping.info import parse_info_mappings
from domain.mapping.normalize import IngestMapping
from domain.mapping.normalized import UnitReading
from domain.mapping.paths import values_at
from domain.ports import UnitOfWork
from domain.routes import RouteStep, RouteVersion
from domain.runs_and_units import Run, Unit, require_registered

PLAIN_SN_PATHS = ("payload.sn", "payload.snList[*]", "payload.snList")


class MappingCache:
    """Parsed mappings per (route version, step): versions never change, so this is safe to
    keep across requests, and processes never disagree about it."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._cache: dict[tuple[int, int], StepMapping] = {}
        self._info: dict[int, tuple[IngestMapping, ...]] = {}

    def get(self, version: RouteVersion, step: RouteStep) -> StepMapping | None:
        if version.id is None or not isinstance(step.ingest_mapping, dict):
            return None
        key = (version.id, step.step_no)
        found = self._cache.get(key)
        if found is None:
            try:
                found = (
                    cfx_step_mapping(step.ingest_mapping, step.station_type)
                    if is_cfx(step.ingest_mapping)
                    else StepMapping.parse(step.ingest_mapping)
                )
            except (KeyError, TypeError, ValueError):
                # a stored mapping compile would refuse (written past compile, or by an older
                # build): that step takes no events, and no other run's events suffer for it
                return None
            if len(self._cache) >= self.size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = found
        return found

    def info(self, version: RouteVersion) -> tuple[IngestMapping, ...]:
        """The version's infoMappings, parsed (none when they are unusable, as for a step);
        a version with a `{"format": "CFX"}` step also reads CFX's messages without a result
        (after its own)."""
        if version.id is None:
            return ()
        found = self._info.get(version.id)
        if found is None:
            try:
                found = parse_info_mappings(version.info_mappings or ())
            except (KeyError, TypeError, ValueError):
                found = ()
            if any(is_cfx(step.ingest_mapping) for step in version.steps):
                found += cfx_info_mappings()
            if len(self._info) >= self.size:
                self._info.pop(next(iter(self._info)))
            self._info[version.id] = found
        return found


@dataclass
class Progress:
    """What the pipeline learnt before it refused: the SNs of step 3, for the rejection, and
    whether the dedupe key had been found free (a refusal after that point may have lost a
    race with an accepted send of the same key)."""

    sns: list[str] = field(default_factory=list)
    key_was_free: bool = False


@dataclass
class Resolved:
    """Step 3's answer: the units (locked), their run and its frozen version; for a
    carrier-only BATCH event also the carrier and the open loads that stand for its units."""

    units: list[Unit]
    run: Run
    version: RouteVersion
    carrier: Carrier | None = None
    loads: list[CarrierLoad] = field(default_factory=list)
    #: the candidate mapping (the alternative of a oneOf) that found the units (its
    #: batchPolicy holds when no unit stands at a step of the event's type)
    found_by: IngestMapping | None = None
    #: the X_OUT boards the event named (by position or by their panel), left out
    x_outs: tuple[str, ...] = ()
    #: carriers named where a unit's barcode goes, and the units each stands for
    carried: dict[str, tuple[str, ...]] = field(default_factory=dict)


async def candidate_versions(
    uow: UnitOfWork, env: IngestEnvelope
) -> tuple[Run | None, list[int], dict[int, RouteVersion]]:
    """The route versions whose mappings may read the event: the named run's (RUN_NOT_FOUND
    when there is no such run), else those of the unfinished runs, in run creation order."""
    named: Run | None = None
    if env.run_no is not None:
        named = await uow.runs.get(env.run_no)
        if named is None:
            raise DomainError(
                ErrorCode.RUN_NOT_FOUND, f"run {env.run_no!r} not found", {"runNo": env.run_no}
            )
        version_ids = [named.route_version_id]
    else:
        version_ids = await uow.runs.unfinished_versions()
    return named, version_ids, await uow.route_versions.get_many(version_ids)


async def resolve_units(
    uow: UnitOfWork,
    mappings: MappingCache,
    env: IngestEnvelope,
    root: dict[str, Any],
    station_type: StationType,
    progress: Progress,
) -> Resolved:
    """Step 3: machines rarely know run numbers, so the units come from the payload, read by
    the candidate mappings of unfinished runs (in run creation, then stepNo order)."""
    named, version_ids, versions = await candidate_versions(uow, env)
    if named is not None:
        require_step_of_type(named, versions.get(named.route_version_id), station_type)
    tried: list[str] = []
    sns: list[str] = []
    found_by: IngestMapping | None = None
    carrier_code: str | None = None
    for version_id in version_ids:
        version = versions.get(version_id)
        if version is None or version.id is None:
            continue
        for step in version.steps:
            if step.station_type is not station_type:
                continue
            step_mapping = mappings.get(version, step)
            if step_mapping is None:
                continue
            tried += step_mapping.unit_paths
            mapping = step_mapping.pick(root)
            sns = mapping.unit_sns(root)
            if not sns and carrier_code is None and station_type is StationType.BATCH:
                carrier_code = mapping.carrier_code(root)
                found_by = mapping
            if sns:
                found_by = mapping
                break
        if sns:
            break
    carrier: Carrier | None = None
    loads: list[CarrierLoad] = []
    if not sns and carrier_code is not None:
        carrier = await uow.carriers.get(carrier_code)
        if carrier is None or carrier.id is None:
            raise DomainError(
                ErrorCode.CARRIER_NOT_FOUND,
                f"carrier {carrier_code!r} not found: name its units, or load it first",
                {"carrierNo": carrier_code},
            )
        loads = await uow.carriers.open_loads(carrier.id)
        if not loads:
            raise DomainError(
                ErrorCode.CARRIER_EMPTY,
                f"carrier {carrier_code!r} has no open loads",
                {"carrierNo": carrier_code},
            )
        units = await uow.units.get_many_by_id([ld.unit_id for ld in loads], for_update=True)
        # the loads were read before the units were locked; a unit's loads change only under
        # its lock (load/unloadCarrier, BATCH events), so look again: a board unloaded or
        # moved to another carrier meanwhile is no longer this carrier's
        loads = [
            ld
            for ld in await uow.carriers.open_loads_of_units([u.id or 0 for u in units])
            if ld.carrier_id == carrier.id
        ]
        if not loads:
            raise DomainError(
                ErrorCode.CARRIER_EMPTY,
                f"carrier {carrier_code!r} has no open loads",
                {"carrierNo": carrier_code},
            )
        loaded = {ld.unit_id for ld in loads}
        units = [u for u in units if u.id in loaded]
        sns = [u.sn for u in units]
    elif not sns:
        for path in PLAIN_SN_PATHS:
            tried.append(path)
            sns = plain_sns(values_at(path, root))
            if sns:
                break
    if not sns:
        raise DomainError(
            ErrorCode.INGEST_PAYLOAD_INVALID,
            "no unit found in the payload by the mappings of "
            f"{station_type.value} steps of unfinished runs",
            {"pathsTried": list(dict.fromkeys(tried))},
        )
    only = env.restrict_to_sn
    if only is not None and (only in sns or carrier is not None):
        sns = [sn for sn in sns if sn == only]
    progress.sns = sns
    x_outs: tuple[str, ...] = ()
    carried: dict[str, tuple[str, ...]] = {}
    if carrier is None:
        units = await uow.units.get_many(sns, for_update=True)
        sns, units, x_outs, carried = await _with_boards(uow, found_by, root, sns, units)
        if only is not None:
            # a PARTIAL replay of one board of an event that named its panel
            sns = [sn for sn in sns if sn == only] or [only]
            units = [u for u in units if u.sn == only]
        progress.sns = sns
    else:
        units = [u for u in units if u.sn in set(sns)]
    require_registered(sns, units)
    run_nos = sorted({u.run_no for u in units})
    if len(run_nos) > 1 or (env.run_no is not None and run_nos != [env.run_no]):
        raise DomainError(
            ErrorCode.RUN_MISMATCH,
            f"the event's units belong to run(s) {', '.join(run_nos)}"
            + (f", not to {env.run_no}" if env.run_no else ""),
            {"runNos": run_nos, "runNo": env.run_no},
        )
    # held until the transaction ends, so an authorize, revoke or close waits for this event
    # and this event for them (on PostgreSQL read with the locked units: no statement of its
    # own)
    run = await uow.runs.get(run_nos[0], for_share=True)
    assert run is not None  # the unit's foreign key guarantees it
    version = versions.get(run.route_version_id) or (
        await uow.route_versions.get_many([run.route_version_id])
    ).get(run.route_version_id)
    require_step_of_type(run, version, station_type)
    assert version is not None
    order = {sn: i for i, sn in enumerate(sns)}
    units.sort(key=lambda u: order[u.sn])
    return Resolved(units, run, version, carrier, loads, found_by, x_outs, carried)


async def _with_boards(
    uow: UnitOfWork,
    mapping: IngestMapping | None,
    root: dict[str, Any],
    sns: list[str],
    units: list[Unit],
) -> tuple[list[str], list[Unit], tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The SNs that are no unit's, read as panel barcodes: each stands for the boards the
    event names (domain/ingest/panel_boards.py), and the X_OUT boards it named are left out
    (their SNs are the third answer); one more statement, only when some are. Those that are
    no panel's either, read as carrier names: each stands for the carrier's loaded units (the
    fourth answer, by carrier name)."""
    found = {u.sn for u in units}
    unknown = [sn for sn in sns if sn not in found]
    if not unknown:
        return sns, units, (), {}
    boards = await uow.units.boards_of_panels(unknown, for_update=True)
    of_barcode: dict[str, list[str]] = {b.panel_sn or "": [] for b in boards}
    x_outs: list[Unit] = []
    picked: list[Unit] = []
    if boards:
        positions = mapping.unit_positions(root) if mapping is not None else {}
        picked, x_outs = pick_boards(boards, positions)
        for b in picked:
            of_barcode[b.panel_sn or ""].append(b.sn)
    carried: dict[str, tuple[str, ...]] = {}
    for code in (sn for sn in unknown if sn not in of_barcode):
        loaded = await _carried_units(uow, code)
        if loaded is not None:
            carried[code] = tuple(u.sn for u in loaded)
            of_barcode[code] = list(carried[code])
            picked += loaded
    out: list[str] = []
    for sn in sns:
        out += of_barcode.get(sn, [sn])
    return list(dict.fromkeys(out)), units + picked, tuple(b.sn for b in x_outs), carried


async def _carried_units(uow: UnitOfWork, carrier_no: str) -> list[Unit] | None:
    """A barcode that is a carrier's name: the units it carries (open loads, looked at again
    once the units are locked, as a carrier-only event does), X_OUT boards left out; None when
    it is no carrier's; CARRIER_EMPTY when it carries nothing."""
    carrier = await uow.carriers.get(carrier_no)
    if carrier is None or carrier.id is None:
        return None
    loads = await uow.carriers.open_loads(carrier.id)
    units = await uow.units.get_many_by_id([ld.unit_id for ld in loads], for_update=True)
    still = {
        ld.unit_id
        for ld in await uow.carriers.open_loads_of_units([u.id or 0 for u in units])
        if ld.carrier_id == carrier.id
    }
    units = [u for u in units if u.id in still and u.status is not UnitStatus.X_OUT]
    if not units:
        raise DomainError(
            ErrorCode.CARRIER_EMPTY,
            f"carrier {carrier_no!r} has no open loads",
            {"carrierNo": carrier_no},
        )
    return sorted(units, key=lambda u: u.sn)


def require_step_of_type(run: Run, version: RouteVersion | None, station_type: StationType) -> None:
    if version is None or not any(s.station_type is station_type for s in version.steps):
        raise DomainError(
            ErrorCode.INGEST_MAPPING_MISSING,
            f"run {run.run_no}'s route has no {station_type.value} step",
            {"runNo": run.run_no, "eventType": station_type.value},
        )


def plain_sns(values: list[Any]) -> list[str]:
    out: dict[str, None] = {}
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, bool):
                continue
            text = str(item) if isinstance(item, int | float | str) else None
            if text and len(text) <= 100 and text == text.strip():
                out[text] = None
    return list(out)


@dataclass
class Verdict:
    """One unit's reading after steps 4–8: its result and values, or its refusal."""

    unit: Unit
    reading: UnitReading | None = None
    result: TrackResult = TrackResult.PASS
    values: tuple[JudgedValue, ...] = ()
    error: DomainError | None = None
