"""What the fast executor (graphql_api/fast_execution.py) plans: how each output type is
completed (a spec, built once per type object) and which fields it may read with `getattr`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Undefined
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

#: a value the fast path does not complete: graphql-core's general path does
SLOW: Any = object()

# what a planned type is completed as
GENERAL = 0  # graphql-core's complete_value
EXACT = 1  # a value of exactly `py_type` is its own serialization (str for String/ID, bool)
INT = 2  # an int of 32 bits
FLOAT = 3  # a finite float
ENUM = 4  # a member of the enum class, through `table`
CACHED = 5  # a UTC datetime, serialized once per request by the scalar
OBJECT = 6  # an object type with no is_type_of: its planned fields
LIST = 7  # a list or tuple: each item as `item`

# how a planned field is executed
SKIP = 0  # not a field of the type (graphql-core skips it too)
RESOLVE = 1  # graphql-core's execute_field
READ = 2  # getattr, then completed as its type's spec
TYPENAME = 3  # the parent type's name


class Spec:
    """How values of one output type (wrappers included) are completed."""

    __slots__ = (
        "item",
        "item_type",
        "kind",
        "nullable",
        "object_type",
        "py_type",
        "scalar",
        "table",
    )

    def __init__(self, kind: int, nullable: bool) -> None:
        self.kind = kind
        self.nullable = nullable
        self.py_type: type | None = None
        self.table: dict[Any, str] = {}
        self.scalar: GraphQLScalarType | None = None
        self.object_type: GraphQLObjectType | None = None
        self.item: Spec | None = None
        self.item_type: GraphQLOutputType | None = None


SPECS: dict[int, tuple[GraphQLOutputType, Spec]] = {}


def spec_of(type_: GraphQLOutputType) -> Spec:
    """The spec of an output type, built once per type object (kept alive with it)."""
    found = SPECS.get(id(type_))
    if found is None:
        found = SPECS[id(type_)] = (type_, build_spec(type_))
    return found[1]


def build_spec(type_: GraphQLOutputType) -> Spec:
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_ if nullable else type_.of_type  # type: ignore[union-attr]
    if isinstance(inner, GraphQLList):
        spec = Spec(LIST, nullable)
        spec.item_type = inner.of_type
        spec.item = spec_of(inner.of_type)
    elif inner is GraphQLString or inner is GraphQLID or inner is GraphQLBoolean:
        spec = Spec(EXACT, nullable)
        spec.py_type = bool if inner is GraphQLBoolean else str
    elif inner is GraphQLInt or inner is GraphQLFloat:
        spec = Spec(INT if inner is GraphQLInt else FLOAT, nullable)
    elif isinstance(inner, CustomGraphQLEnumType) and plain_enum(inner.wrapped_cls):
        spec = Spec(ENUM, nullable)
        spec.py_type = inner.wrapped_cls
        spec.table = enum_table(inner)
    elif isinstance(inner, GraphQLScalarType):
        spec = Spec(CACHED, nullable)
        spec.scalar = inner
    elif isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        spec = Spec(OBJECT, nullable)
        spec.object_type = inner
    else:  # abstract types, objects with is_type_of, graphql-core's own enums
        spec = Spec(GENERAL, nullable)
    return spec


def plain_enum(cls: type) -> bool:
    """An enum whose members can be neither awaited nor raised (the general path checks)."""
    return (
        issubclass(cls, Enum)
        and not issubclass(cls, BaseException)
        and not hasattr(cls, "__await__")
    )


def enum_table(enum_type: CustomGraphQLEnumType) -> dict[Any, str]:
    """Each member's serialization, by the enum type's own coercion (a member it refuses is
    left out: the general path raises its error)."""
    table: dict[Any, str] = {}
    member: Any
    for member in enum_type.wrapped_cls:
        try:
            name = enum_type.coerce_output_value(member)
        except Exception:
            continue
        if isinstance(name, str):
            table[member] = name
    return table


def attribute_of(field_def: GraphQLField, details: FieldDetailsList) -> str | None:
    """The attribute a field reads when Strawberry would only `getattr` it: its resolver is the
    basic-field wrapper (no resolver, no extension, no exception handler), with no arguments
    and no directive but @skip/@include on any of its nodes."""
    resolve = field_def.resolve
    if field_def.args or getattr(resolve, "__name__", None) != "_get_basic_result":
        return None
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(field, StrawberryField)
        or not field.is_basic_field
        or field.default_resolver is not getattr
        or type(field).get_result is not StrawberryField.get_result
    ):
        return None
    for detail in details:
        node = detail.node
        if node.arguments or any(
            d.name.value not in ("skip", "include") for d in node.directives or ()
        ):
            return None
    return field.python_name


def serialize_once(spec: Spec, cache: dict[datetime, Any], value: datetime) -> Any:
    """A UTC datetime through its scalar, kept for the rest of the request: equal UTC
    datetimes are the same instant with the same fields, so a scalar (a pure function)
    serializes them the same. SLOW when the scalar refuses it (the general path raises it,
    in its place)."""
    try:
        found = spec.scalar.coerce_output_value(value)  # type: ignore[union-attr]
    except Exception:
        return SLOW
    if found is None or found is Undefined:
        return SLOW
    cache[value] = found
    return found
