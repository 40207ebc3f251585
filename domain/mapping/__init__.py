"""The ingest mapping: how a step reads a source's payload (DOMAIN.md §3)."""
