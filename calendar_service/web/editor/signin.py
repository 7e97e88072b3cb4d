"""Signing in to the editor pages: sign-in (slowed and limited per account and per address),
sign-out, password change, and the signed-in landing page."""

from __future__ import annotations

import asyncio
import math

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from calendar_service.db import accounts, limits
from calendar_service.db import proposals as proposal_store
from calendar_service.db.connection import Storage
from calendar_service.db.events import now_us
from calendar_service.errors import ServiceError
from calendar_service.settings import Settings
from calendar_service.web.editor.common import NO_STORE, editor_refusal, editor_ui, render_editor
from calendar_service.web.editor.sessions import (
    CSRF_FIELD,
    clear_session_cookie,
    csrf_token,
    login_nonce,
    read_form,
    require_session,
    safe_next,
    set_login_nonce,
    set_session_cookie,
)
from calendar_service.web.html import render_page

FAILURE_WINDOW_US = 15 * 60 * 1_000_000
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "login_title": "Connexion",
        "login_lead": "Espace de l'équipe qui publie l'agenda.",
        "email": "Adresse e-mail",
        "password": "Mot de passe",
        "sign_in": "Se connecter",
        "sign_out": "Se déconnecter",
        "failed": "Adresse e-mail ou mot de passe incorrect.",
        "limited": "Trop de tentatives de connexion ont échoué. Réessayez dans {minutes} min.",
        "need_email": "Indiquez votre adresse e-mail.",
        "need_password": "Indiquez votre mot de passe.",
        "home_title": "Espace éditeur",
        "hello": "Bonjour, {email}",
        "role_editor": "Vous êtes éditeur ou éditrice.",
        "role_admin": "Vous êtes administrateur ou administratrice.",
        "change_password": "Changer de mot de passe",
        "password_title": "Changer de mot de passe",
        "current_password": "Mot de passe actuel",
        "new_password": "Nouveau mot de passe",
        "new_password_help": "Au moins {n} caractères ; une phrase facile à retenir convient.",
        "new_password_again": "Nouveau mot de passe, une seconde fois",
        "save_password": "Enregistrer le mot de passe",
        "wrong_current": "Ce n'est pas votre mot de passe actuel.",
        "too_short": "Le mot de passe doit avoir au moins {n} caractères.",
        "too_long": "Le mot de passe est trop long.",
        "mismatch": "Les deux saisies du nouveau mot de passe diffèrent.",
        "password_changed": "Mot de passe changé. Vos autres sessions ont été fermées.",
        "back": "Retour à l'espace éditeur",
        "tasks": "Que voulez-vous faire ?",
        "task_new": "Saisir un nouvel événement",
        "task_list": "Voir et modifier les événements",
        "task_proposals": "Relire les propositions ({n} en attente)",
        "task_users": "Gérer les comptes",
        "task_tokens": "Gérer les jetons d'API",
    },
    "en": {
        "login_title": "Sign in",
        "login_lead": "For the team that publishes the calendar.",
        "email": "E-mail address",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "failed": "Wrong e-mail address or password.",
        "limited": "Too many failed sign-ins. Try again in {minutes} min.",
        "need_email": "Enter your e-mail address.",
        "need_password": "Enter your password.",
        "home_title": "Editor space",
        "hello": "Hello, {email}",
        "role_editor": "You are an editor.",
        "role_admin": "You are an administrator.",
        "change_password": "Change password",
        "password_title": "Change password",
        "current_password": "Current password",
        "new_password": "New password",
        "new_password_help": "At least {n} characters; an easy-to-remember sentence is fine.",
        "new_password_again": "New password, once more",
        "save_password": "Save the password",
        "wrong_current": "This is not your current password.",
        "too_short": "The password must have at least {n} characters.",
        "too_long": "The password is too long.",
        "mismatch": "The two entries of the new password differ.",
        "password_changed": "Password changed. Your other sessions have been ended.",
        "back": "Back to the editor space",
        "tasks": "What do you want to do?",
        "task_new": "Enter a new event",
        "task_list": "See and edit the events",
        "task_proposals": "Review the proposals ({n} waiting)",
        "task_users": "Manage the accounts",
        "task_tokens": "Manage the API tokens",
    },
}


async def slow_down(failures: int) -> None:
    """Wait a little longer after each failed sign-in (tests replace this)."""
    await asyncio.sleep(min(0.2 * failures, 2.0))


def _login_page(
    request: Request,
    *,
    nonce: str,
    email: str = "",
    next_path: str = "/editor",
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    ui, lang_query = editor_ui(request)
    settings: Settings = request.app.state.settings
    response = render_page(
        request,
        "pages/login.html",
        {
            "ui": ui,
            "w": WORDS[ui],
            "lang_query": lang_query,
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_token(settings, nonce, purpose="login"),
            "email": email,
            "next": next_path,
            "errors": errors or {},
            "message": message,
        },
        status=status,
        headers={**NO_STORE, **(headers or {})},
    )
    set_login_nonce(response, settings, nonce)
    return response


async def login_page(request: Request) -> Response:
    nonce, _ = login_nonce(request)
    return _login_page(request, nonce=nonce, next_path=safe_next(request.query_params.get("next")))


def _limits(account_key: str, address_key: str | None = None) -> list[limits.Limit]:
    found = [limits.Limit(account_key, ACCOUNT_LIMIT, FAILURE_WINDOW_US)]
    if address_key is not None:
        found.append(limits.Limit(address_key, ADDRESS_LIMIT, FAILURE_WINDOW_US))
    return found


async def _failed(storage: Storage, account_key: str) -> None:
    """Slow a failed attempt down by the account's recent failures."""
    failures = await limits.hits(storage, account_key, since_us=now_us() - FAILURE_WINDOW_US)
    await slow_down(failures)


async def login(request: Request) -> Response:
    nonce, new = login_nonce(request)
    try:
        form = await read_form(request, secret=None if new else nonce, purpose="login")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    email = form.get("email", "").strip()[:254]
    password = form.get("password", "")
    next_path = safe_next(form.get("next"))
    errors = {}
    if not email:
        errors["email"] = w["need_email"]
    if not password:
        errors["password"] = w["need_password"]
    if errors:
        return _login_page(
            request, nonce=nonce, email=email, next_path=next_path, errors=errors, status=400
        )
    storage: Storage = request.app.state.storage
    settings: Settings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    account_key, address_key = f"account:{email.lower()}", f"address:{address}"
    # Counted before the password is checked, under a lock in the database: concurrent
    # attempts (from any process) cannot all find room under the limit.
    taken = await limits.take(storage, _limits(account_key, address_key))
    if taken.retry_after is not None:
        return _login_page(
            request,
            nonce=nonce,
            email=email,
            next_path=next_path,
            message=w["limited"].format(minutes=math.ceil(taken.retry_after / 60)),
            status=429,
            headers={"Retry-After": str(taken.retry_after)},
        )
    user = await accounts.check_password(storage, email=email, password=password)
    if user is None:
        await _failed(storage, account_key)
        return _login_page(
            request, nonce=nonce, email=email, next_path=next_path, message=w["failed"], status=400
        )
    await limits.release(storage, taken)
    await limits.forget(storage, account_key)
    _, token = await accounts.create_session(
        storage,
        user_id=user.id,
        lifetime_s=settings.session_days * 86_400,
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, settings, token)
    return response


async def logout(request: Request) -> Response:
    session, _ = await require_session(request)
    try:
        await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    settings: Settings = request.app.state.settings
    await accounts.end_session(request.app.state.storage, session_id=session.id)
    _, lang_query = editor_ui(request)
    response = RedirectResponse(f"/editor/login{lang_query}", status_code=303)
    clear_session_cookie(response, settings)
    return response


async def editor_home(request: Request) -> Response:
    session, user = await require_session(request)
    ui, _ = editor_ui(request)
    waiting = await proposal_store.pending_proposals(request.app.state.storage)
    return render_editor(
        request,
        "pages/editor.html",
        session,
        user,
        {"w": WORDS[ui], "pending": len(waiting)},
    )


def _password_page(
    request: Request,
    session: accounts.Session,
    user: accounts.User,
    *,
    errors: dict[str, str] | None = None,
    done: bool = False,
    status: int = 200,
) -> Response:
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    return render_editor(
        request,
        "pages/password.html",
        session,
        user,
        {
            "w": w,
            "help": w["new_password_help"].format(n=accounts.MIN_PASSWORD_LENGTH),
            "errors": errors or {},
            "done": done,
        },
        status=status,
    )


async def password_page(request: Request) -> Response:
    session, user = await require_session(request)
    return _password_page(request, session, user)


async def change_password(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        form = await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    storage: Storage = request.app.state.storage
    current = form.get("current_password", "")
    new = form.get("new_password", "")
    again = form.get("new_password_again", "")
    errors = {}
    # Guessing the current password from a stolen session counts as failed sign-ins.
    account_key = f"account:{user.email.lower()}"
    taken = await limits.take(storage, _limits(account_key))
    if taken.retry_after is not None:
        errors["current_password"] = w["limited"].format(minutes=math.ceil(taken.retry_after / 60))
        return _password_page(request, session, user, errors=errors, status=429)
    if await accounts.check_password(storage, email=user.email, password=current) is None:
        errors["current_password"] = w["wrong_current"]
        await _failed(storage, account_key)
    else:
        await limits.release(storage, taken)
    if len(new) < accounts.MIN_PASSWORD_LENGTH:
        errors["new_password"] = w["too_short"].format(n=accounts.MIN_PASSWORD_LENGTH)
    elif accounts.password_problem(new):
        errors["new_password"] = w["too_long"]
    elif new != again:
        errors["new_password_again"] = w["mismatch"]
    if errors:
        return _password_page(request, session, user, errors=errors, status=400)
    await accounts.set_password(storage, user_id=user.id, password=new, keep_session=session.id)
    return _password_page(request, session, user, done=True)


routes = [
    Route("/editor", editor_home, methods=["GET"]),
    Route("/editor/login", login_page, methods=["GET"]),
    Route("/editor/login", login, methods=["POST"]),
    Route("/editor/logout", logout, methods=["POST"]),
    Route("/editor/password", password_page, methods=["GET"]),
    Route("/editor/password", change_password, methods=["POST"]),
]
