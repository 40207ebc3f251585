"""The ingest mapping schema that compile uses is the contract's, byte for byte."""

from __future__ import annotations

from pathlib import Path

from tests.contract import SHARED, contract_file

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = SHARED / "api" / "ingest-mapping.schema.json"
COPY = ROOT / "domain" / "mapping" / "ingest-mapping.schema.json"


def test_copy_equals_the_contract() -> None:
    assert COPY.read_text() == contract_file(CONTRACT).read_text(), (
        "copy ../shared/api/ingest-mapping.schema.json"
    )
