"""The one entry point of CFX envelopes, for both transports (`POST /cfx` and the AMQP 1.0
consumer): each envelope in order through the ingest pipeline, one result each.

    receiver = services.cfx                      # graphql_api/bootstrap.py
    results = await receiver.receive(envelopes, actor)   # list[CfxResult], in order

An envelope that cannot be stored (not an object, no UniqueID or no Source) is only answered;
every other refusal is stored as a rejection like any refused ingest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.actors import Actor
from domain.cfx.envelope import CfxEnvelope, event_type_of
from domain.enums import IngestStatus
from domain.errors import DomainError
from domain.ingest.pipeline import IngestOutcome, IngestService
from domain.ingest.stations import station_named
from domain.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class CfxResult:
    """One envelope's answer: its UniqueID (None when it sent none), ACCEPTED / DUPLICATE /
    PARKED / REJECTED, the refusal, the accepted event's id."""

    unique_id: str | None
    status: IngestStatus
    error: DomainError | None = None
    event_id: int | None = None
    #: the envelope's Source (None when it sent none), for metrics and logs
    source: str | None = None
    #: the pipeline's whole answer (None when the envelope was only answered)
    outcome: IngestOutcome | None = None


def _size(raw: Any) -> int:
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
        return len(text.encode("utf-8", "surrogatepass"))
    except (RecursionError, ValueError):
        return 0  # nested past any limit: the pipeline refuses it for its depth


class CfxReceiver:
    def __init__(self, ingest: IngestService, uow_factory: UnitOfWorkFactory):
        self.ingest = ingest
        self.uow_factory = uow_factory

    async def receive(self, envelopes: list[Any], actor: Actor) -> list[CfxResult]:
        """Each envelope judged and committed on its own, in order."""
        return [await self.receive_one(raw, actor) for raw in envelopes]

    async def receive_one(self, raw: Any, actor: Actor) -> CfxResult:
        try:
            cfx = CfxEnvelope.parse(raw)
        except DomainError as err:
            unique_id = raw.get("UniqueID") if isinstance(raw, dict) else None
            source = raw.get("Source") if isinstance(raw, dict) else None
            return CfxResult(
                unique_id if isinstance(unique_id, str) else None,
                IngestStatus.REJECTED,
                err,
                source=source if isinstance(source, str) else None,
            )
        async with self.uow_factory() as uow:
            station = await station_named(uow, cfx.source)
        env = cfx.ingest(event_type_of(cfx.message_name, station), _size(raw))
        try:
            cfx.check(station)
        except DomainError as err:
            outcome = await self.ingest.refuse(env, err, actor)
        else:
            outcome = await self.ingest.ingest(env, actor)
        event_id = outcome.event.id if outcome.event is not None else None
        return CfxResult(
            cfx.unique_id, outcome.status, outcome.error, event_id, cfx.source, outcome
        )
