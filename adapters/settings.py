"""Settings from MES_* environment variables (documented in the README)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from domain.usecases.bus import Limits

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./mes.db"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _pattern(name: str) -> str | None:
    """A regular expression setting, checked at start-up (a typo fails there, not per SN)."""
    raw = os.environ.get(name) or None
    if raw is not None:
        try:
            re.compile(raw)
        except re.error as err:
            raise ValueError(f"{name} is not a regular expression: {err}") from err
    return raw


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    plant_tz: str = "UTC"
    db_pool_size: int = 10
    db_pre_ping: bool = False
    limits: Limits = field(default_factory=Limits)
    log_json: bool = False

    @property
    def safe_url(self) -> str:
        """The database URL without its password, for logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        d = Limits()
        values: dict[str, object] = {
            "database_url": os.environ.get("MES_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "plant_tz": os.environ.get("MES_PLANT_TZ") or "UTC",
            "db_pool_size": _int("MES_DB_POOL_SIZE", 10),
            "db_pre_ping": os.environ.get("MES_DB_PRE_PING", "").lower() in ("1", "true", "yes"),
            "log_json": os.environ.get("MES_LOG_JSON", "").lower() in ("1", "true", "yes"),
            "limits": Limits(
                max_register_units=_int("MES_MAX_REGISTER_UNITS", d.max_register_units),
                max_routing_steps=_int("MES_MAX_ROUTING_STEPS", d.max_routing_steps),
                max_page_size=_int("MES_MAX_PAGE_SIZE", d.max_page_size),
                max_payload_bytes=_int("MES_MAX_PAYLOAD_BYTES", d.max_payload_bytes),
                max_ingest_batch=_int("MES_MAX_INGEST_BATCH", d.max_ingest_batch),
                max_body_bytes=_int("MES_MAX_BODY_BYTES", d.max_body_bytes),
                max_query_depth=_int("MES_MAX_QUERY_DEPTH", d.max_query_depth),
                max_aliases=_int("MES_MAX_ALIASES", d.max_aliases),
                max_query_tokens=_int("MES_MAX_QUERY_TOKENS", d.max_query_tokens),
                max_query_cost=_int("MES_MAX_QUERY_COST", d.max_query_cost),
                list_cost_estimate=_int("MES_LIST_COST_ESTIMATE", d.list_cost_estimate),
                max_query_bytes=_int("MES_MAX_QUERY_BYTES", d.max_query_bytes),
                request_timeout_s=_float("MES_REQUEST_TIMEOUT_S", d.request_timeout_s),
                introspection=os.environ.get("MES_INTROSPECTION", "1").lower()
                not in ("0", "false", "no", "off"),
                cors_origins=tuple(
                    o.strip()
                    for o in os.environ.get("MES_CORS_ORIGINS", "").split(",")
                    if o.strip()
                ),
                max_json_depth=_int("MES_MAX_JSON_DEPTH", d.max_json_depth),
                sn_pattern=_pattern("MES_SN_PATTERN"),
                subscription_queue=_int("MES_SUBSCRIPTION_QUEUE", d.subscription_queue),
                max_subscriptions_per_connection=_int(
                    "MES_MAX_SUBSCRIPTIONS_PER_CONNECTION", d.max_subscriptions_per_connection
                ),
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
