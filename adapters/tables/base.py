"""The one MetaData every table module shares (Alembic's target), and the column types they
share."""

from __future__ import annotations

from sqlalchemy import MetaData

from adapters.types import SafeString

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CODE = SafeString(100)
ENUM = SafeString(20)
