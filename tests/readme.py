"""The README's examples as tests use them outside tests/api/test_readme_examples.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def ingest_example(dedupe_key: str) -> dict[str, Any]:
    """The request of the README's curl example of `ingestEvent` ("Sending machine events": the
    AOI-01 event of board BRD200-000005, its `-d '…'` body), under another dedupeKey: sent
    once it is ACCEPTED or, when the board has left AOI, REJECTED; either is streamed."""
    for block in re.findall(r"```bash[^\n]*\n(.*?)```", README.read_text(), re.S):
        if "ingestEvent(input:" in block and (body := re.search(r"-d '(.*?)'", block, re.S)):
            request: dict[str, Any] = json.loads(body.group(1))
            request["variables"]["i"]["dedupeKey"] = dedupe_key
            return request
    raise AssertionError("the README has no curl example of ingestEvent")


def cfx_subscription() -> str:
    """The README's CFX section's subscription ("Watch it arrive"): the query a user pastes
    into GraphiQL to see a machine's envelopes arrive."""
    section = README.read_text().split("## CFX (IPC-2591)", 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"```graphql[^\n]*\n(.*?)```", section, re.S):
        if block.lstrip().startswith("subscription"):
            return str(block)
    raise AssertionError("the README's CFX section has no subscription")


def cfx_token_command() -> list[str]:
    """The README's CFX section's `mes token create …` for a placer, as CLI arguments."""
    section = README.read_text().split("## CFX (IPC-2591)", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"uv run mes (token create [^|)\n]*)", section)
    assert found is not None, "the README's CFX section makes no token"
    return found.group(1).split()
