"""API tokens with scopes, bound to sources (issue 6) and stations (issue 14). Secrets are never
stored: only their SHA-256 digest, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, ErrorCode
from domain.master import Station
from domain.validation import check_code

SECRET_PREFIX = "mes_"
#: the part of a secret stored in clear to find its row (the rest is only ever hashed)
LOOKUP_CHARS = 12
#: a station binding entry naming a station group rather than a station
GROUP_PREFIX = "group:"


class Scope(StrEnum):
    READ = "read"
    INGEST = "ingest"
    EXECUTE = "execute"
    CONFIGURE = "configure"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class StationBinding:
    """The stations a bound token may write for: these codes, and every station whose group
    (live master data, Station.group_code) is one of these groups."""

    codes: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> StationBinding:
        """From `mes token create --stations` entries: `CODE` or `group:GROUPCODE`."""
        codes: set[str] = set()
        groups: set[str] = set()
        for entry in entries:
            if entry[: len(GROUP_PREFIX)].lower() == GROUP_PREFIX:
                groups.add(check_code(entry[len(GROUP_PREFIX) :], "stations"))
            else:
                codes.add(check_code(entry, "stations"))
        return cls(frozenset(codes), frozenset(groups))

    def entries(self) -> frozenset[str]:
        """As stored and shown: codes, and groups as `group:CODE`."""
        return self.codes | {GROUP_PREFIX + g for g in self.groups}

    def allows(self, station_code: str | None, station: Station | None) -> bool:
        """THE rule: may a token with this binding write for this station? `station` is the
        master-data row of `station_code` (None: unknown, which no group can hold)."""
        if station_code is None:
            return False
        if station_code in self.codes or (
            station is not None and (station.code in self.codes or station.cfx_handle in self.codes)
        ):
            return True
        return station is not None and station.group_code in self.groups


def binding_of(
    scopes: frozenset[Scope], sources: frozenset[str], stations: frozenset[str]
) -> StationBinding | None:
    """A token's station binding; None: unbound (admin, or neither sources nor stations).
    Sources without stations bind to the stations named like the sources."""
    if Scope.ADMIN in scopes or not (sources or stations):
        return None
    if stations:
        return StationBinding.parse(stations)
    return StationBinding(codes=sources)


def station_refusal(
    token: str,
    bindings: Iterable[StationBinding],
    station_code: str | None,
    station: Station | None,
) -> DomainError | None:
    """FORBIDDEN unless every binding allows the station (no bindings: unbound, allowed).
    A replay carries two: the replayer's and the original sender's."""
    if all(b.allows(station_code, station) for b in bindings):
        return None
    if station_code is None:
        return DomainError(
            ErrorCode.FORBIDDEN,
            f"token {token!r} is bound to stations: name the stationCode",
            {"stationCode": None, "field": "stationCode"},
        )
    return DomainError(
        ErrorCode.FORBIDDEN,
        f"token {token!r} may not write for station {station_code[:200]!r}",
        {"stationCode": station_code[:200]},
    )


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    lookup: str
    secret_hash: str
    scopes: frozenset[Scope]
    sources: frozenset[str] = field(default_factory=frozenset)
    #: station codes and `group:CODE` entries it may write for (empty: none named)
    stations: frozenset[str] = field(default_factory=frozenset)
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def binding(self) -> StationBinding | None:
        return binding_of(self.scopes, self.sources, self.stations)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a token's name, its scopes, the sources and stations it may
    write for."""

    name: str
    scopes: frozenset[Scope]
    sources: frozenset[str] = field(default_factory=frozenset)
    #: the token's `--stations` entries (codes and `group:CODE`)
    stations: frozenset[str] = field(default_factory=frozenset)
    #: a real token (False: auth off, or the GraphiQL page)
    from_token: bool = False
    #: the token's id: each write checks it is still active (a revoke mid-request holds)
    token_id: int | None = None

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def may_write_for(self, source: str | None) -> bool:
        """An ingest token writes only for its sources; admin (and no-auth) for any."""
        if Scope.ADMIN in self.scopes:
            return True
        return source is not None and source in self.sources

    @property
    def binding(self) -> StationBinding | None:
        return binding_of(self.scopes, self.sources, self.stations)


#: the principal of a server started with --no-auth (loopback only)
UNRESTRICTED = Principal("anonymous", frozenset({Scope.ADMIN}))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(
    name: str,
    scopes: list[str],
    sources: list[str],
    now: datetime,
    stations: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once, then only its digest exists)."""
    check_code(name, "name")
    if not scopes:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, "name at least one scope", {"field": "scopes"}
        )
    try:
        parsed = frozenset(Scope(s.strip().lower()) for s in scopes)
    except ValueError as err:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"unknown scope ({err}); scopes are {', '.join(s.value for s in Scope)}",
            {"field": "scopes"},
        ) from err
    for source in sources:
        check_code(source, "sources")
    if Scope.INGEST in parsed and Scope.ADMIN not in parsed and not sources:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "an ingest token must name its sources (--sources): a machine writes only as itself",
            {"field": "sources"},
        )
    binding = StationBinding.parse(stations or ())
    if stations and Scope.ADMIN in parsed:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            "an admin token writes for every station: --stations does not apply",
            {"field": "stations"},
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        lookup=secret[: len(SECRET_PREFIX) + LOOKUP_CHARS],
        secret_hash=digest(secret),
        scopes=parsed,
        sources=frozenset(sources),
        stations=binding.entries(),
        created_at=now,
    )
    return token, secret


def lookup_of(secret: str) -> str | None:
    if not secret.startswith(SECRET_PREFIX) or len(secret) < len(SECRET_PREFIX) + LOOKUP_CHARS + 8:
        return None
    return secret[: len(SECRET_PREFIX) + LOOKUP_CHARS]


def verify(token: ApiToken | None, secret: str) -> Principal | None:
    """The principal of an active token whose digest matches, compared in constant time."""
    if token is None or not token.active:
        # still hash, so a wrong lookup costs what a wrong secret costs
        hmac.compare_digest(digest(secret), "0" * 64)
        return None
    if not hmac.compare_digest(digest(secret), token.secret_hash):
        return None
    return Principal(
        token.name, token.scopes, token.sources, token.stations, from_token=True, token_id=token.id
    )
