"""`mes demo`: a small, real factory so GraphiQL has something to explore. Idempotent."""

from graphql_api.demo.load import load_demo

__all__ = ["load_demo"]
