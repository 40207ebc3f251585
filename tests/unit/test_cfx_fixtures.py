"""The IPC-CFX SDK's own example messages, copied into tests/fixtures/cfx (SOURCES.md there says
where each comes from): the copies must be the shared reference's, byte for byte, so the tests
that read them read what real machines send. Runs where ../shared sits beside the repository
(under CI=true it must)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract import SHARED, contract_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cfx"
REFERENCE = SHARED / "reference" / "cfx-examples"


def test_the_copies_are_the_shared_examples() -> None:
    reference = contract_file(REFERENCE)
    shared = sorted(p.name for p in reference.iterdir() if p.is_file())
    copied = sorted(p.name for p in FIXTURES.iterdir() if p.is_file())
    assert copied == shared
    for name in shared:
        assert (FIXTURES / name).read_bytes() == (reference / name).read_bytes(), name


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_each_example_is_a_cfx_envelope(path: Path) -> None:
    envelope = json.loads(path.read_text())
    assert envelope["MessageName"].startswith("CFX.")
    assert isinstance(envelope["MessageBody"], dict)
    assert envelope["MessageBody"]["$type"].startswith(envelope["MessageName"])
