"""SQL implementations of the domain's repositories, on one AsyncConnection (one transaction),
one module per concept: base (SqlRepository), master_data, production, holds, ingest,
carriers, security (tokens and audit)."""

from adapters.repositories.base import CHUNK, SqlRepository, chunks
from adapters.repositories.master_data import VersionCache

__all__ = ["CHUNK", "SqlRepository", "VersionCache", "chunks"]
