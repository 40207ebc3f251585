"""Every request that reaches a mutation leaves an audit row, however it ends.

The bus and the ingest pipeline audit each command they run (accepted or refused by a rule).
This extension audits the mutation fields that never reached them or broke on the way: a
token without the field's scope (FORBIDDEN), a request error (a document that does not
validate, variables that do not fit their types, an input a resolver refuses: BAD_USER_INPUT)
and a bug (INTERNAL_SERVER_ERROR, audited as ERROR). One row per root mutation field of the
request, in a transaction of its own, with the server's request id and the client's beside it.

A document that does not parse names no operation, so it reaches no mutation: it is answered
GRAPHQL_PARSE_FAILED and logged, not audited (a mutation cannot be told from noise there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import structlog
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from domain.usecases.handlers import HANDLERS
from domain.usecases.request_audit import FailedMutation, audit_failed_mutations
from graphql_api.context import Context
from graphql_api.errors import code_of

log = structlog.get_logger("mes.audit")

#: the entity a mutation field works on, as its command's audit rows name it
ENTITY_TYPES = {cmd.action: cmd.entity_type for cmd in HANDLERS} | {
    "ingestEvent": "IngestEvent",
    "ingestEvents": "IngestEvent",
    "replayRejection": "IngestRejection",
}
#: the action of a mutation document that names no mutation field at all
UNKNOWN_FIELD_ACTION = "mutation"
#: the code of a mutation field left unrun because one before it failed the request
NOT_RUN = "NOT_EXECUTED"


class MutationAudit(SchemaExtension):
    #: execution started: an error without a path is then the variables' (BAD_USER_INPUT)
    executing = False

    def on_execute(self) -> Iterator[None]:
        self.executing = True
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        try:
            await self._audit()
        except Exception as err:  # the answer stands even when its audit row cannot be written
            log.warning("audit.request_error_not_recorded", error=type(err).__name__)

    async def _audit(self) -> None:
        ctx = self.execution_context
        result = ctx.result
        context = ctx.context
        if result is None or not result.errors or not isinstance(context, Context):
            return
        document = ctx.graphql_document
        operation = get_operation_ast(document, ctx.operation_name) if document else None
        if document is None or operation is None:
            return  # unparsed, or no operation to run: no mutation was reached
        if operation.operation is not OperationType.MUTATION:
            return
        data_lost = self.executing and result.data is None
        failures = self._failures(document, operation, result.errors, data_lost)
        await audit_failed_mutations(
            context.bus.uow_factory, context.bus.deps.clock, context.actor, failures
        )

    def _failures(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        errors: list[GraphQLError],
        data_lost: bool,
    ) -> list[FailedMutation]:
        mutation_type = self.execution_context.schema._schema.mutation_type
        known = mutation_type.fields if mutation_type else {}
        fields = list(dict(_root_fields(document, operation.selection_set)).items())
        request_error = next((e for e in errors if not e.path), None)
        # an error on a root field itself (not on what its payload resolves): its use case
        # never ran, or broke before its row was written
        field_errors: dict[str, GraphQLError] = {}
        failed_keys: set[str] = set()
        for error in errors:
            if error.path:
                failed_keys.add(str(error.path[0]))
                if len(error.path) == 1:
                    field_errors.setdefault(str(error.path[0]), error)
        failures: list[FailedMutation] = []
        # mutation fields run one after another; a failure that nulls the whole answer stops
        # the ones after it: they are audited as not run
        stopped_by: str | None = None
        for key, name in fields:
            failed = field_errors.get(key) or request_error
            if name in known and failed is not None:
                failures.append(
                    self._failure(name, code_of(failed, self.executing), failed.message)
                )
            elif name in known and stopped_by is not None:
                message = f"not run: {stopped_by!r} before it failed and stopped the request"
                failures.append(self._failure(name, NOT_RUN, message))
            if data_lost and stopped_by is None and key in failed_keys:
                stopped_by = key
        if not failures and request_error is not None and not any(n in known for _, n in fields):
            code = code_of(request_error, self.executing)
            failures.append(self._failure(UNKNOWN_FIELD_ACTION, code, request_error.message))
        return failures

    def _failure(self, action: str, code: str, message: str) -> FailedMutation:
        return FailedMutation(
            action=action,
            entity_type=ENTITY_TYPES.get(action, "Mutation"),
            error_code=code,
            message=message,
        )


def _root_fields(
    document: DocumentNode, selection_set: SelectionSetNode, depth: int = 0
) -> Iterator[tuple[str, str]]:
    """(response key, field name) of every root field, through fragments."""
    if depth > 10:
        return
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            yield (selection.alias.value if selection.alias else name), name
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(document, selection.selection_set, depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(document, fragment.selection_set, depth + 1)
