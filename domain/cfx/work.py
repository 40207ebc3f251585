"""A CFX work transaction (issue 21): what a machine's WorkStarted recorded under its pairing
key `(Source, TransactionID)`, and which event wrote the tracks of that key (a result message
or the WorkCompleted itself). The nil GUID is no transaction: nothing is paired under it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: IPC-CFX's "no transaction"
NIL_TRANSACTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class CfxWork:
    source_system: str
    transaction_id: str
    #: the WorkStarted's TimeStamp (None: no start has arrived yet)
    started_at: datetime | None = None
    #: the units as the start named them: `{"UnitIdentifier", "PositionNumber"}` each, read
    #: by the step's mapping as ingest reads barcodes (unit SN, or panel board at position)
    units: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    recipe: str | None = None
    start_event_id: int | None = None
    #: the event that wrote the key's tracks, and its dedupe key (the envelope's UniqueID)
    result_event_id: int | None = None
    result_key: str | None = None
    id: int | None = None
