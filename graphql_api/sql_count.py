"""Opt-in (MES_COUNT_SQL=1): count the SQL statements of each HTTP request and answer them in
an `x-sql-statements` response header. The benchmark reads it; off by default (one context
variable lookup per statement when on)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-sql-statements"
# transaction control (SQLite's explicit BEGIN) is not counted: the same statements on both
_CONTROL = ("BEGIN", "PRAGMA", "ROLLBACK", "COMMIT")
_counter: ContextVar[list[int] | None] = ContextVar("mes_sql_counter", default=None)


def count_statements_of(engine: AsyncEngine) -> None:
    """Count every statement the engine runs into the current request's counter."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counter = _counter.get()
        if counter is not None and not statement.lstrip().upper().startswith(_CONTROL):
            counter[0] += 1


class SqlCountMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counter = [0]
        token = _counter.set(counter)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(HEADER, str(counter[0]))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            _counter.reset(token)
