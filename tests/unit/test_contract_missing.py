"""Without ../shared beside the repository, the contract comparison skips with its reason;
under CI=true it fails (the contract must be there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import contract_file


def test_a_missing_contract_skips_outside_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    missing = tmp_path / "shared" / "api" / "contract.graphql"
    with pytest.raises(pytest.skip.Exception, match=r"contract is missing at .*outside CI"):
        contract_file(missing)


def test_a_missing_contract_fails_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    missing = tmp_path / "shared" / "api" / "contract.graphql"
    with pytest.raises(pytest.fail.Exception, match=r"contract is missing at .*CI=true"):
        contract_file(missing)


def test_a_present_contract_is_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    there = tmp_path / "contract.graphql"
    there.write_text("type Query { a: Int }")
    assert contract_file(there) == there
