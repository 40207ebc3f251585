"""The IPC-CFX SDK's published example messages (tests/fixtures/cfx), read as a machine sends
them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CFX = Path(__file__).resolve().parent / "fixtures" / "cfx"


def published(name: str) -> dict[str, Any]:
    """The whole published envelope of CFX.Production.TestAndInspection.`name`."""
    found: dict[str, Any] = json.loads(
        (CFX / f"CFX.Production.TestAndInspection.{name}.json").read_text()
    )
    return found


def body(name: str) -> dict[str, Any]:
    """A published example's MessageBody (what the tests send as the event's payload)."""
    return dict(published(name)["MessageBody"])


def cfx_event(name: str) -> dict[str, Any]:
    """The event root of a published example: the machine's MessageBody as payload, its CFX
    endpoint as the source system."""
    envelope = published(name)
    return {"sourceSystem": envelope["Source"], "payload": envelope["MessageBody"]}


#: a CFX result word → the track's result
RESULTS = {"Passed": "PASS", "Failed": "FAIL", "Succeeded": "PASS"}


def numbers(item: dict[str, Any]) -> list[Any]:
    """Every number of a measurement item but its Sequence (an index, not a measurement)."""
    return [
        v
        for k, v in item.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k != "Sequence"
    ]


def kept(value: dict[str, Any]) -> Any:
    """A stored value as the machine sent it (before a conversion into its spec's unit)."""
    for key in ("originalValue", "valueNumber", "valueText"):
        if value[key] is not None:
            return value[key]
    return None


def as_sent(
    event: dict[str, Any], boards: list[tuple[str, str, list[Any]]], step_no: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per board (SN, the machine's result word, the values it sent) a track at the step with
    that result and every value it sent; the values by board and name."""
    assert event["stepNo"] == step_no
    tracks = {t["unit"]["sn"]: t for t in event["tracks"]}
    assert sorted(tracks) == sorted(sn for sn, _, _ in boards)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for sn, word, sent in boards:
        track = tracks[sn]
        assert (track["stepNo"], track["result"]) == (step_no, RESULTS[word]), sn
        values = track["dataValues"]
        assert sorted(map(str, (kept(v) for v in values))) == sorted(map(str, sent)), sn
        out[sn] = {v["specName"]: v for v in values}
    return out
