"""What every signed-in editor page shares: its language, the navigation of the editor space,
the CSRF token of the session, and rendering with ``Cache-Control: no-store``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from calendar_service.db.accounts import Session, User
from calendar_service.errors import ServiceError
from calendar_service.settings import Settings
from calendar_service.web.editor.sessions import CSRF_FIELD, csrf_token
from calendar_service.web.html import PAGE_HEADERS, render_page, ui_language

NO_STORE = {**PAGE_HEADERS, "Cache-Control": "no-store"}

NAV_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "editor_nav": "Espace éditeur",
        "nav_home": "Accueil éditeur",
        "nav_events": "Événements",
        "nav_new": "Nouvel événement",
        "nav_proposals": "Propositions",
        "nav_users": "Comptes",
        "nav_tokens": "Jetons d'API",
        "nav_password": "Mot de passe",
        "nav_sign_out": "Se déconnecter",
        "signed_in_as": "Connecté·e : {email}",
    },
    "en": {
        "editor_nav": "Editor space",
        "nav_home": "Editor home",
        "nav_events": "Events",
        "nav_new": "New event",
        "nav_proposals": "Proposals",
        "nav_users": "Accounts",
        "nav_tokens": "API tokens",
        "nav_password": "Password",
        "nav_sign_out": "Sign out",
        "signed_in_as": "Signed in: {email}",
    },
}


def editor_ui(request: Request) -> tuple[str, str]:
    """The page's language and the query that keeps it in links and form actions
    (``""`` or ``"?lang=en"``)."""
    settings: Settings = request.app.state.settings
    ui = ui_language(request.query_params.get("lang"), settings)
    return ui, "" if ui == settings.default_language else f"?lang={ui}"


def with_lang(path: str, lang_query: str) -> str:
    """``path`` keeping the page's language (``path`` may already carry a query)."""
    if not lang_query:
        return path
    return path + ("&" + lang_query[1:] if "?" in path else lang_query)


def render_editor(
    request: Request,
    template: str,
    session: Session,
    user: User,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """An editor page: ``template`` extends ``pages/base.html`` and includes
    ``pages/_editor_nav.html``; the context gains ui, lang_query, nav, user, csrf_field, csrf."""
    ui, lang_query = editor_ui(request)
    settings: Settings = request.app.state.settings
    shared = {
        "ui": ui,
        "lang_query": lang_query,
        "nav": NAV_WORDS[ui],
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(settings, session.csrf_secret, purpose="session"),
    }
    return render_page(
        request,
        template,
        {**shared, **context},
        status=status,
        headers={**NO_STORE, **(headers or {})},
    )


def editor_refusal(request: Request, error: ServiceError) -> Response:
    """A refused editor form: an HTML page naming the problem, whatever the client accepts."""
    ui, _ = editor_ui(request)
    return render_page(
        request,
        "pages/error.html",
        {"error": error, "ui": ui},
        status=error.status,
        headers=NO_STORE,
    )
