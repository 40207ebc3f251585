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
items and objects completed without the general path (graphql_api/execution_specs.py says
what is planned how). Everything else — resolvers, awaitables,
abstract types, `is_type_of`, a value of any other type, None on a non-null field, a raising
attribute — goes to graphql-core's own code at the same position, so the data, the errors
(messages, paths, locations) and the null propagation are the general path's
(tests/unit/test_fast_execution.py compares them, byte for byte, over hostile data).
Subscriptions run it too: Strawberry hands the class to graphql-core's `subscribe`, which runs
each event on a copy of the subscription's executor (`build_per_event_executor`).

It relies on graphql-core's executor internals (`execute_fields`, `complete_value`,
`complete_list_item_value`, …, "not part of the public API") and on how Strawberry resolves a
plain field: the versions it was written against are pinned (`PINNED`), and a schema asked to
use it on other versions refuses to build (MES_FAST_EXECUTION=0 runs the default executor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from math import isfinite
from typing import Any, cast

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import collect_iterator_awaitables, to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import GRAPHQL_MAX_INT as MAX_INT
from graphql.type.scalars import GRAPHQL_MIN_INT as MIN_INT
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.execution_specs import (
    CACHED,
    ENUM,
    EXACT,
    FLOAT,
    GENERAL,
    INT,
    LIST,
    OBJECT,
    READ,
    RESOLVE,
    SKIP,
    SLOW,
    TYPENAME,
    Spec,
    attribute_of,
    serialize_once,
    spec_of,
)

__all__ = ["FastExecutionContext"]


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
        self._serialized: dict[GraphQLScalarType | None, dict[datetime, Any]] = {}

    def build_per_event_executor(self, payload: Any) -> FastExecutionContext:
        """A subscription event's executor: graphql-core copies the subscription's (shallow),
        which would share its plans and, through them, its serializations — every datetime a
        long subscription ever sent, kept until it ends. Each event plans afresh instead."""
        executor = cast(FastExecutionContext, super().build_per_event_executor(payload))
        executor._plans, executor._serialized = {}, {}
        return executor

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[Any]:
        """The fields of a grouped field set, planned once per request (graphql-core memoizes
        the sets themselves: every object of a list shares its set). A read field's entry
        carries its spec unpacked, and its enum table or this request's serializations."""
        key = (parent_type, id(fields))
        found = self._plans.get(key)
        if found is not None:
            return found[1]
        plan: list[Any] = []
        for name, details in fields.items():
            field_name = details[0].node.name.value
            field_def = self.schema.get_field(parent_type, field_name)
            if field_def is None:
                plan.append((name, details, SKIP, None, None, None, GENERAL, False, None, None))
                continue
            attribute = attribute_of(field_def, details) if self._reads else None
            if attribute is not None:
                spec = spec_of(field_def.type)
                kind, nullable = spec.kind, spec.nullable
                extra = spec.table if kind == ENUM else self._cache_of(spec)
                entry = (name, details, READ, attribute, field_def, spec, kind, nullable)
                plan.append((*entry, spec.py_type, extra))
            elif field_name == "__typename" and self._reads:
                typename = parent_type.name
                plan.append((name, details, TYPENAME, typename, field_def, None, 0, 0, None, None))
            else:
                plan.append((name, details, RESOLVE, None, field_def, None, 0, 0, None, None))
        self._plans[key] = (fields, plan)  # the set kept alive: its id stays its own
        return plan

    def _cache_of(self, spec: Spec) -> dict[datetime, Any]:
        """This request's serializations by the spec's scalar (empty for other kinds)."""
        scalar = spec.scalar
        cache = self._serialized.get(scalar)
        if cache is None:
            cache = self._serialized[scalar] = {}
        return cache

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
        plan = self._plan(parent_type, grouped_field_set)
        return self._execute_plan(plan, parent_type, source_value, path)

    def _execute_plan(
        self, plan: list[Any], parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for name, details, mode, attr, field, spec, kind, nullable, py_type, extra in plan:
                if mode == READ:
                    try:
                        value = getattr(source, attr)
                    except Exception as raw_error:
                        self.handle_field_error(
                            raw_error, field.type, details, Path(path, name, type_name)
                        )
                        results[name] = None
                        continue
                    # the leaf checks of _leaf, inline (most of a trace's fields)
                    if value is None:
                        if nullable:
                            results[name] = None
                            continue
                    elif kind == EXACT:
                        if type(value) is py_type:
                            results[name] = value
                            continue
                    elif kind == ENUM:
                        if type(value) is py_type and (done := extra.get(value)) is not None:
                            results[name] = done
                            continue
                    elif kind == CACHED:
                        if type(value) is datetime and value.tzinfo is UTC:
                            done = extra.get(value)
                            if done is None:
                                done = serialize_once(spec, extra, value)
                            if done is not SLOW:
                                results[name] = done
                                continue
                    elif kind == FLOAT:
                        if type(value) is float and isfinite(value):
                            results[name] = value
                            continue
                    elif kind == INT and type(value) is int and MIN_INT <= value <= MAX_INT:
                        results[name] = value
                        continue
                    result = self._complete_read(
                        parent_type, field, details, Path(path, name, type_name), value
                    )
                elif mode == TYPENAME:
                    results[name] = attr
                    continue
                elif mode == SKIP:
                    continue
                else:
                    result = self.execute_field(
                        parent_type, source, details, Path(path, name, type_name), None
                    )
                    if result is Undefined:
                        continue  # pragma: no cover (SKIP is planned)
                results[name] = result
                if self.is_awaitable(result):
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
        spec = spec_of(return_type)
        # an object: complete_value → complete_object_value, which reads no resolve info (a
        # page's 500 `node`s built one each for nothing)
        info = (
            None
            if spec.kind == OBJECT
            and value is not None
            and value is not Undefined
            and not isinstance(value, Exception)
            and not self.is_awaitable(value)
            else self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
        )
        try:
            if info is None:
                completed = self._complete_object(spec, details, path, value)
            elif self.is_awaitable(value):
                return self.complete_awaitable_value(return_type, details, info, path, value, None)
            else:
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
            ok = value_type is int and MIN_INT <= value <= MAX_INT
            return value if ok else SLOW
        if kind == FLOAT:
            return value if value_type is float and isfinite(value) else SLOW
        if kind == ENUM:
            return spec.table.get(value, SLOW) if value_type is spec.py_type else SLOW
        if kind == CACHED and value_type is datetime and value.tzinfo is UTC:
            cache = self._cache_of(spec)
            found = cache.get(value)
            return found if found is not None else serialize_once(spec, cache, value)
        return SLOW

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
        items completed inline and object items executed by their plan, made once per list."""
        item_spec = spec.item
        item_type = spec.item_type
        assert item_spec is not None and item_type is not None
        kind = item_spec.kind
        leaves = EXACT <= kind <= CACHED
        plan: list[Any] | None = None
        object_type = item_spec.object_type
        if kind == OBJECT and object_type is not None:
            fields, new_defer_usages, _ = self.collect_subfields(object_type, details)
            if not new_defer_usages:
                plan = self._plan(object_type, fields)
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
                elif (
                    plan is not None
                    and item is not None
                    and item is not Undefined
                    and not isinstance(item, Exception)
                ):
                    # complete_list_item_value → complete_value → complete_object_value
                    try:
                        done = self._execute_plan(plan, object_type, item, item_path)  # type: ignore[arg-type]
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, item_type, details, item_path)
                        append(None)
                    else:
                        if is_awaitable(done):
                            append(self._await_completed(done, item_type, details, item_path))
                            awaitable_indices.append(index)
                        else:
                            append(done)
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
