"""The ingest pipeline (DOMAIN.md §4): envelope, idempotency, units and run, checks, data, write."""
