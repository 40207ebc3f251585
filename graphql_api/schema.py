"""The served schema, and its printed form (kept in schema.graphql by a test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

import graphql_api.enums  # noqa: F401  (registers the domain enums with Strawberry)
from domain import enums as e
from graphql_api.audit import AuditQuery
from graphql_api.auth import guard
from graphql_api.errors import ErrorMasking
from graphql_api.execution import ExecutionMutation, ExecutionQuery
from graphql_api.gateway import GatewayMutation, GatewayQuery
from graphql_api.ingest import IngestMutation, IngestQuery
from graphql_api.metrics import GraphQLMetrics
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.request_audit import MutationAudit
from graphql_api.scalars import DateTime

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
DEFAULT_MAX_DEPTH = 15


ROOTS = {
    "Query": (Query, IngestQuery, GatewayQuery, ExecutionQuery, AuditQuery),
    "Mutation": (Mutation, IngestMutation, ExecutionMutation, GatewayMutation),
}
for _name, _types in ROOTS.items():
    for _type in _types:
        guard(_type, _name)  # every root field needs its scope (graphql_api/auth.py)


class QuietSchema(strawberry.Schema):
    """Errors are logged by ErrorMasking (structured, with the request id, only the unexpected
    ones in full), not by Strawberry's default logger."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


class QueryValidationCache(SchemaExtension):
    """Validation results by query text, one cache per schema. Strawberry's ValidationCache
    keys on the validation rules too, and the limiters (depth, aliases) build new rule
    classes for every request, so it never hit: every request paid a full validation
    (~15% of an ingest). A schema's rules are fixed, so its query text decides the result."""

    def __init__(self, results: dict[str, list[GraphQLError]], maxsize: int = 1024):
        super().__init__()
        self.results = results
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        errors = self.results.get(ctx.query) if ctx.query is not None else None
        if errors is None and ctx.graphql_document is not None:
            errors = validate_document(
                ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
            )
            if ctx.query is not None:
                if len(self.results) >= self.maxsize:
                    self.results.pop(next(iter(self.results)))
                self.results[ctx.query] = errors
        ctx.pre_execution_errors = errors
        yield


@cache
def build_schema(
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_aliases: int = 50,
    max_tokens: int = 5000,
    introspection: bool = True,
) -> strawberry.Schema:
    validated: dict[str, list[GraphQLError]] = {}
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=1024),
        lambda: QueryValidationCache(validated),
        GraphQLMetrics,
        MutationAudit,  # before ErrorMasking: exits after it, and audits the codes it shows
        ErrorMasking,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return QuietSchema(
        query=merge_types("Query", ROOTS["Query"]),
        mutation=merge_types("Mutation", ROOTS["Mutation"]),
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        # enums of the contract that no built field uses yet are served all the same
        types=[e.DispositionAction],
        extensions=extensions,
    )


def printed_schema() -> str:
    return build_schema().as_str() + "\n"
