"""Use cases: one small async handler per command, over the UnitOfWork port."""
