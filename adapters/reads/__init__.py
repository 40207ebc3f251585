"""The query side's reads, one module per concept; adapters/read_store.py joins them."""
