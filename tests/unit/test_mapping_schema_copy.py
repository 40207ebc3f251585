"""The ingest mapping schema that compile uses is the contract's, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "api" / "ingest-mapping.schema.json"
COPY = ROOT / "domain" / "mapping" / "ingest-mapping.schema.json"


def test_copy_equals_the_contract() -> None:
    if not CONTRACT.exists():
        pytest.fail(f"the contract is missing at {CONTRACT} (shared/ must sit beside the repo)")
    assert COPY.read_text() == CONTRACT.read_text(), "copy ../shared/api/ingest-mapping.schema.json"
