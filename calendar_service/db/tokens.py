"""API tokens: created once, shown once, stored only as a SHA-256 hash.

Tokens are 256-bit random values, so a fast hash is the right one: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from calendar_service.db.connection import Storage
from calendar_service.db.events import now_us
from calendar_service.db.tables import tokens

Role = Literal["editor", "admin"]
ROLES: tuple[Role, ...] = ("editor", "admin")
TOKEN_PREFIX = "cal_"


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    role: Role
    prefix: str
    created_us: int
    last_used_us: int | None
    revoked_us: int | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(row: Mapping[str, Any]) -> Token:
    return Token(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        prefix=row["prefix"],
        created_us=row["created_us"],
        last_used_us=row["last_used_us"],
        revoked_us=row["revoked_us"],
    )


async def create_token(storage: Storage, *, name: str, role: Role) -> tuple[Token, str]:
    """A new token and its secret; the secret is not stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with storage.transaction():
        row = await storage.fetch_one(
            tokens.insert()
            .values(
                name=name,
                role=role,
                token_hash=_hash(secret),
                prefix=secret[: len(TOKEN_PREFIX) + 6],
                created_us=now_us(),
            )
            .returning(*tokens.c)
        )
    assert row is not None
    return _token(row), secret


async def find_token(storage: Storage, *, secret: str) -> Token | None:
    """The live token whose secret this is, or ``None``."""
    row = await storage.fetch_one(
        sa.select(tokens).where(tokens.c.token_hash == _hash(secret), tokens.c.revoked_us.is_(None))
    )
    return _token(row) if row is not None else None


async def list_tokens(storage: Storage) -> list[Token]:
    return [_token(r) for r in await storage.fetch_all(sa.select(tokens).order_by(tokens.c.id))]


async def revoke_token(storage: Storage, *, token_id: int) -> bool:
    """Revoke a token; false when there is no such live token."""
    async with storage.transaction():
        row = await storage.fetch_one(
            tokens.update()
            .where(tokens.c.id == token_id, tokens.c.revoked_us.is_(None))
            .values(revoked_us=now_us())
            .returning(tokens.c.id)
        )
    return row is not None
