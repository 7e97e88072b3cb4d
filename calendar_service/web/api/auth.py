"""Bearer-token authentication for the API: who is writing, and may they."""

from __future__ import annotations

from starlette.requests import Request

from calendar_service.db.connection import Storage
from calendar_service.db.tokens import ROLES, Role, Token, find_token
from calendar_service.errors import Forbidden, Unauthorized


async def optional_token(request: Request) -> Token | None:
    """The token the request carries, ``None`` without one; 401 for an unknown token."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("use the header 'Authorization: Bearer <token>'")
    storage: Storage = request.app.state.storage
    token = await find_token(storage, secret=secret.strip())
    if token is None:
        raise Unauthorized("this token is unknown or revoked")
    return token


async def require_role(request: Request, role: Role) -> Token:
    """The request's token, which must have ``role`` or a higher one (401, 403 otherwise)."""
    token = await optional_token(request)
    if token is None:
        raise Unauthorized("this action needs a token: 'Authorization: Bearer <token>'")
    if ROLES.index(token.role) < ROLES.index(role):
        raise Forbidden(
            f"this action needs the {role} role; the token {token.name!r} is {token.role}"
        )
    return token
