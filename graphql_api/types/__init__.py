"""GraphQL object types, built from domain dataclasses; relations go through DataLoaders."""
