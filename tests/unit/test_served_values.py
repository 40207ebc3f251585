"""The GraphQL DataValue is served straight from the domain's values (no copy per value,
graphql_api/types/tracks.py `served_values`): each of its fields must read a domain attribute
of the same name and a value the field's type serializes."""

from __future__ import annotations

import dataclasses
import typing

import strawberry

from domain import tracks as dt
from graphql_api.types.tracks import DataValue


def test_every_graphql_field_reads_a_domain_attribute_of_its_name() -> None:
    definition = DataValue.__strawberry_definition__  # type: ignore[attr-defined]
    domain = {f.name: f for f in dataclasses.fields(dt.DataValue)}
    hints = typing.get_type_hints(dt.DataValue)
    for field in definition.fields:
        assert field.base_resolver is None, f"{field.python_name} has a resolver"
        assert field.python_name in domain, f"the domain DataValue has no {field.python_name}"
        served = typing.get_type_hints(DataValue)[field.python_name]
        if served is strawberry.ID:
            # an int id serializes as the ID's string, as str(id) did
            assert hints[field.python_name] == int | None
        elif field.python_name != "value_json":  # the JSON scalar is Any in both
            assert hints[field.python_name] == served, field.python_name
