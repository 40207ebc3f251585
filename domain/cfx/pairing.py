"""WorkStarted → result pairing (issue 21), by the key `(Source, TransactionID)` (the nil GUID
is no transaction): the `Pairing` the ingest pipeline is built with (domain/ingest/
transactions.py), called inside the event's transaction, and reading nothing for an event that
is no CFX envelope with a transaction:

- `context` (before the event is read): the key's recorded start, given to the mapping root as
  `cfxStart` {startedAt, units (a WorkCompleted's only), recipe}; the built-in mappings
  (domain/cfx/mappings.py) read their tracks' inAt from `cfxStart.startedAt` and a
  WorkCompleted (or UnitsProcessed) that lists no units reads the start's. One that names no
  units and whose start has not arrived gets its key back instead: the pipeline parks it,
  waiting for that start (domain/ingest/parking.py `park`); with no transaction (none, or the
  nil GUID) nothing can ever give it units: refused (INGEST_PAYLOAD_INVALID).
- `record` (after it is written): a WorkStarted records its start (time, units as named,
  recipe, its INFO event) — it changes no unit; an event that wrote tracks (a result message,
  or a WorkCompleted) records itself as the key's result. Whichever of the two comes second
  fills the result's tracks' inAt that had none (inAt = outAt: written before the start came).
- `settle` (after the commit, in a transaction of its own, for a start, a result written
  without its start, a park): the same fill once more, and the events parked for the start
  re-driven (`Redriver.redrive_start`), also those of the key judged at the same time and
  committed unseen (domain/ingest/transactions.py). The start's own transaction re-drives
  nothing: it holds its key's row, which a result being written at once waits for while
  holding the units a re-drive would lock (a deadlock). A result re-driven from a step's
  parking inside another mover's transaction is not settled again: a start judged at that
  very moment leaves its inAt equal to its outAt.

A WorkCompleted whose key already has tracks by another event is routed as INFO by the
receiver (`already_written`): it is listed on the units that event wrote and changes nothing.
The receiver decides that before the event's transaction (the event type is part of the
input): a WorkCompleted racing its own result message on another connection is judged as if
it came first (its units, moved on by the result, then refuse or park it); a machine sends
the two in order. A result message after a WorkCompleted that wrote the tracks is judged as
any event (its units have moved on)."""

from __future__ import annotations

from typing import Any

from domain.cfx.envelope import RESULT_MESSAGES, UNITS_PROCESSED, WORK_COMPLETED, WORK_STARTED
from domain.cfx.work import NIL_TRANSACTION, CfxWork
from domain.enums import IngestEventType
from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestEnvelope, IngestEvent, PairingKey
from domain.ingest.transactions import Paired
from domain.ports import UnitOfWork

#: the root document the built-in mappings read the start from
START = "cfxStart"
_PAIRED = RESULT_MESSAGES | {WORK_STARTED, WORK_COMPLETED}
#: where each message lists its units
_UNIT_ITEMS = {WORK_COMPLETED: "Units", UNITS_PROCESSED: "UnitProcessData"}


def _body(env: IngestEnvelope) -> tuple[str | None, dict[str, Any]]:
    payload = env.payload
    if not isinstance(payload, dict) or payload.get("MessageName") not in _PAIRED:
        return None, {}
    body = payload.get("MessageBody")
    return str(payload["MessageName"]), body if isinstance(body, dict) else {}


def _transaction(body: dict[str, Any]) -> str | None:
    tx = body.get("TransactionID", body.get("TransactionId"))
    if not isinstance(tx, str) or not tx.strip() or tx.strip() == NIL_TRANSACTION:
        return None
    return tx.strip()[:200]


def pairing_key(env: IngestEnvelope) -> PairingKey | None:
    """The key of a CFX message that pairs (None: none, or the nil GUID)."""
    name, body = _body(env)
    tx = _transaction(body) if name is not None else None
    return PairingKey(env.source_system, tx) if tx is not None else None


def named_units(body: dict[str, Any], items: str = "Units") -> list[dict[str, Any]]:
    """The units a message lists: `{"UnitIdentifier", "PositionNumber"}` each."""
    found = body.get(items)
    out: list[dict[str, Any]] = []
    for u in found if isinstance(found, list) else ():
        if isinstance(u, dict) and u.get("UnitIdentifier") not in (None, ""):
            position = u.get("PositionNumber", u.get("UnitPositionNumber"))
            out.append({"UnitIdentifier": u["UnitIdentifier"], "PositionNumber": position})
    return out


async def already_written(uow: UnitOfWork, env_source: str, raw: dict[str, Any]) -> bool:
    """A WorkCompleted whose key's tracks another event (a result message) wrote: INFO."""
    body = raw.get("MessageBody")
    tx = _transaction(body) if isinstance(body, dict) else None
    if raw.get("MessageName") != WORK_COMPLETED or tx is None:
        return False
    work = await uow.cfx_work.get(env_source, tx)
    return (
        work is not None
        and work.result_event_id is not None
        and work.result_key != raw.get("UniqueID")
    )


async def _written(uow: UnitOfWork, env: IngestEnvelope, work: CfxWork | None) -> IngestEnvelope:
    """A WorkCompleted after its result message: listed on the units that message wrote."""
    event = None
    if work is not None and work.result_event_id is not None:
        event = await uow.ingest_events.get_by_id(work.result_event_id)
    if event is None:
        return env
    units = [{"UnitIdentifier": sn, "PositionNumber": None} for sn in event.sn_list]
    return env.with_context({START: {"startedAt": None, "units": units, "recipe": None}})


def _document(start: CfxWork, name: str) -> dict[str, Any]:
    """The start as the built-in mappings read it: a WorkCompleted's units at `units`, a
    UnitsProcessed's at `processedUnits` (each read with its own message's result words;
    domain/cfx/mappings.py), a result message's own units first."""
    assert start.started_at is not None
    units = list(start.units)
    return {
        "startedAt": start.started_at.isoformat(),
        "units": units if name == WORK_COMPLETED else [],
        "processedUnits": units if name == UNITS_PROCESSED else [],
        "recipe": start.recipe,
    }


async def _fill(uow: UnitOfWork, work: CfxWork) -> bool:
    """Both the start and the result recorded: the result's tracks start at the start."""
    if work.started_at is None or work.result_event_id is None:
        return False
    await uow.cfx_work.fill_in_at(work.result_event_id, work.started_at)
    return True


class CfxPairing:
    """The `Pairing` of CFX messages (domain/ingest/transactions.py; see the module)."""

    async def context(self, uow: UnitOfWork, env: IngestEnvelope) -> IngestEnvelope | PairingKey:
        """The envelope with its key's start for the mapping root, or the key whose start it must
        wait for (parked): it names no units and that start has not arrived (see the module)."""
        name, body = _body(env)
        if name is None or (env.event_type is IngestEventType.INFO and name != WORK_COMPLETED):
            return env
        key = pairing_key(env)
        work = await uow.cfx_work.get(key.source_system, key.transaction_id) if key else None
        if env.event_type is IngestEventType.INFO:
            return await _written(uow, env, work)
        start = work if work is not None and work.started_at is not None else None
        items = _UNIT_ITEMS.get(name)
        if start is None and items is not None and not named_units(body, items):
            if key is not None:
                return key
            tx = body.get("TransactionID", body.get("TransactionId"))
            raise DomainError(
                ErrorCode.INGEST_PAYLOAD_INVALID,
                f"{name.rsplit('.', 1)[-1]} names no units and no transaction to take its start's "
                f"from (TransactionID {str(tx)[:200]!r})",
                {"transactionId": str(tx)[:200], "messageName": name},
            )
        if start is None:
            return env
        return env.with_context({START: _document(start, name)})

    async def record(
        self, uow: UnitOfWork, env: IngestEnvelope, event: IngestEvent
    ) -> Paired | None:
        """What the accepted event records under its key (see the module)."""
        key = pairing_key(env)
        if key is None or event.id is None:
            return None
        name, body = _body(env)
        started = name == WORK_STARTED
        if started:
            recipe = body.get("RecipeName")
            work = await uow.cfx_work.record_start(
                key.source_system,
                key.transaction_id,
                event.occurred_at,
                tuple(named_units(body)),
                recipe[:200] if isinstance(recipe, str) else None,
                event.id,
            )
        elif event.event_type is not IngestEventType.INFO:
            work = await uow.cfx_work.record_result(
                key.source_system, key.transaction_id, event.id, event.dedupe_key
            )
        else:
            return None  # a WorkCompleted after a result message: listed on its units, no more
        whole = await _fill(uow, work)
        # a start settles again after its commit (a waiter parked meanwhile), as does a result
        # that found no start (one committed meanwhile)
        return Paired(key, started=started, unsettled=started or not whole)

    async def settle(self, uow: UnitOfWork, key: PairingKey) -> bool:
        """The key as committed now: its result's inAt filled from its start; whether it has one."""
        work = await uow.cfx_work.get(key.source_system, key.transaction_id)
        if work is None or work.started_at is None:
            return False
        await _fill(uow, work)
        return True
