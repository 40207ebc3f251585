"""The served schema: kept in schema.graphql, a compatible superset of the public contract."""

from __future__ import annotations

from graphql import build_schema, find_breaking_changes

from graphql_api.schema import SCHEMA_FILE, printed_schema
from tests.contract import SHARED, contract_file

CONTRACT = SHARED / "api" / "contract.graphql"

#: Parts of the contract not built yet, each with the issue that builds it. Every issue so far
#: has shrunk it; it is empty now, and an entry that is no longer missing fails the test.
ALLOWED_MISSING: set[str] = set()


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text() == printed_schema(), (
        "schema.graphql is stale: run `uv run mes export-schema` and commit it"
    )


def breaking_changes() -> set[str]:
    contract = build_schema(contract_file(CONTRACT).read_text())
    served = build_schema(SCHEMA_FILE.read_text())
    return {change.description for change in find_breaking_changes(contract, served)}


def test_served_schema_is_a_compatible_superset_of_the_contract() -> None:
    unexpected = breaking_changes() - ALLOWED_MISSING
    assert unexpected == set(), "the served schema breaks the contract"


def test_allowed_missing_list_only_names_what_is_really_missing() -> None:
    built_already = ALLOWED_MISSING - breaking_changes()
    assert built_already == set(), "built now: remove these from ALLOWED_MISSING"
