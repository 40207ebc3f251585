"""The versions of graphql-core and Strawberry whose internals the fast executor was checked
against: building the schema with it on another version fails loudly (graphql_api/schema.py)."""

from __future__ import annotations

from importlib.metadata import version

#: the distributions whose internals the fast executor relies on, at the versions it was
#: checked against (exact pins in pyproject.toml; tests/unit/test_fast_execution.py checks them)
PINNED = {"graphql-core": "3.3.2", "strawberry-graphql": "0.341.2"}


def version_mismatches() -> list[str]:
    """One line per pinned distribution installed at another version (empty: all match)."""
    return [
        f"{name} {version(name)} is installed, the fast executor was written against {pin} "
        f"(PINNED in graphql_api/execution_pins.py)"
        for name, pin in PINNED.items()
        if version(name) != pin
    ]
