"""A faster executor (issue 18): graphql-core's, as Strawberry subclasses it, with each selection
set planned once per request.

Profiled over the deep trace, 90% of the time was graphql-core's general per-field path
(`execute_field` → `build_resolve_info` → Strawberry's plain-field wrapper → `complete_value` →
leaf coercion), run ~20,800 times for plain dataclass attributes. Here a grouped field set is
planned once per request (and parent type): a field with no resolver, no arguments, no field
extension and no directive but @skip/@include is read with `getattr`; a leaf value whose type
already is what serialization would return is returned as is (str for String and ID, bool for
Boolean, an int of 32 bits for Int, a finite float for Float); an enum member through a table
built from the enum type's own serialization; a UTC datetime serialized once per request; list
items and objects completed without the general path. Everything else — resolvers, awaitables,
abstract types, `is_type_of`, a value of any other type, None on a non-null field, a raising
attribute — goes to graphql-core's own code at the same position, so the data, the errors
(messages, paths, locations) and the null propagation are the general path's
(tests/unit/test_fast_execution.py compares them, byte for byte, over hostile data).

It relies on graphql-core's executor internals (`execute_fields`, `complete_value`,
`complete_list_item_value`, …, "not part of the public API") and on how Strawberry resolves a
plain field: the versions it was written against are pinned (`PINNED`), and a schema asked to
use it on other versions refuses to build (MES_FAST_EXECUTION=0 runs the default executor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from enum import Enum
from importlib.metadata import version
from math import isfinite
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
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import collect_iterator_awaitables, to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

__all__ = ["PINNED", "FastExecutionContext", "version_mismatches"]

#: the distributions whose internals this module relies on, at the versions it was checked
#: against (exact pins in pyproject.toml; tests/unit/test_fast_execution.py checks them)
PINNED = {"graphql-core": "3.3.2", "strawberry-graphql": "0.341.2"}


def version_mismatches() -> list[str]:
    """One line per pinned distribution installed at another version (empty: all match)."""
    return [
        f"{name} {version(name)} is installed, the fast executor was written against {pin} "
        f"(PINNED in graphql_api/fast_execution.py)"
        for name, pin in PINNED.items()
        if version(name) != pin
    ]


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


_SPECS: dict[int, tuple[GraphQLOutputType, Spec]] = {}


def spec_of(type_: GraphQLOutputType) -> Spec:
    """The spec of an output type, built once per type object (kept alive with it)."""
    found = _SPECS.get(id(type_))
    if found is None:
        found = _SPECS[id(type_)] = (type_, _build_spec(type_))
    return found[1]


def _build_spec(type_: GraphQLOutputType) -> Spec:
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
    elif isinstance(inner, CustomGraphQLEnumType) and _plain_enum(inner.wrapped_cls):
        spec = Spec(ENUM, nullable)
        spec.py_type = inner.wrapped_cls
        spec.table = _enum_table(inner)
    elif isinstance(inner, GraphQLScalarType):
        spec = Spec(CACHED, nullable)
        spec.scalar = inner
    elif isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        spec = Spec(OBJECT, nullable)
        spec.object_type = inner
    else:  # abstract types, objects with is_type_of, graphql-core's own enums
        spec = Spec(GENERAL, nullable)
    return spec


def _plain_enum(cls: type) -> bool:
    """An enum whose members can be neither awaited nor raised (the general path checks)."""
    return (
        issubclass(cls, Enum)
        and not issubclass(cls, BaseException)
        and not hasattr(cls, "__await__")
    )


def _enum_table(enum_type: CustomGraphQLEnumType) -> dict[Any, str]:
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


def _attribute_of(field_def: GraphQLField, details: FieldDetailsList) -> str | None:
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


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with planned fields (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.schema
        #: @defer/@stream change how fields and lists complete: only the general path then
        self._fast = (
            schema.get_directive("defer") is None and schema.get_directive("stream") is None
        )
        manager = self.middleware_manager
        #: a middleware wraps every resolver, the basic field's too: nothing is read directly
        self._reads = manager is None or not manager.middlewares
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, list[Any]]] = {}
        self._serialized: dict[Spec, dict[datetime, Any]] = {}

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[Any]:
        """The fields of a grouped field set, planned once per request (graphql-core memoizes
        the sets themselves: every object of a list shares its set)."""
        key = (parent_type, id(fields))
        found = self._plans.get(key)
        if found is not None:
            return found[1]
        plan: list[Any] = []
        for name, details in fields.items():
            field_name = details[0].node.name.value
            field_def = self.schema.get_field(parent_type, field_name)
            if field_def is None:
                plan.append((name, details, SKIP, None, None, None))
                continue
            attribute = _attribute_of(field_def, details) if self._reads else None
            if attribute is not None:
                plan.append((name, details, READ, attribute, field_def, spec_of(field_def.type)))
            elif field_name == "__typename" and self._reads:
                plan.append((name, details, TYPENAME, parent_type.name, field_def, None))
            else:
                plan.append((name, details, RESOLVE, None, field_def, None))
        self._plans[key] = (fields, plan)  # the set kept alive: its id stays its own
        return plan

    # -- fields -----------------------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_fields, with planned fields read and completed inline."""
        if position_context is not None or not self._fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for name, details, mode, attribute, field_def, spec in self._plan(
                parent_type, grouped_field_set
            ):
                if mode == READ:
                    try:
                        value = getattr(source_value, attribute)
                    except Exception as raw_error:
                        self.handle_field_error(
                            raw_error, field_def.type, details, Path(path, name, type_name)
                        )
                        results[name] = None
                        continue
                    completed = self._leaf(spec, value)
                    if completed is not SLOW:
                        results[name] = completed
                        continue
                    result = self._complete_read(
                        parent_type, field_def, details, Path(path, name, type_name), value
                    )
                elif mode == TYPENAME:
                    results[name] = attribute
                    continue
                elif mode == SKIP:
                    continue
                else:
                    result = self.execute_field(
                        parent_type, source_value, details, Path(path, name, type_name), None
                    )
                    if result is Undefined:
                        continue  # pragma: no cover (SKIP is planned)
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_read(
        self,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        details: FieldDetailsList,
        path: Path,
        value: Any,
    ) -> Any:
        """graphql-core's execute_field from the point its resolver returned `value`."""
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
        try:
            if self.is_awaitable(value):
                return self.complete_awaitable_value(return_type, details, info, path, value, None)
            completed = self.complete_value(return_type, details, info, path, value, None)
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, details, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    # -- values -----------------------------------------------------------------------------

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's complete_value, with planned types completed without it."""
        if position_context is None and self._fast and result is not None:
            spec = spec_of(return_type)
            kind = spec.kind
            if kind == OBJECT:
                if result is not Undefined and not isinstance(result, Exception):
                    return self._complete_object(spec, field_details_list, path, result)
            elif kind == LIST:
                if type(result) is list or type(result) is tuple:
                    return self._complete_list(spec, field_details_list, info, path, result)
            elif kind != GENERAL:
                completed = self._leaf(spec, result)
                if completed is not SLOW:
                    return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _leaf(self, spec: Spec, value: Any) -> Any:
        """A leaf value completed as graphql-core would, or SLOW."""
        if value is None:
            return None if spec.nullable else SLOW
        kind = spec.kind
        value_type = type(value)
        if kind == EXACT:
            return value if value_type is spec.py_type else SLOW
        if kind == INT:
            ok = value_type is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
            return value if ok else SLOW
        if kind == FLOAT:
            return value if value_type is float and isfinite(value) else SLOW
        if kind == ENUM:
            return spec.table.get(value, SLOW) if value_type is spec.py_type else SLOW
        if kind == CACHED and value_type is datetime and value.tzinfo is UTC:
            return self._serialize_once(spec, value)
        return SLOW

    def _serialize_once(self, spec: Spec, value: datetime) -> Any:
        """A UTC datetime through its scalar, once per request: equal UTC datetimes are the
        same instant with the same fields, so a scalar (a pure function) serializes them the
        same."""
        cache = self._serialized.get(spec)
        if cache is None:
            cache = self._serialized[spec] = {}
        found = cache.get(value)
        if found is not None:
            return found
        try:
            found = spec.scalar.coerce_output_value(value)  # type: ignore[union-attr]
        except Exception:
            return SLOW  # the general path raises it, in its place
        if found is None or found is Undefined:
            return SLOW
        cache[value] = found
        return found

    def _complete_object(
        self, spec: Spec, details: FieldDetailsList, path: Path, result: Any
    ) -> Any:
        """graphql-core's complete_object_value for a type with no is_type_of."""
        object_type = spec.object_type
        assert object_type is not None
        fields, new_defer_usages, _ = self.collect_subfields(object_type, details)
        return self.execute_collected_subfields(
            object_type, result, path, fields, new_defer_usages, None
        )

    def _complete_list(
        self,
        spec: Spec,
        details: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Sequence[Any],
    ) -> Any:
        """graphql-core's complete_iterable_value for a list or tuple (no @stream), with leaf
        items completed inline."""
        item_spec = spec.item
        item_type = spec.item_type
        assert item_spec is not None and item_type is not None
        leaves = EXACT <= item_spec.kind <= CACHED
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        append = completed.append
        awaitable_indices: list[int] = []
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                if leaves:
                    done = self._leaf(item_spec, item)
                    if done is not SLOW:
                        append(done)
                        index += 1
                        continue
                item_path = Path(path, index, None)
                if is_awaitable(item):
                    append(
                        self.complete_awaitable_list_item_value(
                            item, item_type, details, info, item_path, None
                        )
                    )
                    awaitable_indices.append(index)
                elif self.complete_list_item_value(
                    item, completed, item_type, details, info, item_path, None
                ):
                    awaitable_indices.append(index)
                index += 1
        except Exception:
            pending = [completed[i] for i in awaitable_indices]
            pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if pending:
                self.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed

        async def get_completed() -> list[Any]:
            if len(awaitable_indices) == 1:
                i = awaitable_indices[0]
                completed[i] = await completed[i]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for i, value in zip(awaitable_indices, awaited, strict=True):
                    completed[i] = value
            return completed

        return get_completed()
