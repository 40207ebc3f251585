"""The shared contract (../shared beside the repository): needed in CI, optional elsewhere.

A clone without ../shared runs its whole suite: a test that compares against the contract
skips, naming what is missing. Under CI=true it fails instead (the comparison must run there).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: the shared contract's folder, beside the repository
SHARED = Path(__file__).resolve().parents[2] / "shared"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def contract_file(path: Path) -> Path:
    """The contract file at `path`; missing, the test skips (fails under CI=true)."""
    if path.exists():
        return path
    why = f"the contract is missing at {path} (../shared must sit beside the repository)"
    if in_ci():
        pytest.fail(f"{why}; under CI=true the contract comparison must run")
    pytest.skip(f"{why}; outside CI the comparison is skipped")
