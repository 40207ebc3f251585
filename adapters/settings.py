"""Settings from MES_* environment variables (documented in the README).

`Settings.from_env` checks every value before anything starts: a bad one raises ConfigError,
whose message is one line saying what is wrong and how to fix it (`mes` prints it and exits 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from domain.limits import Limits

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./mes.db"

#: the drivers the service runs on, by backend
DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(Exception):
    """A setting (or the database or port it names) the service cannot start with. The
    message is one line: what is wrong, and how to fix it."""


def _raw(name: str) -> str | None:
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(
            f"{name}={raw!r} is not a whole number of at least {minimum}; "
            f"set it to one (default {default}) or unset it"
        )
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not value >= minimum or value == float("inf"):
        raise ConfigError(
            f"{name}={raw!r} is not a number of at least {minimum:g}; "
            f"set it to one (default {default:g}) or unset it"
        )
    return value


def flag(name: str, default: bool = False) -> bool:
    """An on/off setting: 1/0, true/false, yes/no, on/off; anything else is a ConfigError."""
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not on or off; set it to 1 or 0 (also true/false, yes/no, on/off) "
        f"or unset it (default {'1' if default else '0'})"
    )


def _pattern(name: str) -> str | None:
    """A regular expression setting, checked at start-up (a typo fails there, not per SN)."""
    raw = os.environ.get(name) or None
    if raw is not None:
        try:
            re.compile(raw)
        except re.error as err:
            raise ConfigError(
                f"{name}={raw!r} is not a regular expression ({err}); fix it or unset it"
            ) from err
    return raw


def check_time_zone(name: str) -> str:
    """An IANA time zone name (Europe/Berlin), else ConfigError."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(
            f"MES_PLANT_TZ={name!r} is not a time zone; use an IANA name such as "
            f"Europe/Berlin or America/Chicago (default UTC)"
        ) from err
    return name


def check_database_url(url: str) -> str:
    """A URL the service can open: postgresql+asyncpg://… or sqlite+aiosqlite:///path (whose
    directory exists), else ConfigError saying which to write."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    where = "the database URL (--database-url or MES_DATABASE_URL)"
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(
            f"{where} {url!r} is not a URL; write postgresql+asyncpg://user@host:5432/db "
            f"or sqlite+aiosqlite:///path/mes.db"
        ) from err
    backend = "postgresql" if parsed.drivername.split("+")[0] == "postgres" else None
    backend = backend or parsed.get_backend_name()
    driver = DRIVERS.get(backend)
    if driver is None:
        raise ConfigError(
            f"{where} uses {parsed.drivername}://, which the service does not run on; "
            f"use postgresql+asyncpg:// or sqlite+aiosqlite://"
        )
    if parsed.drivername != f"{backend}+{driver}":
        fixed = parsed.set(drivername=f"{backend}+{driver}")
        what = (
            f"starts with {parsed.drivername}:// and names no driver"
            if "+" not in parsed.drivername
            else f"names the driver {parsed.drivername.split('+')[1]}, which the service "
            "does not run on"
        )
        raise ConfigError(
            f"{where} {what}; use {backend}+{driver}:// "
            f"({fixed.render_as_string(hide_password=True)})"
        )
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).parent
        if not directory.is_dir():
            raise ConfigError(
                f"the SQLite database {parsed.database} cannot be created: the directory "
                f"{directory} does not exist; create it (mkdir -p {directory}) or fix "
                f"--database-url / MES_DATABASE_URL"
            )
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    plant_tz: str = "UTC"
    db_pool_size: int = 10
    db_pre_ping: bool = False
    limits: Limits = field(default_factory=Limits)
    log_json: bool = False
    #: the planned GraphQL executor (graphql_api/fast_execution.py); off: Strawberry's own
    fast_execution: bool = True
    #: seconds between `mes serve`'s sweeps of expired parked events (0: none)
    park_sweep_interval_s: float = 60.0

    @property
    def safe_url(self) -> str:
        """The database URL without its password, for logs."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The MES_* environment (and the overrides not None), every value checked: a bad one
        raises ConfigError."""
        d = Limits()
        values: dict[str, object] = {
            "database_url": _raw("MES_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "plant_tz": _raw("MES_PLANT_TZ") or "UTC",
            "db_pool_size": _int("MES_DB_POOL_SIZE", 10),
            "db_pre_ping": flag("MES_DB_PRE_PING", False),
            "log_json": flag("MES_LOG_JSON", False),
            "fast_execution": flag("MES_FAST_EXECUTION", True),
            "park_sweep_interval_s": _float("MES_PARK_SWEEP_INTERVAL", 60.0),
            "limits": Limits(
                max_register_units=_int("MES_MAX_REGISTER_UNITS", d.max_register_units),
                max_hold_units=_int("MES_MAX_HOLD_UNITS", d.max_hold_units),
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
                introspection=flag("MES_INTROSPECTION", d.introspection),
                cors_origins=tuple(
                    o.strip()
                    for o in os.environ.get("MES_CORS_ORIGINS", "").split(",")
                    if o.strip()
                ),
                max_json_depth=_int("MES_MAX_JSON_DEPTH", d.max_json_depth),
                max_clock_skew_s=_int("MES_MAX_CLOCK_SKEW", d.max_clock_skew_s, minimum=0),
                park_ttl_s=_int("MES_PARK_TTL", d.park_ttl_s, minimum=1),
                sn_pattern=_pattern("MES_SN_PATTERN"),
                subscription_queue=_int("MES_SUBSCRIPTION_QUEUE", d.subscription_queue),
                max_subscriptions_per_connection=_int(
                    "MES_MAX_SUBSCRIPTIONS_PER_CONNECTION", d.max_subscriptions_per_connection
                ),
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        flag("MES_COUNT_SQL")  # checked here, read where the app is built (bootstrap)
        check_time_zone(str(values["plant_tz"]))
        check_database_url(str(values["database_url"]))
        return cls(**values)  # type: ignore[arg-type]


def workers_from_env(default: int = 1, timeout_default: int = 60) -> tuple[int, int]:
    """MES_WORKERS and MES_WORKER_TIMEOUT_S (`mes serve`), checked like every setting."""
    workers = _int("MES_WORKERS", default)
    timeout = _int("MES_WORKER_TIMEOUT_S", timeout_default)
    if workers > 64:
        raise ConfigError(f"MES_WORKERS={workers} is more than 64; set it lower or unset it")
    if timeout > 3600:
        raise ConfigError(
            f"MES_WORKER_TIMEOUT_S={timeout} is more than 3600; set it lower or unset it"
        )
    return workers, timeout
