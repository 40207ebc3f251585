"""A request's token and the readiness ping."""

from __future__ import annotations

from sqlalchemy import select, text

from adapters import rows
from adapters import tables as t
from adapters.pg import Pg, columns
from adapters.reads.base import ReadBase
from domain.security import ApiToken

_TOKEN_BY_LOOKUP = f"SELECT {columns(t.api_token)} FROM api_token WHERE lookup = $1"


class AccessReads(ReadBase):
    """The statements every request and every readiness probe send."""

    async def token_by_lookup(self, lookup: str) -> ApiToken | None:
        # every request's first statement: the PostgreSQL one is written out (adapters/pg.py)
        async with self.engine.connect() as conn:
            pg = Pg.for_connection(conn, autocommit=True)
            if pg is not None:
                r = await pg.fetchrow(_TOKEN_BY_LOOKUP, lookup)
            else:
                r = (
                    await conn.execute(select(t.api_token).where(t.api_token.c.lookup == lookup))
                ).first()
        return rows.token_from_row(r) if r else None

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
