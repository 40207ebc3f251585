"""API tokens with scopes, bound to sources (issue 6). Secrets are never stored: only their
SHA-256 digest, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, ErrorCode
from domain.validation import check_code

SECRET_PREFIX = "mes_"
#: the part of a secret stored in clear to find its row (the rest is only ever hashed)
LOOKUP_CHARS = 12


class Scope(StrEnum):
    READ = "read"
    INGEST = "ingest"
    EXECUTE = "execute"
    CONFIGURE = "configure"
    ADMIN = "admin"


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


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a token's name, its scopes and the sources it may write for."""

    name: str
    scopes: frozenset[Scope]
    sources: frozenset[str] = field(default_factory=frozenset)
    #: the token's id: each write checks it is still active (a revoke mid-request holds)
    token_id: int | None = None

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def may_write_for(self, source: str | None) -> bool:
        """An ingest token writes only for its sources; admin (and no-auth) for any."""
        if Scope.ADMIN in self.scopes:
            return True
        return source is not None and source in self.sources


#: the principal of a server started with --no-auth (loopback only)
UNRESTRICTED = Principal("anonymous", frozenset({Scope.ADMIN}))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(
    name: str, scopes: list[str], sources: list[str], now: datetime
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
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        lookup=secret[: len(SECRET_PREFIX) + LOOKUP_CHARS],
        secret_hash=digest(secret),
        scopes=parsed,
        sources=frozenset(sources),
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
    return Principal(token.name, token.scopes, token.sources, token_id=token.id)
