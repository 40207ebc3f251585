"""Benchmark and load harness (issue 7): ingest vs the raw database floor, trace cost, faults under load."""
