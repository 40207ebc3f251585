"""The ingest mapping schema that compile uses is a superset of the contract's (issue 16 item 13).

The project's copy may add mapping keywords (errorValues, startedAtPath, ...), but every
property, $def and enum of ../shared/api/ingest-mapping.schema.json is present unchanged, and
every mapping valid under the contract's schema stays valid under the copy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests import builders, exec_builders, ingest_builders
from tests.contract import SHARED, contract_file

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = SHARED / "api" / "ingest-mapping.schema.json"
COPY = ROOT / "domain" / "mapping" / "ingest-mapping.schema.json"

#: keywords of a schema object that say which members it has: the copy may add members
MEMBER_KEYWORDS = ("properties", "$defs")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def superset_problems(shared: Any, copy: Any, where: str = "#") -> list[str]:
    """Where the copy drops or changes anything of the shared schema. Under `properties` and
    `$defs` the copy may add members; a member may be widened to `{"anyOf": [shared, ...]}`
    whose first alternative keeps the shared member (issue 19: `measurements` may be a list);
    every other keyword (type, enum, required, pattern, additionalProperties, $ref, ...) must
    be equal."""
    if not isinstance(shared, dict) or not isinstance(copy, dict):
        return [] if shared == copy else [f"{where}: changed"]
    if "anyOf" not in shared and isinstance(copy.get("anyOf"), list) and copy["anyOf"]:
        widened = {k: v for k, v in copy.items() if k not in ("anyOf", "description")}
        if not widened:
            return superset_problems(shared, copy["anyOf"][0], f"{where}/anyOf/0")
    problems: list[str] = []
    for key, value in shared.items():
        at = f"{where}/{key}"
        if key not in copy:
            problems.append(f"{at}: missing")
        elif key in MEMBER_KEYWORDS and isinstance(value, dict):
            for name, sub in value.items():
                if name not in copy[key]:
                    problems.append(f"{at}/{name}: missing")
                else:
                    problems += superset_problems(sub, copy[key][name], f"{at}/{name}")
        elif isinstance(value, dict):
            problems += superset_problems(value, copy[key], at)
        elif value != copy[key]:
            problems.append(f"{at}: changed")
    return problems


def test_copy_keeps_every_property_def_and_enum_of_the_contract() -> None:
    shared = _load(contract_file(CONTRACT))
    assert superset_problems(shared, _load(COPY)) == [], (
        "the copy must keep ../shared/api/ingest-mapping.schema.json's members unchanged"
    )


def test_the_check_sees_a_dropped_or_changed_member() -> None:
    shared = _load(contract_file(CONTRACT))
    dropped = json.loads(json.dumps(shared))
    del dropped["properties"]["lineCodePath"]
    changed_enum = json.loads(json.dumps(shared))
    changed_enum["properties"]["batchPolicy"]["enum"] = ["PARTIAL"]
    changed_def = json.loads(json.dumps(shared))
    changed_def["$defs"]["vocabulary"]["maxItems"] = 5
    added = json.loads(json.dumps(shared))
    added["properties"]["result"]["properties"]["errorValues"] = {"$ref": "#/$defs/vocabulary"}
    assert superset_problems(shared, dropped) == ["#/properties/lineCodePath: missing"]
    assert superset_problems(shared, changed_enum) == ["#/properties/batchPolicy/enum: changed"]
    assert superset_problems(shared, changed_def) == ["#/$defs/vocabulary/maxItems: changed"]
    assert superset_problems(shared, added) == []
    widened = json.loads(json.dumps(shared))
    widened["properties"]["measurements"] = {
        "anyOf": [{"$ref": "#/$defs/measurements"}, {"type": "array"}]
    }
    narrowed = json.loads(json.dumps(shared))
    narrowed["properties"]["measurements"] = {"anyOf": [{"$ref": "#/$defs/unitMeasurements"}]}
    assert superset_problems(shared, widened) == []
    assert superset_problems(shared, narrowed) == [
        "#/properties/measurements/anyOf/0/$ref: changed"
    ]


# ---------------------------------------------------------------- valid mappings stay valid


#: the roots an absolute path starts from (DOMAIN.md §3)
ROOTS = ("payload", "sourceSystem", "dedupeKey", "eventType", "occurredAt", "runNo")


def _paths(absolute: bool) -> Any:
    """Dot paths by the contract's grammar (segments with [*] or [n]); the test checks that
    the contract's schema accepts each, so the grammar cannot drift from its pattern."""
    segment = st.tuples(
        st.text("abcxyzSN_-09 é", min_size=1, max_size=8),
        st.lists(st.sampled_from(["[*]", "[0]", "[-1]", "[12]"]), max_size=2),
    ).map(lambda t: t[0] + "".join(t[1]))
    segments = st.lists(segment, min_size=0 if absolute else 1, max_size=4)
    if not absolute:
        return segments.map(".".join)
    return st.tuples(st.sampled_from(ROOTS), segments).map(lambda t: ".".join((t[0], *t[1])))


def instances(schema: dict[str, Any], node: dict[str, Any], depth: int = 0) -> Any:
    """A hypothesis strategy for JSON values valid under `node` (the subset of JSON Schema the
    contract's mapping schema uses: $ref, enum, object, string with pattern, array)."""
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return instances(schema, schema["$defs"][name], depth)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "string":
        if "pattern" in node:
            text = _paths(absolute=node["pattern"].startswith("^(payload|"))
        else:
            text = st.text(min_size=node.get("minLength", 0), max_size=20)
        lo, hi = node.get("minLength", 0), node.get("maxLength", 10_000)
        return text.filter(lambda s: lo <= len(s) <= hi)
    if kind == "array":
        return st.lists(
            instances(schema, node["items"], depth + 1),
            max_size=min(node.get("maxItems", 5), 5),
        )
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        required = set(node.get("required", ()))
        fixed = {k: instances(schema, v, depth + 1) for k, v in props.items() if k in required}
        optional = {
            k: instances(schema, v, depth + 1) for k, v in props.items() if k not in required
        }
        strategy = st.fixed_dictionaries(fixed, optional=optional)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            more = st.dictionaries(
                st.text(min_size=1, max_size=10), instances(schema, extra, depth + 1), max_size=3
            )
            strategy = st.tuples(more, strategy).map(lambda kv: {**kv[0], **kv[1]})
        return strategy
    raise AssertionError(f"the generator does not know the schema node {node!r}")


@cache
def _validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(_load(path))


def _contract_mappings() -> Any:
    shared = _load(contract_file(CONTRACT))
    return instances(shared, shared)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mapping=st.deferred(_contract_mappings))
def test_mappings_valid_under_the_contract_stay_valid(mapping: dict[str, Any]) -> None:
    # the generator makes contract mappings; each must stay valid under the copy
    assert list(_validator(contract_file(CONTRACT)).iter_errors(mapping)) == []
    assert [e.message for e in _validator(COPY).iter_errors(mapping)] == []


@pytest.mark.parametrize(
    "mapping",
    [
        builders.AUTO_MAPPING,
        exec_builders.AOI_MAPPING,
        ingest_builders.AOI_MAPPING,
        ingest_builders.ICT_MAPPING,
    ],
)
def test_the_project_fixtures_are_valid_under_both(mapping: dict[str, Any]) -> None:
    for schema in (_load(contract_file(CONTRACT)), _load(COPY)):
        assert list(Draft202012Validator(schema).iter_errors(mapping)) == []
