"""What every HTML page of the service shares: security headers, the site's words, rendering a
page template, and the upcoming occurrences that pages list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from calendar_service.dates import epoch, utc_now
from calendar_service.db.listings import (
    EventFilter,
    StoredOccurrence,
    list_occurrences,
)
from calendar_service.settings import Settings

# Our pages load only what we serve and are never framed by others; the embed alone may be
# framed by any site.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "interest-cohort=(), browsing-topics=()",
    "Cache-Control": "no-cache",
}
EMBED_HEADERS = {
    **{k: v for k, v in PAGE_HEADERS.items() if k != "X-Frame-Options"},
    "Content-Security-Policy": PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *"),
    "Referrer-Policy": "no-referrer",
}
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

SITE_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "skip": "Aller au contenu",
        "nav": "Navigation principale",
        "home": "Accueil",
        "agenda": "Agenda",
        "embed": "Intégrer l'agenda",
        "newsletter": "Newsletter",
        "propose": "Proposer un événement",
        "other_language": "English",
        "other_language_label": "Read this page in English",
    },
    "en": {
        "skip": "Skip to content",
        "nav": "Main navigation",
        "home": "Home",
        "agenda": "Calendar",
        "embed": "Embed the calendar",
        "newsletter": "Newsletter",
        "propose": "Propose an event",
        "other_language": "Français",
        "other_language_label": "Lire cette page en français",
    },
}


def ui_language(lang: str | None, settings: Settings) -> str:
    """The language a page speaks: the asked one when the site has words for it."""
    chosen = lang or settings.default_language
    return chosen if chosen in SITE_WORDS else "en"


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page template rendered with the site's shared context (language, words, links)."""
    state = request.app.state
    settings: Settings = state.settings
    ui = context.get("ui") or ui_language(None, settings)
    other = next((code for code in ("fr", "en") if code != ui), "fr")
    # The same page in the other language keeps what the query asked (an agenda's filters).
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    if other != settings.default_language:
        kept.append(("lang", other))
    shared = {
        "ui": ui,
        "site": SITE_WORDS[ui],
        "organisation": settings.organisation_name,
        "path": request.url.path,
        "other_lang": other,
        "other_lang_url": request.url.path + ("?" + urlencode(kept) if kept else ""),
        "lang_query": "?lang=" + ui if ui != settings.default_language else "",
    }
    html = state.templates.html.get_template(template).render({**shared, **context})
    return HTMLResponse(html, status_code=status, headers=headers or PAGE_HEADERS)


async def upcoming(
    request: Request,
    *,
    flt: EventFilter,
    limit: int,
    days: int | None = None,
    distinct: bool = False,
) -> list[StoredOccurrence]:
    """The next ``limit`` occurrences from now, however far they are, within ``days``
    (``CALENDAR_LOOKAHEAD_DAYS`` unless told); with ``distinct``, each event once, at its next
    occurrence. The query reads the first ``limit`` by start: a long window costs no more."""
    state = request.app.state
    settings: Settings = state.settings
    days = settings.lookahead_days if days is None else days
    now = epoch(utc_now())
    found, _ = await list_occurrences(
        state.storage,
        flt=flt,
        from_ts=now,
        to_ts=now + days * 86_400,
        limit=limit,
        cursor=None,
        cap=settings.max_occurrences,
        once=distinct,
    )
    return found
