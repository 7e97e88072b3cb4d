"""``GET /newsletter``: the newsletter preview page. Pick a feed, a window and a language; see
the digest as an e-mail shows it; copy its HTML, text or Markdown; find the RSS and JSON feeds
with the merge tags to paste into Mailchimp or Brevo."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service.feedspec import FeedDefinition
from calendar_service.render.newsletter import FORMATS
from calendar_service.settings import Settings
from calendar_service.web.cached import cache_key, local_today
from calendar_service.web.html import LANGUAGE_NAMES, render_page
from calendar_service.web.inputs import QueryReader, feed_filter
from calendar_service.web.public.newsletter import digest_entry, digest_window, grouping

# Gmail cuts messages whose HTML passes about 102 KB; a section near it leaves no room.
GMAIL_CLIPS_KB = 90

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "skip": "Aller au contenu",
        "title": "L'agenda pour la newsletter",
        "lead": "Choisissez un agenda, une période et une langue : le bloc agenda est prêt à "
        "coller dans votre newsletter, ou à faire venir automatiquement par Mailchimp ou Brevo.",
        "feed": "Agenda",
        "from": "Du",
        "to": "Au (inclus)",
        "language": "Langue",
        "group": "Regrouper",
        "by_day": "par jour",
        "by_category": "par type d'événement",
        "show": "Afficher l'aperçu",
        "preview": "Aperçu",
        "preview_help": "Le bloc tel qu'il apparaîtra dans l'e-mail (600 pixels de large).",
        "preview_frame": "Aperçu du bloc agenda de la newsletter",
        "too_long": "Ce bloc pèse {size} Ko : Gmail coupe les e-mails au-delà d'environ 102 Ko. "
        "Choisissez une période plus courte ou un agenda plus ciblé.",
        "copy_title": "Copier le bloc",
        "copied": "Copié dans le presse-papiers.",
        "automate": "Automatiser avec Mailchimp ou Brevo",
        "print_title": "Le programme à imprimer",
        "print_help": "Les mêmes événements sur des pages A4, chacun avec son image, ses "
        "dates, son lieu, son tarif et un QR code vers sa page : pour le panneau d'affichage.",
        "print_pdf": "Programme en PDF (A4)",
        "print_html": "Page prête à imprimer",
        "automate_help": "Ces flux donnent les événements à venir, chacun avec son bloc prêt à "
        "envoyer ; votre outil d'e-mailing les lit à chaque envoi.",
        "rss_url": "Flux RSS (Mailchimp)",
        "json_url": "Flux JSON (Brevo)",
        "mailchimp_rss": "Mailchimp : campagne RSS",
        "mailchimp_rss_help": "Créez une campagne « RSS » avec l'adresse du flux RSS, puis "
        "placez ce code dans un bloc « Code » du modèle :",
        "mailchimp_feedblock": "Mailchimp : bloc de flux dans une campagne ordinaire",
        "mailchimp_feedblock_help": "Dans un bloc « Code » d'une campagne ordinaire :",
        "brevo": "Brevo : flux externe",
        "brevo_help": "Déclarez le flux JSON comme flux externe (nommé ici « agenda ») dans "
        "Brevo, puis, en mode développeur du modèle :",
    },
    "en": {
        "skip": "Skip to content",
        "title": "The calendar for your newsletter",
        "lead": "Choose a calendar, a period and a language: the events section is ready to "
        "paste into your newsletter, or to be pulled by Mailchimp or Brevo at each send.",
        "feed": "Calendar",
        "from": "From",
        "to": "To (included)",
        "language": "Language",
        "group": "Group",
        "by_day": "by day",
        "by_category": "by kind of event",
        "show": "Show the preview",
        "preview": "Preview",
        "preview_help": "The section as the e-mail will show it (600 pixels wide).",
        "preview_frame": "Preview of the newsletter's events section",
        "too_long": "This section weighs {size} KB: Gmail clips e-mails past about 102 KB. "
        "Choose a shorter period or a narrower calendar.",
        "copy_title": "Copy the section",
        "copied": "Copied to the clipboard.",
        "automate": "Automate with Mailchimp or Brevo",
        "print_title": "The programme to print",
        "print_help": "The same events on A4 pages, each with its picture, dates, place, price "
        "and a QR code to its page: for the notice board.",
        "print_pdf": "Programme as PDF (A4)",
        "print_html": "Print-ready page",
        "automate_help": "These feeds list the coming events, each with its ready-made block; "
        "your e-mail tool reads them at each send.",
        "rss_url": "RSS feed (Mailchimp)",
        "json_url": "JSON feed (Brevo)",
        "mailchimp_rss": "Mailchimp: RSS campaign",
        "mailchimp_rss_help": "Create an RSS campaign with the RSS feed's address, then put "
        "this in a Code block of its template:",
        "mailchimp_feedblock": "Mailchimp: a feed block in a regular campaign",
        "mailchimp_feedblock_help": "In a Code block of a regular campaign:",
        "brevo": "Brevo: external feed",
        "brevo_help": "Register the JSON feed as an external feed (named “agenda” here) in "
        "Brevo, then, in the template's developer mode:",
    },
}

FORMAT_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "fr": {
        "html": {
            "title": "HTML",
            "help": "Pour un bloc « Code » (Mailchimp) ou « HTML » (Brevo).",
            "button": "Copier le HTML",
            "download": "Télécharger le HTML",
        },
        "txt": {
            "title": "Texte brut",
            "help": "Pour la version texte de l'e-mail.",
            "button": "Copier le texte",
            "download": "Télécharger le texte",
        },
        "md": {
            "title": "Markdown",
            "help": "Pour un éditeur qui lit le Markdown.",
            "button": "Copier le Markdown",
            "download": "Télécharger le Markdown",
        },
    },
    "en": {
        "html": {
            "title": "HTML",
            "help": "For a Code block (Mailchimp) or an HTML block (Brevo).",
            "button": "Copy the HTML",
            "download": "Download the HTML",
        },
        "txt": {
            "title": "Plain text",
            "help": "For the e-mail's text version.",
            "button": "Copy the text",
            "download": "Download the text",
        },
        "md": {
            "title": "Markdown",
            "help": "For an editor that reads Markdown.",
            "button": "Copy the Markdown",
            "download": "Download the Markdown",
        },
    },
}


def merge_tags(rss_url: str) -> dict[str, str]:
    """What to paste into Mailchimp and Brevo templates to pull the feed's blocks."""
    return {
        "mailchimp_rss": ("*|RSSITEMS:[$count=20]|*\n*|RSSITEM:CONTENT_FULL|*\n*|END:RSSITEMS|*"),
        "mailchimp_feedblock": (
            f"*|FEEDBLOCK:{rss_url}|*\n*|FEEDITEMS:[$count=20]|*\n"
            "*|FEEDITEM:CONTENT_FULL|*\n*|END:FEEDITEMS|*\n*|END:FEEDBLOCK|*"
        ),
        # Brevo's external feeds: the declaration for the HTML editor (the drag-and-drop
        # editor's developer mode takes a "feeds:" header instead), then the items.
        "brevo": (
            '<!--feed.agenda : {{feed.get("agenda")}}-->\n'
            "{% for item in feed.agenda.items %}\n{{ item.content_html }}\n{% endfor %}"
        ),
    }


async def preview(request: Request) -> Response:
    """The preview page; a bad choice is shown next to its field (400), not as JSON."""
    state = request.app.state
    settings: Settings = state.settings
    feeds: dict[str, FeedDefinition] = state.feeds
    reader = QueryReader(request, settings)
    lang = reader.language() or settings.default_language
    ui = lang if lang in WORDS else "en"
    slug = request.query_params.get("feed") or next(iter(feeds), "")
    if slug not in feeds:
        reader.fail("feed", f"no feed {slug!r}")
    today = local_today(settings)
    first, last = digest_window(reader, settings, today)
    group = grouping(reader)
    errors = {e["field"]: e["message"] for e in reader.errors}

    query = urlencode(
        {"from": first.isoformat(), "to": last.isoformat(), "lang": lang, "group": group}
    )
    digests: dict[str, str] = {}
    urls: dict[str, str] = {}
    if not errors:
        flt = feed_filter(feeds[slug])
        for fmt in FORMATS:
            path = f"/newsletter/{slug}.{fmt}"
            urls[fmt] = f"{path}?{query}"
            entry = await digest_entry(
                request,
                key=cache_key(path, query, today),
                slug=slug,
                flt=flt,
                first=first,
                last=last,
                lang=lang,
                group=group,
                fmt=fmt,
            )
            digests[fmt] = entry.body.decode()
        for printed in ("html", "pdf"):
            urls[f"print_{printed}"] = f"/print/{slug}.{printed}?{query}"
    feed_query = f"?lang={lang}" if lang != settings.default_language else ""
    shown = slug if slug in feeds else next(iter(feeds), "")
    urls["rss"] = f"{settings.base_url}/feeds/{shown}.rss{feed_query}"
    urls["json"] = f"{settings.base_url}/feeds/{shown}.json{feed_query}"
    context: dict[str, Any] = {
        "ui": ui,
        "w": WORDS[ui],
        "feeds": [
            {"slug": f.slug, "title": f.text(f.title, ui, settings.default_language)}
            for f in feeds.values()
        ],
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in settings.languages],
        "chosen": {
            "feed": slug,
            "from": request.query_params.get("from") or first.isoformat(),
            "to": request.query_params.get("to") or last.isoformat(),
            "lang": lang,
            "group": group,
        },
        "errors": errors,
        "digests": digests,
        "urls": urls,
        "formats": [{"id": fmt, **FORMAT_WORDS[ui][fmt]} for fmt in FORMATS],
        "tags": merge_tags(urls["rss"]),
        "html_kb": len(digests["html"].encode()) // 1000 if digests else 0,
        "gmail_kb": GMAIL_CLIPS_KB,
    }
    return render_page(request, "pages/newsletter.html", context, status=400 if errors else 200)


routes = [Route("/newsletter", preview, methods=["GET"])]
