"""Who is signed in to the editor pages, and whether a form really comes from our page.

A session is a 256-bit token in the ``calendar_session`` cookie (HttpOnly, SameSite=Lax, Secure
over https). Every form carries a CSRF token: the HMAC, under the service's secret key, of the
session's CSRF secret; the sign-in form, sent before any session exists, uses instead the HMAC
of a random value kept in the ``calendar_csrf`` cookie (a signed double submit). A form sent
from another origin is refused whatever its token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from calendar_service.db import accounts
from calendar_service.db.accounts import Session, User
from calendar_service.db.connection import Storage
from calendar_service.db.events import now_us
from calendar_service.db.tokens import Role
from calendar_service.errors import Forbidden, SignInRequired
from calendar_service.settings import Settings
from calendar_service.web.inputs import read_within

SESSION_COOKIE = "calendar_session"
LOGIN_CSRF_COOKIE = "calendar_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 64_000
# last_seen is written at most this often, not on every page.
TOUCH_EVERY_US = 300 * 1_000_000
_UNKNOWN = object()
EXPIRED = "the form expired or was not sent from this site; reload the page and send it again"


def uses_https(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def csrf_token(settings: Settings, secret: str, *, purpose: str) -> str:
    """The token a form carries for ``secret`` (a session's, or the sign-in cookie's)."""
    message = f"{purpose}:{secret}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


async def current_session(request: Request) -> tuple[Session, User] | None:
    """The request's live session and its user, or ``None`` (looked up once per request)."""
    known = getattr(request.state, "editor_session", _UNKNOWN)
    if known is not _UNKNOWN:
        return cast("tuple[Session, User] | None", known)
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        storage: Storage = request.app.state.storage
        found = await accounts.find_session(storage, token=token)
        if found is not None and now_us() - found[0].last_seen_us > TOUCH_EVERY_US:
            await accounts.touch_session(storage, session_id=found[0].id)
    request.state.editor_session = found
    return found


async def current_user(request: Request) -> User | None:
    """The signed-in user, or ``None``."""
    found = await current_session(request)
    return found[1] if found is not None else None


async def require_session(request: Request, role: Role = "editor") -> tuple[Session, User]:
    """The session of a user with ``role`` or a higher one; browsers without one are sent to
    sign in (``SignInRequired``), others get 401; a lesser role gets 403."""
    found = await current_session(request)
    if found is None:
        raise SignInRequired("sign in at /editor/login to use the editor pages")
    if not found[1].may(role):
        raise Forbidden(f"this page needs the {role} role; {found[1].email} is {found[1].role}")
    return found


async def require_user(request: Request, role: Role = "editor") -> User:
    """The signed-in user, who must have ``role`` or a higher one (see ``require_session``)."""
    return (await require_session(request, role))[1]


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    settings: Settings = request.app.state.settings
    ours = {
        settings.base_url.rstrip("/"),
        f"{request.url.scheme}://{request.url.netloc}",
    }
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in ours


async def read_form(request: Request, *, secret: str | None, purpose: str) -> dict[str, str]:
    """The fields of a form sent from our page (origin and CSRF token checked), or
    ``Forbidden`` naming the problem."""
    form, _ = await read_form_with_file(request, secret=secret, purpose=purpose)
    return form


async def read_form_with_file(
    request: Request,
    *,
    secret: str | None,
    purpose: str,
    file_field: str | None = None,
    max_file_bytes: int = 0,
) -> tuple[dict[str, str], bytes | None]:
    """The fields of a form sent from our page (origin and CSRF token checked) and, for a
    ``multipart/form-data`` form, the file of ``file_field`` (None when none was chosen); at most
    ``MAX_FORM_BYTES`` of fields and ``max_file_bytes`` of file (413 beyond, as it arrives)."""
    if not same_origin(request):
        raise Forbidden("this form was sent from another site; it was refused")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    multipart = media_type == "multipart/form-data" and file_field is not None
    limit = MAX_FORM_BYTES + (max_file_bytes if multipart else 0)
    body = await read_within(request, limit, too_large=_too_large(limit, multipart))
    data: bytes | None = None
    if multipart:
        request._body = body  # the form parser reads the body already read and counted
        try:
            parsed = await request.form(max_files=1, max_fields=1000, max_part_size=MAX_FORM_BYTES)
        except Exception:  # python-multipart's errors: a malformed form
            parsed = None
        form: dict[str, str] = {}
        if parsed is not None:
            for key, value in parsed.multi_items():
                if isinstance(value, str):
                    form[key] = value
                elif key == file_field:
                    data = await value.read() or None
            await parsed.close()
    else:
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}
    sent = form.get(CSRF_FIELD, "")
    settings: Settings = request.app.state.settings
    if (
        not secret
        or not sent
        or not hmac.compare_digest(sent, csrf_token(settings, secret, purpose=purpose))
    ):
        raise Forbidden(EXPIRED)
    return form, data


def _too_large(limit: int, multipart: bool) -> str:
    if multipart:
        return f"a form and its picture may not exceed {limit} bytes"
    return f"a form may not exceed {limit} bytes"


def login_nonce(request: Request) -> tuple[str, bool]:
    """The sign-in form's double-submit value: the browser's, or a new one (then ``True``)."""
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    if nonce and len(nonce) <= 100:
        return nonce, False
    return secrets.token_urlsafe(32), True


def set_login_nonce(
    response: Response, settings: Settings, nonce: str, *, path: str = "/editor"
) -> None:
    """Keep the double-submit value in the browser, sent back to the pages under ``path``
    only (the sign-in form's, or the public proposal form's)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        path=path,
        httponly=True,
        secure=uses_https(settings),
        samesite="strict",
    )


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86_400,
        path="/",
        httponly=True,
        secure=uses_https(settings),
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=uses_https(settings), samesite="lax"
    )


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 32 for c in value)
    ):
        return "/editor"
    return value
