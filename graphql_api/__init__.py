"""The GraphQL API (Strawberry on Starlette), the composition root and the `mes` CLI."""
