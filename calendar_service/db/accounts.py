"""Editor accounts: users with argon2 password hashes, their sessions, and failed sign-ins.

Session cookies carry a 256-bit random token; only its SHA-256 is stored (as for API tokens,
there is nothing to guess, so a fast hash is the right one). Passwords are hashed with argon2id.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from calendar_service.db.connection import Storage, is_unique_violation
from calendar_service.db.events import now_us
from calendar_service.db.tables import sessions, users
from calendar_service.db.tokens import ROLES, Role
from calendar_service.errors import Conflict, ValidationFailed

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Tests swap in cheaper parameters; sign-in rehashes a password made with other parameters.
hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: Role
    created_us: int
    password_changed_us: int
    disabled_us: int | None

    def may(self, role: Role) -> bool:
        """Whether this user has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Session:
    id: str
    user_id: int
    created_us: int
    last_seen_us: int
    expires_us: int
    csrf_secret: str


def _user(row: Mapping[str, Any]) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        created_us=row["created_us"],
        password_changed_us=row["password_changed_us"],
        disabled_us=row["disabled_us"],
    )


def normalise_email(email: str) -> str:
    """The e-mail as stored (trimmed, lower-cased); ``ValidationFailed`` when it is not one."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL.match(cleaned):
        raise ValidationFailed(
            "not an e-mail address",
            errors=[{"field": "email", "message": f"{email!r} is not an e-mail address"}],
        )
    return cleaned


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or ``None`` when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password may have at most {MAX_PASSWORD_LENGTH} characters"
    return None


def _checked_hash(password: str, field: str = "password") -> str:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, errors=[{"field": field, "message": problem}])
    return hasher.hash(password)


async def create_user(storage: Storage, *, email: str, password: str, role: Role) -> User:
    """A new account; ``ValidationFailed`` for a bad e-mail or password, ``Conflict`` when the
    e-mail already has one."""
    address = normalise_email(email)
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    password_hash = await asyncio.to_thread(_checked_hash, password)
    now = now_us()
    try:
        async with storage.transaction():
            row = await storage.fetch_one(
                users.insert()
                .values(
                    email=address,
                    password_hash=password_hash,
                    role=role,
                    created_us=now,
                    password_changed_us=now,
                )
                .returning(*users.c)
            )
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict(f"there is already an account for {address}") from None
        raise
    assert row is not None
    return _user(row)


async def find_user(storage: Storage, *, email: str) -> User | None:
    row = await storage.fetch_one(sa.select(users).where(users.c.email == email.strip().lower()))
    return _user(row) if row is not None else None


async def get_user(storage: Storage, *, user_id: int) -> User | None:
    row = await storage.fetch_one(sa.select(users).where(users.c.id == user_id))
    return _user(row) if row is not None else None


async def list_users(storage: Storage) -> list[User]:
    return [_user(r) for r in await storage.fetch_all(sa.select(users).order_by(users.c.email))]


async def set_disabled(storage: Storage, *, user_id: int, disabled: bool) -> None:
    """Disable an account (its sessions end) or enable it again."""
    async with storage.transaction():
        await storage.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(disabled_us=now_us() if disabled else None)
        )
        if disabled:
            await storage.execute(sessions.delete().where(sessions.c.user_id == user_id))


_dummy_hash: list[str] = []


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_password(storage: Storage, *, email: str, password: str) -> User | None:
    """The enabled user with this e-mail and password, or ``None``. An unknown e-mail costs as
    much time as a wrong password; a hash made with other parameters is made again. Hashing
    runs in a thread: it takes tens of milliseconds on purpose."""
    row = await storage.fetch_one(sa.select(users).where(users.c.email == email.strip().lower()))
    if row is None or len(password) > MAX_PASSWORD_LENGTH:
        if not _dummy_hash:
            _dummy_hash.append(await asyncio.to_thread(hasher.hash, "not anyone's password"))
        await asyncio.to_thread(_verify, _dummy_hash[0], password[:MAX_PASSWORD_LENGTH])
        return None
    if not await asyncio.to_thread(_verify, row["password_hash"], password):
        return None
    if row["disabled_us"] is not None:
        return None
    if hasher.check_needs_rehash(row["password_hash"]):
        await storage.execute(
            users.update()
            .where(users.c.id == row["id"])
            .values(password_hash=await asyncio.to_thread(hasher.hash, password))
        )
    return _user(row)


async def set_password(
    storage: Storage, *, user_id: int, password: str, keep_session: str | None = None
) -> None:
    """Change a password and end every session of the user but ``keep_session``."""
    password_hash = await asyncio.to_thread(_checked_hash, password, "new_password")
    async with storage.transaction():
        await storage.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, password_changed_us=now_us())
        )
        ended = sessions.delete().where(sessions.c.user_id == user_id)
        if keep_session is not None:
            ended = ended.where(sessions.c.id != keep_session)
        await storage.execute(ended)


def session_id(token: str) -> str:
    """The stored id of the session a cookie token opens."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(
    storage: Storage, *, user_id: int, lifetime_s: int, user_agent: str | None
) -> tuple[Session, str]:
    """A new session and the token for its cookie (not stored)."""
    token = secrets.token_urlsafe(32)
    now = now_us()
    session = Session(
        id=session_id(token),
        user_id=user_id,
        created_us=now,
        last_seen_us=now,
        expires_us=now + lifetime_s * 1_000_000,
        csrf_secret=secrets.token_hex(32),
    )
    async with storage.transaction():
        # Expired sessions are cleared as new ones open: the table stays the size of its use.
        await storage.execute(sessions.delete().where(sessions.c.expires_us < now))
        await storage.execute(
            sessions.insert().values(
                id=session.id,
                user_id=user_id,
                created_us=now,
                last_seen_us=now,
                expires_us=session.expires_us,
                csrf_secret=session.csrf_secret,
                user_agent=(user_agent or "")[:200] or None,
            )
        )
    return session, token


async def find_session(storage: Storage, *, token: str) -> tuple[Session, User] | None:
    """The live session a cookie token opens and its enabled user, or ``None``."""
    row = await storage.fetch_one(
        sa.select(
            sessions,
            users.c.email,
            users.c.role,
            users.c.password_changed_us,
            users.c.created_us.label("user_created_us"),
        )
        .select_from(sessions)
        .join(users, users.c.id == sessions.c.user_id)
        .where(
            sessions.c.id == session_id(token),
            sessions.c.expires_us > now_us(),
            users.c.disabled_us.is_(None),
        )
    )
    if row is None:
        return None
    session = Session(
        id=row["id"],
        user_id=row["user_id"],
        created_us=row["created_us"],
        last_seen_us=row["last_seen_us"],
        expires_us=row["expires_us"],
        csrf_secret=row["csrf_secret"],
    )
    user = User(
        id=row["user_id"],
        email=row["email"],
        role=row["role"],
        created_us=row["user_created_us"],
        password_changed_us=row["password_changed_us"],
        disabled_us=None,
    )
    return session, user


async def touch_session(storage: Storage, *, session_id: str) -> None:
    await storage.execute(
        sessions.update().where(sessions.c.id == session_id).values(last_seen_us=now_us())
    )


async def end_session(storage: Storage, *, session_id: str) -> None:
    await storage.execute(sessions.delete().where(sessions.c.id == session_id))


async def count_sessions(storage: Storage, *, user_id: int) -> int:
    return int(
        await storage.fetch_val(
            sa.select(sa.func.count()).select_from(sessions).where(sessions.c.user_id == user_id)
        )
    )
