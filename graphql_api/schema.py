"""The served schema, and its printed form (kept in schema.graphql by a test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

import graphql_api.enums  # noqa: F401  (registers the domain enums with Strawberry)
from domain import enums as e
from domain.limits import Limits
from graphql_api.audit import AuditQuery
from graphql_api.auth import guard
from graphql_api.cost import query_cost
from graphql_api.errors import ErrorMasking
from graphql_api.execution_pins import version_mismatches
from graphql_api.fast_execution import FastExecutionContext
from graphql_api.gateway import GatewayMutation, GatewayQuery
from graphql_api.holds import HoldsMutation, HoldsQuery
from graphql_api.ingest import IngestMutation, IngestQuery
from graphql_api.manual_execution import ExecutionMutation, ExecutionQuery
from graphql_api.metrics import GraphQLMetrics
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.query_cache import (
    PARSER_CACHE_BYTES,
    VALIDATION_CACHE_BYTES,
    QueryCache,
    parsed_size,
    query_bytes,
)
from graphql_api.request_audit import MutationAudit
from graphql_api.scalars import DateTime
from graphql_api.shifts import ShiftMutation
from graphql_api.subscriptions import Subscription

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
DEFAULT_LIMITS = Limits()


ROOTS = {
    "Query": (Query, IngestQuery, GatewayQuery, ExecutionQuery, AuditQuery, HoldsQuery),
    "Mutation": (
        Mutation,
        IngestMutation,
        ExecutionMutation,
        GatewayMutation,
        ShiftMutation,
        HoldsMutation,
    ),
    "Subscription": (Subscription,),
}
for _name, _types in ROOTS.items():
    for _type in _types:
        guard(_type, _name)  # every root field needs its scope (graphql_api/auth.py)


class QuietSchema(strawberry.Schema):
    """Errors are logged by ErrorMasking (structured, with the request id, only the unexpected
    ones in full), not by Strawberry's default logger. With introspection off, execution hides
    suggestions too (a variable's misspelt input field or enum value)."""

    hide_suggestions: bool = False
    #: the parser and validation caches (tests look inside)
    caches: tuple[QueryCache[DocumentNode], QueryCache[list[GraphQLError]]] | None = None

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if self.hide_suggestions:
            kwargs["hide_suggestions"] = True
        return kwargs

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Subscriptions run over WebSocket only (MesGraphQL answers an HTTP one with 400)."""
        allowed = kwargs.get("allowed_operation_types") or tuple(OperationType)
        kwargs["allowed_operation_types"] = tuple(
            t for t in allowed if t is not OperationType.SUBSCRIPTION
        )
        return await super().execute(*args, **kwargs)

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Only the WebSocket handler streams (MesGraphQL serves no HTTP streaming), and over
        a WebSocket only subscriptions run: queries and mutations go over HTTP, where their
        timeout, body limit and audit apply."""
        kwargs["allowed_operation_types"] = (OperationType.SUBSCRIPTION,)
        return await super().stream(*args, **kwargs)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool = False,
) -> list[GraphQLError]:
    """graphql-core's validation with Strawberry's own rules, as Strawberry runs it, and without
    "Did you mean …?" when `hide_suggestions` (introspection off: no schema hints either)."""
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=hide_suggestions,
    )


def _too_large(size: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"the query document is {size} bytes, more than {limit} (MES_MAX_QUERY_BYTES): send "
        "values as variables, not in the query text",
        extensions={"code": "QUERY_TOO_LARGE", "bytes": size, "limit": limit},
    )


def _too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"the query may return {cost} objects, more than {limit} (MES_MAX_QUERY_COST): ask for "
        "smaller pages (first) or fewer nested lists",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )


class QueryGate(SchemaExtension):
    """First of all: a query document longer than MES_MAX_QUERY_BYTES is refused before it is
    parsed (its variables are not counted: the body limit bounds them)."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self.max_bytes = max_bytes

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query
        if query is not None and len(query) > self.max_bytes // 4:
            size = query_bytes(query)
            if size > self.max_bytes:
                raise _too_large(size, self.max_bytes)
        yield


class BoundedParserCache(SchemaExtension):
    """Parsed documents by query text, in a cache bounded in bytes (query_cache.py); Strawberry
    parses what it does not find, and a document that parsed is kept if its text is short."""

    def __init__(self, cache: QueryCache[DocumentNode]):
        super().__init__()
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        query = ctx.query
        found = self.cache.get(query) if query is not None else None
        if found is not None:
            ctx.graphql_document = found
        yield
        if found is None and query is not None and ctx.graphql_document is not None:
            self.cache.put(query, ctx.graphql_document)


class QueryValidationCache(SchemaExtension):
    """Validation results by query text, one cache per schema. Strawberry's ValidationCache
    keys on the validation rules too, and the limiters (depth, aliases) build new rule
    classes for every request, so it never hit: every request paid a full validation
    (~15% of an ingest). A schema's rules are fixed, so its query text decides the result.

    A valid query then has its cost checked (graphql_api/cost.py): that depends on the
    variables, so it is computed for every request (tens of microseconds) and never cached."""

    def __init__(
        self,
        results: QueryCache[list[GraphQLError]],
        max_cost: int,
        list_estimate: int,
        hide_suggestions: bool,
    ):
        super().__init__()
        self.results = results
        self.max_cost = max_cost
        self.list_estimate = list_estimate
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        errors = self.results.get(ctx.query) if ctx.query is not None else None
        document = ctx.graphql_document
        if errors is None and document is not None:
            errors = validate_document(
                ctx.schema._schema, document, ctx.validation_rules, self.hide_suggestions
            )
            if ctx.query is not None:
                self.results.put(ctx.query, errors)
        if not errors and document is not None:
            cost = query_cost(
                ctx.schema._schema,
                document,
                ctx.operation_name,
                ctx.variables,
                self.list_estimate,
            )
            if cost > self.max_cost:
                errors = [_too_costly(cost, self.max_cost)]
        ctx.pre_execution_errors = errors
        yield


def _validation_size(query: str, errors: list[GraphQLError]) -> int:
    # an error holds its AST nodes, and through their tokens the whole parsed document
    return parsed_size(query) if errors else len(query) + 256


def build_schema(limits: Limits = DEFAULT_LIMITS, fast_execution: bool = True) -> QuietSchema:
    """The schema of these limits: one per distinct Limits, so its caches are shared. With
    `fast_execution` (MES_FAST_EXECUTION, on by default) it runs the planned executor of
    graphql_api/fast_execution.py, else Strawberry's default one."""
    return _build_schema(limits, fast_execution)


@cache
def _build_schema(limits: Limits, fast_execution: bool) -> QuietSchema:
    if fast_execution and (mismatches := version_mismatches()):
        raise RuntimeError(
            "; ".join(mismatches) + ": check it against the new versions (tests/unit/"
            "test_fast_execution.py) and update PINNED, or set MES_FAST_EXECUTION=0"
        )
    parsed: QueryCache[DocumentNode] = QueryCache(PARSER_CACHE_BYTES, lambda q, _: parsed_size(q))
    validated: QueryCache[list[GraphQLError]] = QueryCache(VALIDATION_CACHE_BYTES, _validation_size)
    extensions: list[Any] = [
        lambda: QueryGate(limits.max_query_bytes),
        lambda: QueryDepthLimiter(max_depth=limits.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=limits.max_query_tokens),
        lambda: BoundedParserCache(parsed),
        lambda: QueryValidationCache(
            validated,
            limits.max_query_cost,
            limits.list_cost_estimate,
            hide_suggestions=not limits.introspection,
        ),
        GraphQLMetrics,
        MutationAudit,  # before ErrorMasking: exits after it, and audits the codes it shows
        ErrorMasking,
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    schema = QuietSchema(
        query=merge_types("Query", ROOTS["Query"]),
        mutation=merge_types("Mutation", ROOTS["Mutation"]),
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        # enums of the contract that no built field uses yet are served all the same
        types=[e.DispositionAction],
        extensions=extensions,
        execution_context_class=FastExecutionContext if fast_execution else None,
    )
    schema.hide_suggestions = not limits.introspection
    schema.caches = (parsed, validated)
    return schema


def printed_schema() -> str:
    return build_schema().as_str() + "\n"
