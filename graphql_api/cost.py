"""A query's cost, computed before it runs: how many objects it may return.

Every object field counts once per object it may be resolved for; a list multiplies what is
below it by its size:

- a paginated field (one with a `first` argument: a connection) has `first` items — the literal,
  the variable's value, or the argument's default — and the lists right inside the object it
  returns (its `edges`) have that many;
- a field that takes a list and answers one item per element (`validateUnits(sns)`,
  `ingestEvents(inputs)`) has the list's length, and `registerUnits` its `count` or `sns`;
- any other list (a unit's `tracks`, a track's `dataValues`, a line's `stations`) counts as
  `list_estimate` (MES_LIST_COST_ESTIMATE).

Scalars cost nothing (a query's width is bounded by its token limit); introspection fields are
not counted (bounded by the schema). Fragments count where they are spread, once per selection
set as execution collects them. A field repeated under another alias counts again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)

#: a size no real request reaches: larger values (a variable past 32 bits) count as this
SIZE_CAP = 2**31


def _register_units(args: Mapping[str, Any]) -> int | None:
    data = args.get("input")
    if not isinstance(data, dict):
        return None
    count, sns = data.get("count"), data.get("sns")
    if isinstance(sns, list):
        return len(sns)
    return count if isinstance(count, int) else None


#: fields whose size is read from their arguments in their own way
SIZED_BY: dict[tuple[str, str], Callable[[Mapping[str, Any]], int | None]] = {
    ("Mutation", "registerUnits"): _register_units,
}


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
        list_estimate: int,
    ):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.list_estimate = list_estimate

    def selections(
        self,
        parent: Any,
        selection_set: SelectionSetNode | None,
        page: int | None,
        spread: set[str] | None = None,
    ) -> int:
        """The cost of one selection set under one parent object (the caller multiplies)."""
        if selection_set is None:
            return 0
        spread = set() if spread is None else spread
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(parent, node, page)
            elif isinstance(node, InlineFragmentNode):
                on = (
                    self.schema.get_type(node.type_condition.name.value)
                    if node.type_condition
                    else parent
                )
                total += self.selections(on, node.selection_set, page, spread)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue  # execution collects a fragment once per selection set
                spread.add(name)
                on = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(on, fragment.selection_set, page, spread)
        return total

    def field(self, parent: Any, node: FieldNode, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        if not is_composite_type(returned):
            return 0
        size = self.size(parent.name, name, definition, node)
        if is_list_type(get_nullable_type(definition.type)):
            count = size if size is not None else page if page is not None else self.list_estimate
            inner_page = None
        else:
            count, inner_page = 1, size
        count = max(0, min(count, SIZE_CAP))
        return count * (1 + self.selections(returned, node.selection_set, inner_page))

    def size(
        self, type_name: str, name: str, definition: GraphQLField, node: FieldNode
    ) -> int | None:
        """The number of items the field's arguments ask for, if they say."""
        args = self.arguments(definition, node)
        sized_by = SIZED_BY.get((type_name, name))
        if sized_by is not None:
            return sized_by(args)
        if "first" in definition.args:
            first = args.get("first")
            if first is None:
                first = definition.args["first"].default_value
            return first if isinstance(first, int) else None
        if is_list_type(get_nullable_type(definition.type)):
            for argument, declared in definition.args.items():
                value = args.get(argument)
                if is_list_type(get_nullable_type(declared.type)) and isinstance(value, list):
                    return len(value)
        return None

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as sent (literals and variables; unparsed, None if absent)."""
        found: dict[str, Any] = {}
        for argument in node.arguments or ():
            if argument.name.value not in definition.args:
                continue
            if isinstance(argument.value, VariableNode):
                found[argument.name.value] = self.variable(argument.value.name.value)
            else:
                found[argument.name.value] = value_from_ast_untyped(argument.value, self.values())
        return found

    def variable(self, name: str) -> Any:
        if name in self.variables:
            return self.variables[name]
        return self.defaults.get(name)

    def values(self) -> dict[str, Any]:
        return {**self.defaults, **self.variables}


def operation_of(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    list_estimate: int,
) -> int:
    """The cost of the operation that would run (of the costliest one when that is ambiguous:
    execution then refuses the request anyway)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    picked = operation_of(document, operation_name)
    operations = (
        [picked]
        if picked is not None
        else [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    )
    costs = [0]
    for operation in operations:
        root = schema.get_root_type(operation.operation)
        defaults = {
            v.variable.name.value: value_from_ast_untyped(v.default_value)
            for v in operation.variable_definitions or ()
            if v.default_value is not None
        }
        walk = _Walk(schema, fragments, variables or {}, defaults, list_estimate)
        costs.append(walk.selections(root, operation.selection_set, None))
    return max(costs)
