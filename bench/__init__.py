"""Benchmark and load harness (issue 7): ingest against the raw database floor, trace cost,
faults under load."""
