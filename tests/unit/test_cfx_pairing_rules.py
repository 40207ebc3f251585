"""The pairing rules that need no database (issue 21): which messages pair under which key,
and which type a WorkCompleted takes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.cfx.envelope import WORK_COMPLETED, WORK_STARTED, event_type_of
from domain.cfx.pairing import named_units, pairing_key
from domain.cfx.work import NIL_TRANSACTION
from domain.enums import IngestEventType, StationType
from domain.ingest.records import IngestEnvelope, PairingKey
from domain.master import Station

AUTO = Station("P7", "Placer", StationType.AUTO, "L", "G", cfx_handle="Vendor6.Placer.Machine07")


def env(name: str, body: dict[str, Any]) -> IngestEnvelope:
    payload = {"MessageName": name, "MessageBody": body}
    return IngestEnvelope(
        "Vendor6.Placer.Machine07", "u1", IngestEventType.AUTO, datetime.now(UTC), payload
    )


def test_the_key_is_the_source_and_the_transaction() -> None:
    assert pairing_key(env(WORK_STARTED, {"TransactionID": " tx-1 "})) == PairingKey(
        "Vendor6.Placer.Machine07", "tx-1"
    )
    # UnitsTested spells it TransactionId
    tested = env("CFX.Production.TestAndInspection.UnitsTested", {"TransactionId": "tx-2"})
    assert pairing_key(tested) == PairingKey("Vendor6.Placer.Machine07", "tx-2")
    for nothing in ({"TransactionID": NIL_TRANSACTION}, {"TransactionID": ""}, {}):
        assert pairing_key(env(WORK_COMPLETED, nothing)) is None
    # a message that does not pair, and a payload that is no envelope
    assert pairing_key(env("CFX.Production.UnitsArrived", {"TransactionID": "tx-3"})) is None
    plain = IngestEnvelope("S", "k", IngestEventType.AUTO, None, {"TransactionID": "tx-4"})
    assert pairing_key(plain) is None


def test_a_work_completed_takes_its_stations_type_unless_its_tracks_are_written() -> None:
    assert event_type_of(WORK_COMPLETED, AUTO) is IngestEventType.AUTO
    assert event_type_of(WORK_COMPLETED, AUTO, written=True) is IngestEventType.INFO
    assert event_type_of(WORK_STARTED, AUTO) is IngestEventType.INFO
    assert event_type_of(WORK_COMPLETED, None) is IngestEventType.INFO


def test_the_units_a_message_names() -> None:
    body = {
        "Units": [{"UnitIdentifier": "P", "PositionNumber": 2, "X": 1}, {"UnitIdentifier": ""}, 7]
    }
    assert named_units(body) == [{"UnitIdentifier": "P", "PositionNumber": 2}]
    processed = {"UnitProcessData": [{"UnitIdentifier": "Q", "UnitPositionNumber": 1}]}
    assert named_units(processed, "UnitProcessData") == [
        {"UnitIdentifier": "Q", "PositionNumber": 1}
    ]
