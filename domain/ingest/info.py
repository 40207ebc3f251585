"""INFO events (issue 19): messages that report no result — arrivals, departures, work
started, materials installed. Read by the first of a route's infoMappings whose units path
yields a unit; recorded against every known unit it names, finished ones too, with no track,
no step and no station gate (the token's station binding still holds). A finished unit is
linked because the event changes no unit: a machine's UnitsDeparted comes after the result
that finished the board's route, and belongs on that board's history all the same.
`normalized.terminalSns` names the finished ones among them; SNs no unit (nor panel) has are
listed in `normalized.unknownSns`, unlinked; neither is a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actors import Actor
from domain.changes import IngestCommitted
from domain.enums import IngestStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestEnvelope, IngestEvent
from domain.ingest.resolve import MappingCache, Progress, candidate_versions
from domain.ingest.stations import station_named
from domain.mapping.normalize import IngestMapping
from domain.mapping.reading import as_code, one
from domain.ports import EventWrites, UnitOfWork
from domain.run_states import FINISHED_UNIT_STATUSES
from domain.runs_and_units import Unit


@dataclass(frozen=True, slots=True)
class InfoReading:
    """The mapping that read the event and the SNs it names."""

    mapping: IngestMapping
    routing_code: str
    sns: list[str]


async def read_info(
    uow: UnitOfWork, mappings: MappingCache, env: IngestEnvelope, root: dict[str, Any]
) -> InfoReading:
    """The first infoMapping (of the named run's version, else of unfinished runs' versions
    in run creation order) whose units path yields a unit. None yields one: refused, naming
    the paths tried (nothing could say which station or units the message is about)."""
    _, version_ids, versions = await candidate_versions(uow, env)
    tried: list[str] = []
    for version_id in version_ids:
        version = versions.get(version_id)
        if version is None:
            continue
        for mapping in mappings.info(version):
            sns = mapping.unit_sns(root)
            if sns:
                return InfoReading(mapping, version.routing_code, sns)
            tried += [p.text for p in (mapping.sn, mapping.sn_list, mapping.unit_items) if p]
    raise DomainError(
        ErrorCode.INGEST_PAYLOAD_INVALID,
        "no unit found in the payload by the infoMappings of unfinished runs' routes",
        {"pathsTried": list(dict.fromkeys(tried))},
    )


async def record_info(
    uow: UnitOfWork,
    mappings: MappingCache,
    env: IngestEnvelope,
    input_hash: str,
    actor: Actor,
    received_at: datetime,
    progress: Progress,
) -> IngestEvent | None:
    """Read, check the station binding, write the event and its links to the known units
    (`normalized.units` each with its status, `terminalSns` the finished ones among them);
    None when another sender's event took the key meanwhile (the caller looks again)."""
    root = env.root()
    reading = await read_info(uow, mappings, env, root)
    mapping = reading.mapping
    station_code = as_code(one(mapping.station, root, "station"), "station", mapping.station.text)
    station = await station_named(uow, station_code)
    station_code = station.code if station is not None else station_code
    refusal = actor.station_refusal(station_code, station)
    if refusal is not None:
        raise refusal
    progress.sns = reading.sns
    found = {u.sn: u for u in await uow.units.get_many(reading.sns)}
    sns = await _panels_as_boards(uow, reading.sns, found)
    linked = [found[sn] for sn in sns if sn in found]
    terminal = [u.sn for u in linked if u.status in FINISHED_UNIT_STATUSES]
    unknown = [sn for sn in sns if sn not in found]
    run_nos = sorted({u.run_no for u in linked})
    occurred_at = env.occurred_at
    assert occurred_at is not None  # the envelope check requires it
    line_code = station.line_code if station is not None else None
    event = IngestEvent(
        source_system=env.source_system,
        dedupe_key=env.dedupe_key,
        input_hash=input_hash,
        event_type=env.event_type,
        occurred_at=occurred_at,
        received_at=received_at,
        payload=env.payload,
        run_no=run_nos[0] if len(run_nos) == 1 else None,
        station_code=station_code,
        line_code=line_code,
        sn=linked[0].sn if len(linked) == 1 else None,
        sn_list=tuple(u.sn for u in linked),
        normalized={
            "stationCode": station_code,
            "lineCode": line_code,
            "routingCode": reading.routing_code,
            "infoMapping": mapping.alternative,
            "units": [{"sn": u.sn, "status": u.status.value} for u in linked],
            "unknownSns": unknown,
            "terminalSns": terminal,
        },
        meta=env.meta,
    )
    stored = await uow.ingest_writes.record(
        EventWrites(
            event=event,
            unit_ids=tuple(u.id for u in linked if u.id is not None),
            tester_keys=(),
            carrier=None,
            tracks=(),
            units=(),
            run_start=None,
        )
    )
    if stored is None or stored.id is None:
        return None
    uow.publish(
        IngestCommitted(IngestStatus.ACCEPTED, stored.source_system, line_code, event_id=stored.id)
    )
    return stored


async def _panels_as_boards(uow: UnitOfWork, sns: list[str], found: dict[str, Unit]) -> list[str]:
    """A barcode that is no unit's but a panel's stands for the panel's every board (an INFO
    message links, it judges nothing: positions are not read); adds the boards to `found`."""
    unknown = [sn for sn in sns if sn not in found]
    boards = await uow.units.boards_of_panels(unknown) if unknown else []
    of_panel: dict[str, list[str]] = {}
    for b in boards:
        found[b.sn] = b
        of_panel.setdefault(b.panel_sn or "", []).append(b.sn)
    return list(dict.fromkeys(s for sn in sns for s in of_panel.get(sn, [sn])))
