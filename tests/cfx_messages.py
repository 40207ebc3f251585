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
