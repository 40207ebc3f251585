"""A CFX envelope (`MessageName`, `Version`, `TimeStamp`, `UniqueID`, `Source`, `Target`,
`RequestID`, `MessageBody`) read into the ingest envelope: sourceSystem its Source, dedupeKey
its UniqueID, occurredAt its TimeStamp, the WHOLE envelope as payload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import IngestEventType, StationType
from domain.errors import DomainError, ErrorCode
from domain.ingest.records import IngestEnvelope
from domain.master import Station

PREFIX = "CFX."
UNITS_TESTED = "CFX.Production.TestAndInspection.UnitsTested"
UNITS_INSPECTED = "CFX.Production.TestAndInspection.UnitsInspected"
UNITS_PROCESSED = "CFX.Production.Processing.UnitsProcessed"
WORK_STARTED = "CFX.Production.WorkStarted"
WORK_COMPLETED = "CFX.Production.WorkCompleted"
#: the messages that report a result: the event type of the station that sent them
RESULT_MESSAGES = frozenset({UNITS_TESTED, UNITS_INSPECTED, UNITS_PROCESSED})
#: paired by TransactionID (domain/cfx/pairing.py): the start is INFO (it changes no unit)
PAIRED_MESSAGES = frozenset({WORK_STARTED, WORK_COMPLETED})
#: the station types whose machines send result events
_MACHINE_TYPES = {
    StationType.AUTO: IngestEventType.AUTO,
    StationType.BATCH: IngestEventType.BATCH,
    StationType.TEST: IngestEventType.TEST,
}
#: .NET writes up to seven fractional digits (ticks); datetime holds six
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _refuse(message: str, **details: Any) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, message, details)


def _text(envelope: dict[str, Any], field: str) -> str | None:
    value = envelope.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _refuse(f"CFX envelope {field} must be a string", field=field)
    return value


def parse_time(value: Any) -> tuple[datetime | None, str | None]:
    """A CFX TimeStamp as .NET writes it (`2026-04-14T08:05:52.7710038-04:00`): the time,
    truncated to microseconds, or the reason it is none (the ingest's refusal words)."""
    if value is None:
        return None, None  # refused as any missing occurredAt
    if not isinstance(value, str):
        return None, f"TimeStamp {str(value)[:100]!r} is not an ISO-8601 date-time"
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip())), None
    except ValueError:
        return None, f"TimeStamp {value[:100]!r} is not an ISO-8601 date-time"


@dataclass(frozen=True, slots=True)
class CfxEnvelope:
    """What identifies a CFX message before its station is known."""

    message_name: str | None
    unique_id: str
    source: str
    raw: dict[str, Any]

    @classmethod
    def parse(cls, raw: Any) -> CfxEnvelope:
        """VALIDATION_FAILED for what is not an envelope that can be stored: not an object, or
        without UniqueID or Source (a rejection is kept under its source and key)."""
        if not isinstance(raw, dict):
            raise _refuse("a CFX envelope must be a JSON object", field="envelope")
        unique_id, source = _text(raw, "UniqueID"), _text(raw, "Source")
        for field, value in (("UniqueID", unique_id), ("Source", source)):
            if value is None:
                raise _refuse(f"CFX envelope has no {field}", field=field)
        assert unique_id is not None and source is not None
        name = raw.get("MessageName")
        return cls(name if isinstance(name, str) and name.strip() else None, unique_id, source, raw)

    def ingest(self, event_type: IngestEventType, payload_bytes: int = 0) -> IngestEnvelope:
        occurred_at, error = parse_time(self.raw.get("TimeStamp"))
        return IngestEnvelope(
            source_system=self.source,
            dedupe_key=self.unique_id,
            event_type=event_type,
            occurred_at=occurred_at,
            payload=self.raw,
            payload_bytes=payload_bytes,
            occurred_at_error=error,
        )

    def check(self, station: Station | None) -> None:
        """VALIDATION_FAILED without a MessageName, STATION_NOT_FOUND when the Source is no
        station's handle nor code."""
        if self.message_name is None:
            raise _refuse("CFX envelope has no MessageName", field="MessageName")
        if station is None:
            raise DomainError(
                ErrorCode.STATION_NOT_FOUND,
                f"no station has the CFX handle {self.source[:200]!r}: set its cfxHandle",
                {"cfxHandle": self.source[:200]},
            )


def event_type_of(
    message_name: str | None, station: Station | None, written: bool = False
) -> IngestEventType:
    """The result messages take their station's type, and so does a WorkCompleted unless a
    result message already wrote its transaction's tracks (`written`: it is INFO then);
    every other message (WorkStarted too) is INFO."""
    paired = message_name == WORK_COMPLETED and not written
    if (message_name in RESULT_MESSAGES or paired) and station is not None:
        return _MACHINE_TYPES.get(station.station_type, IngestEventType.INFO)
    return IngestEventType.INFO
