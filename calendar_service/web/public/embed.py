"""Ways for partner sites to show our events: the web component ``/widget.js``, the iframe embed
``/embed/{feed}`` (server-rendered, works without JavaScript), its colours ``/embed/theme.css``,
and the embed builder ``/embed``."""

from __future__ import annotations

import hashlib
import re
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.db.listings import EventFilter
from calendar_service.digits import is_number
from calendar_service.errors import NotFound
from calendar_service.feedspec import FeedDefinition
from calendar_service.render.pages import occurrence_item
from calendar_service.resilience import render_each
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES
from calendar_service.web.html import EMBED_HEADERS, LANGUAGE_NAMES, render_page, upcoming
from calendar_service.web.inputs import feed_filter, named_feed, within

LAYOUTS = ("list", "compact", "cards")
# What a host page adds, if it wants the iframe to take the height of its content.
RESIZE_SCRIPT = """<script>
addEventListener("message", (e) => {
  if (e.origin !== "ORIGIN" || e.data?.type !== "calendar-embed:height") return;
  for (const f of document.querySelectorAll("iframe"))
    if (f.contentWindow === e.source) f.style.height = e.data.height + "px";
});
</script>"""
THEMES = ("light", "dark", "auto")
DEFAULT_ACCENT = "a01f50"
HEX = re.compile(r"^[0-9a-fA-F]{6}$")

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "online": "En ligne",
        "add": "Ajouter à mon agenda",
        "none": "Aucun événement à venir.",
        "subscribe": "S'abonner à l'agenda",
        "new_window": "(nouvelle fenêtre)",
        "builder_title": "Intégrer l'agenda à un site",
        "builder_lead": "Choisissez ce que le site partenaire doit montrer, puis copiez l'une "
        "des deux façons de l'intégrer : le composant (une ligne de script, s'adapte au site) "
        "ou le cadre (iframe, pour les sites qui n'acceptent pas les scripts).",
        "feed": "Agenda",
        "category": "Catégorie",
        "any_category": "Toutes",
        "tag": "Mot-clé (facultatif)",
        "layout": "Présentation",
        "layout_list": "Liste",
        "layout_compact": "Compacte",
        "layout_cards": "Cartes",
        "language": "Langue",
        "limit": "Nombre d'événements",
        "accent": "Couleur d'accent",
        "theme": "Thème",
        "theme_auto": "Celui du système du visiteur",
        "once": "Chaque série une seule fois",
        "once_help": "Une permanence hebdomadaire n'occupe qu'une place, à sa prochaine date.",
        "theme_light": "Clair",
        "theme_dark": "Sombre",
        "update_preview": "Mettre à jour l'aperçu",
        "preview": "Aperçu",
        "preview_widget": "Le composant",
        "preview_frame": "Le cadre (iframe)",
        "frame_title": "Aperçu de l'agenda intégré",
        "snippets": "Le code à copier",
        "snippet_widget": "Composant (recommandé)",
        "snippet_widget_help": "À coller dans la page du site partenaire. Aucun cookie, aucune "
        "requête vers un autre site que le nôtre.",
        "snippet_frame": "Cadre (iframe)",
        "snippet_frame_help": "Pour les sites qui refusent les scripts ; le petit script qui suit "
        "ajuste la hauteur du cadre, il est facultatif.",
        "copy_widget": "Copier le code du composant",
        "copy_frame": "Copier le code du cadre",
        "copied": "Copié dans le presse-papiers.",
    },
    "en": {
        "online": "Online",
        "add": "Add to my calendar",
        "none": "No upcoming events.",
        "subscribe": "Subscribe to the calendar",
        "new_window": "(new window)",
        "builder_title": "Embed the calendar in a site",
        "builder_lead": "Choose what the partner site shows, then copy one of the two ways to "
        "embed it: the component (one script line, fits the site) or the frame (iframe, for "
        "sites that refuse scripts).",
        "feed": "Calendar",
        "category": "Category",
        "any_category": "All",
        "tag": "Tag (optional)",
        "layout": "Layout",
        "layout_list": "List",
        "layout_compact": "Compact",
        "layout_cards": "Cards",
        "language": "Language",
        "limit": "Number of events",
        "accent": "Accent colour",
        "theme": "Theme",
        "theme_auto": "The visitor's system's",
        "once": "Each series once",
        "once_help": "A weekly drop-in session takes one place, at its next date.",
        "theme_light": "Light",
        "theme_dark": "Dark",
        "update_preview": "Update the preview",
        "preview": "Preview",
        "preview_widget": "The component",
        "preview_frame": "The frame (iframe)",
        "frame_title": "Preview of the embedded calendar",
        "snippets": "The code to copy",
        "snippet_widget": "Component (recommended)",
        "snippet_widget_help": "Paste it into the partner site's page. No cookie, no request to "
        "any site but ours.",
        "snippet_frame": "Frame (iframe)",
        "snippet_frame_help": "For sites that refuse scripts; the small script after it adjusts "
        "the frame's height and may be left out.",
        "copy_widget": "Copy the component's code",
        "copy_frame": "Copy the frame's code",
        "copied": "Copied to the clipboard.",
    },
}


class Widget:
    """``widget.js`` read once from the package, with its validators."""

    def __init__(self) -> None:
        path = resources.files("calendar_service") / "static" / "widget.js"
        self.body = path.read_bytes() if path.is_file() else b""
        self.etag = f'"{hashlib.sha256(self.body).hexdigest()[:20]}"'


async def widget_js(request: Request) -> Response:
    """``GET /widget.js``: the web component. Loaded by any site; cached for an hour."""
    widget: Widget = request.app.state.widget
    if not widget.body:
        raise NotFound("widget.js is not built into this installation")
    headers = {
        "ETag": widget.etag,
        "Cache-Control": "public, max-age=3600",
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if widget.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(widget.body, headers=headers, media_type="text/javascript; charset=utf-8")


class EmbedChoices:
    """What an embed shows, read from the query; mistakes fall back to defaults (an embed on a
    partner's site should show something rather than an error)."""

    def __init__(self, request: Request, settings: Settings) -> None:
        params = request.query_params
        lang = params.get("lang") or settings.default_language
        self.lang = lang if lang in settings.languages else settings.default_language
        self.ui = self.lang if self.lang in WORDS else "en"
        limit = params.get("limit") or "5"
        self.limit = min(max(int(limit), 1), 50) if is_number(limit) and len(limit) < 6 else 5
        layout = params.get("layout") or "list"
        self.layout = layout if layout in LAYOUTS else "list"
        # Light unless the host asks: a dark box on a light partner site, for every visitor
        # whose system is dark, is worse than a light one on a dark site.
        theme = params.get("theme") or "light"
        self.theme = theme if theme in THEMES else "light"
        # Each series once (at its next date): the builder's default; the iframe's URL says it.
        self.once = "once" in params and params.getlist("once")[-1] in ("1", "true", "on", "")
        horizon = params.get("horizon") or ""
        self.horizon = (
            min(max(int(horizon), 1), settings.max_window_days)
            if is_number(horizon) and len(horizon) < 6
            else settings.lookahead_days
        )
        accent = (params.get("accent") or DEFAULT_ACCENT).removeprefix("#")
        self.accent = accent.lower() if HEX.match(accent) else DEFAULT_ACCENT
        category = params.get("category") or ""
        self.category = category if category in CATEGORIES else ""
        self.tag = (params.get("tag") or "").strip().lower()[:50]

    def narrow(self, flt: EventFilter) -> EventFilter:
        """A feed's filter narrowed by the chosen category and tag (never widened)."""
        return within(
            flt,
            categories=[self.category] if self.category else [],
            tags=[self.tag] if self.tag else [],
        )

    def query(self, **extra: str) -> str:
        values = {
            "limit": str(self.limit),
            "lang": self.lang,
            "layout": self.layout,
            **({"category": self.category} if self.category else {}),
            **({"tag": self.tag} if self.tag else {}),
            **({"accent": self.accent} if self.accent != DEFAULT_ACCENT else {}),
            **({"theme": self.theme} if self.theme != "light" else {}),
            **({"once": "1"} if self.once else {}),
            **extra,
        }
        return urlencode(values)


async def embed(request: Request) -> Response:
    """``GET /embed/{feed}``: the upcoming events as a page made to sit in an iframe."""
    state = request.app.state
    settings: Settings = state.settings
    feed = named_feed(request, "feed")
    choices = EmbedChoices(request, settings)
    found = await upcoming(
        request,
        flt=choices.narrow(feed_filter(feed)),
        limit=choices.limit,
        days=choices.horizon,
        distinct=choices.once,
    )
    brand = state.templates.brand
    items = render_each(
        found,
        lambda o: occurrence_item(o.event, o.start_ts, o.end_ts, lang=choices.lang, brand=brand),
        what="the embed",
        ident=lambda o: o.event.id,
    )
    subscribe = f"{settings.base_url}/feeds/{feed.slug}.ics" + (
        f"?lang={choices.lang}" if choices.lang != settings.default_language else ""
    )
    context: dict[str, Any] = {
        "ui": choices.ui,
        "lang": choices.lang,
        "w": WORDS[choices.ui],
        "title": feed.text(feed.title, choices.lang, settings.default_language),
        "items": items,
        "layout": choices.layout,
        "theme_url": "/embed/theme.css?"
        + urlencode({"accent": choices.accent, "theme": choices.theme}),
        "subscribe_url": subscribe,
    }
    return render_page(request, "pages/embed.html", context, headers=EMBED_HEADERS)


async def theme_css(request: Request) -> Response:
    """``GET /embed/theme.css?accent=&theme=``: an embed's colours (our CSP allows no inline
    style, so they come as a stylesheet of our own)."""
    choices = EmbedChoices(request, request.app.state.settings)
    rules = [f":root {{ --calendar-accent: #{choices.accent}; }}"]
    if choices.theme == "light":
        rules.append(
            ":root { color-scheme: light; --calendar-bg: #ffffff; --calendar-fg: #1f1f1f; "
            "--calendar-muted: #4a4a4a; --calendar-border: #c8c8c8; }"
        )
    elif choices.theme == "dark":
        rules.append(
            ":root { color-scheme: dark; --calendar-bg: #151515; --calendar-fg: #f0f0f0; "
            "--calendar-muted: #c4c4c4; --calendar-border: #555555; "
            "--calendar-accent: var(--calendar-accent-dark, #ff8fb8); }"
        )
    return Response(
        "\n".join(rules) + "\n",
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


async def builder(request: Request) -> Response:
    """``GET /embed``: choose feed, filters, layout, language and colours; see both embeds;
    copy the snippet."""
    state = request.app.state
    settings: Settings = state.settings
    feeds: dict[str, FeedDefinition] = state.feeds
    choices = EmbedChoices(request, settings)
    if "once" not in request.query_params:
        choices.once = True  # suggested: a weekly drop-in session takes one place, not four
    slug = request.query_params.get("feed") or next(iter(feeds), "agenda")
    if slug not in feeds:
        slug = next(iter(feeds), "agenda")
    base = settings.base_url
    attributes = {
        "feed": slug,
        "limit": str(choices.limit),
        "lang": choices.lang,
        "layout": choices.layout,
        **({"category": choices.category} if choices.category else {}),
        **({"tag": choices.tag} if choices.tag else {}),
        **({"theme": choices.theme} if choices.theme != "light" else {}),
    }
    shown = " ".join(f'{k}="{escape(v)}"' for k, v in attributes.items())
    if choices.once:
        shown += " once"
    style = (
        f' style="--calendar-accent: #{choices.accent}"' if choices.accent != DEFAULT_ACCENT else ""
    )
    widget_snippet = (
        f'<script src="{base}/widget.js" defer></script>\n'
        f"<calendar-events {shown}{style}></calendar-events>"
    )
    frame_src = f"{base}/embed/{slug}?{choices.query()}"
    feed_title = feeds[slug].text(feeds[slug].title, choices.lang, settings.default_language)
    frame_snippet = (
        f'<iframe src="{escape(frame_src)}" title="{escape(feed_title)}" '
        'width="100%" height="600" style="border:0" loading="lazy"></iframe>\n'
        + RESIZE_SCRIPT.replace("ORIGIN", base)
    )
    context: dict[str, Any] = {
        "ui": choices.ui,
        "lang": choices.lang,
        "w": WORDS[choices.ui],
        "feeds": [
            {"slug": f.slug, "title": f.text(f.title, choices.ui, settings.default_language)}
            for f in feeds.values()
        ],
        "categories": [(k, v.get(choices.ui, v["en"])) for k, v in CATEGORIES.items()],
        "languages": [(c, LANGUAGE_NAMES.get(c, c)) for c in settings.languages],
        "layouts": LAYOUTS,
        "themes": THEMES,
        "chosen": {
            **attributes,
            "accent": choices.accent,
            "theme": choices.theme,
            "once": choices.once,
            "category": choices.category,
            "tag": choices.tag,
        },
        "frame_src": f"/embed/{slug}?{choices.query()}",
        "widget_snippet": widget_snippet,
        "frame_snippet": frame_snippet,
        "base": base,
    }
    return render_page(request, "pages/embed_builder.html", context)


routes = [
    Route("/widget.js", widget_js, methods=["GET"]),
    Route("/embed", builder, methods=["GET"]),
    Route("/embed/theme.css", theme_css, methods=["GET"]),
    Route("/embed/{feed}", embed, methods=["GET"]),
]
