"""CFX work transactions (issue 21): a WorkStarted's start under its pairing key, and the
event that wrote the key's tracks."""

from __future__ import annotations

from sqlalchemy import Column, Table, UniqueConstraint

from adapters.tables.base import metadata
from adapters.types import BigId, Json, SafeString, SafeText, UtcDateTime

cfx_work = Table(
    "cfx_work",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_system", SafeString(200), nullable=False),
    Column("transaction_id", SafeString(200), nullable=False),
    Column("started_at", UtcDateTime),
    Column("units", Json, nullable=False),
    Column("recipe", SafeText),
    Column("start_event_id", BigId),
    Column("result_event_id", BigId),
    Column("result_key", SafeText),
    UniqueConstraint("source_system", "transaction_id"),
)
