"""The one entry point of CFX envelopes, for both transports (`POST /cfx` and the AMQP 1.0
consumer): each envelope in order through the ingest pipeline, one result each.

    receiver = services.cfx                      # graphql_api/bootstrap.py
    results = await receiver.receive(envelopes, actor)   # list[CfxResult], in order

An envelope that cannot be stored (not an object, no UniqueID or no Source) is only answered;
every other refusal is stored as a rejection like any refused ingest. A ValidateUnitsRequest is
a question, not an event: it is answered (`CfxResult.response`, domain/cfx/validation.py) and
stores nothing. UnitsLoaded / UnitsUnloaded, ComponentsPlaced and UnitsDisqualified mean a
command, run in the pipeline's transaction with their INFO event (domain/cfx/handlers.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from domain.actors import Actor
from domain.cfx import pairing, validation
from domain.cfx.envelope import CfxEnvelope, event_type_of
from domain.cfx.handlers import CfxMeanings
from domain.enums import IngestStatus
from domain.errors import DomainError, ErrorCode
from domain.ingest.pipeline import IngestOutcome, IngestService
from domain.ingest.stations import station_named
from domain.master import Station
from domain.ports import ReadStore, UnitOfWorkFactory
from domain.usecases.bus import MessageBus

#: the Source of the envelopes the service sends (a ValidateUnitsResponse)
MES_HANDLE = "MES"


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
    #: the envelope to send back: a ValidateUnitsResponse to a ValidateUnitsRequest
    response: dict[str, Any] | None = None


def _size(raw: Any) -> int:
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
        return len(text.encode("utf-8", "surrogatepass"))
    except (RecursionError, ValueError):
        return 0  # nested past any limit: the pipeline refuses it for its depth


class CfxReceiver:
    def __init__(
        self,
        ingest: IngestService,
        uow_factory: UnitOfWorkFactory,
        store: ReadStore,
        handle: str = MES_HANDLE,
        bus: MessageBus | None = None,
    ):
        self.ingest = ingest
        self.uow_factory = uow_factory
        self.store = store
        #: the Source of what the service itself sends (a ValidateUnitsResponse)
        self.handle = handle
        #: the messages that mean a command (none without a bus: read as INFO)
        self.meanings = CfxMeanings(bus) if bus is not None else None

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
            # a WorkCompleted whose transaction's tracks a result message wrote is INFO
            written = await pairing.already_written(uow, cfx.source, cfx.raw)
        if cfx.message_name == validation.REQUEST:
            return await self._validate(cfx, station, actor)
        env = cfx.ingest(event_type_of(cfx.message_name, station, written), _size(raw))
        try:
            cfx.check(station)
        except DomainError as err:
            outcome = await self.ingest.refuse(env, err, actor)
        else:
            assert station is not None  # checked
            meaning = self.meanings.meaning_of(cfx, station, actor) if self.meanings else None
            outcome = await self.ingest.ingest(env, actor, meaning)
        event_id = outcome.event.id if outcome.event is not None else None
        return CfxResult(
            cfx.unique_id, outcome.status, outcome.error, event_id, cfx.source, outcome
        )

    async def _validate(self, cfx: CfxEnvelope, station: Station | None, actor: Actor) -> CfxResult:
        """A machine's interlock question, answered as its station (FORBIDDEN for a token that
        may not write for its Source, as an event of it would be)."""
        if not actor.may_write_for(cfx.source):
            err = DomainError(
                ErrorCode.FORBIDDEN,
                f"token {actor.name!r} may not write for source {cfx.source[:200]!r}",
                {"sourceSystem": cfx.source[:200]},
            )
            return CfxResult(cfx.unique_id, IngestStatus.REJECTED, err, source=cfx.source)
        response = await validation.answer(
            self.store,
            cfx.raw,
            station.code if station is not None else cfx.source,
            now=self.ingest.clock.now(),
            unique_id=str(uuid.uuid4()),
            responder=self.handle,
        )
        return CfxResult(cfx.unique_id, IngestStatus.ACCEPTED, source=cfx.source, response=response)
