"""API token management (the `mes token` commands), audited like every mutation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.errors import DomainError, ErrorCode, KeyTaken
from domain.ports import UnitOfWork
from domain.security import ApiToken, new_token
from domain.usecases.bus import Command, Deps


@dataclass(frozen=True, slots=True)
class CreateToken(Command):
    name: str
    scopes: tuple[str, ...]
    sources: tuple[str, ...] = ()
    #: station codes and `group:CODE` entries (issue 14); none: bound by its sources, if any
    stations: tuple[str, ...] = ()
    action: ClassVar[str] = "createToken"
    entity_type: ClassVar[str] = "ApiToken"

    def entity_key(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class CreatedToken:
    token: ApiToken
    secret: str


async def create_token(cmd: CreateToken, uow: UnitOfWork, deps: Deps) -> CreatedToken:
    token, secret = new_token(
        cmd.name, list(cmd.scopes), list(cmd.sources), deps.clock.now(), list(cmd.stations)
    )
    return CreatedToken(await _add(uow, token), secret)


async def _add(uow: UnitOfWork, token: ApiToken) -> ApiToken:
    """The token stored; refused while another active token has its name (a revoked token's
    name may be given again)."""
    try:
        return await uow.tokens.add(token)
    except KeyTaken:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"an active token named {token.name!r} exists already (rotate or revoke it, "
            "or choose another name)",
            {"field": "name"},
        ) from None


@dataclass(frozen=True, slots=True)
class RevokeToken(Command):
    name: str
    action: ClassVar[str] = "revokeToken"
    entity_type: ClassVar[str] = "ApiToken"

    def entity_key(self) -> str:
        return self.name


async def revoke_token(cmd: RevokeToken, uow: UnitOfWork, deps: Deps) -> ApiToken:
    token = await uow.tokens.get(cmd.name)
    if token is None:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED, f"no token named {cmd.name!r}", {"field": "name"}
        )
    await uow.tokens.revoke(cmd.name, deps.clock.now())
    revoked = await uow.tokens.get(cmd.name)
    assert revoked is not None
    return revoked


@dataclass(frozen=True, slots=True)
class RotateToken(Command):
    """A new secret for a token's name, scopes, sources and stations; the old secret is
    revoked in the same transaction (never both working, never neither)."""

    name: str
    action: ClassVar[str] = "rotateToken"
    entity_type: ClassVar[str] = "ApiToken"

    def entity_key(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class RotatedToken:
    old: ApiToken
    token: ApiToken
    secret: str


async def rotate_token(cmd: RotateToken, uow: UnitOfWork, deps: Deps) -> RotatedToken:
    old = await uow.tokens.get(cmd.name)
    if old is None or not old.active:
        raise DomainError(
            ErrorCode.VALIDATION_FAILED,
            f"no active token named {cmd.name!r} to rotate (`mes token create` makes one)",
            {"field": "name"},
        )
    now = deps.clock.now()
    await uow.tokens.revoke(cmd.name, now)
    token, secret = new_token(
        old.name, [s.value for s in old.scopes], sorted(old.sources), now, sorted(old.stations)
    )
    return RotatedToken(old, await _add(uow, token), secret)
