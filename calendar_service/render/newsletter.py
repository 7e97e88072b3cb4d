"""Newsletter blocks and digests: one event, or a feed over a window, as e-mail safe HTML, plain
text and Markdown, written the way the association's newsletter writes its items.

Pure functions over stored events: ``event_view`` says what a block shows (in the users'
words), ``NewsletterTemplates`` turns views into text with the Jinja2 templates of
``templates/newsletter/`` (or an association's own, from ``settings.templates_dir``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from babel.dates import format_date
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

from calendar_service.dates import from_epoch, zone
from calendar_service.db.events import StoredEvent
from calendar_service.media import views as media_views
from calendar_service.phrases import MAX_LISTED_DATES, dates_phrase, inner_quotes, zone_note
from calendar_service.render.emailhtml import finish, french, neutralise, neutralise_url
from calendar_service.settings import Settings
from calendar_service.text import markdown_to_html, markdown_to_text, plain_markdown
from calendar_service.vocabulary import ACCESS_FEATURES, CATEGORIES, STATUSES

Format = Literal["html", "txt", "md"]
FORMATS: tuple[Format, ...] = ("html", "txt", "md")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
IMAGE_WIDTH = 560  # the block's 600 px less its padding
SUMMARY_FROM_DESCRIPTION = 280

# The fixed words of a block, per language.
WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "colon": "\u00a0: ",
        "online": "En ligne",
        "online_link": "rejoindre l'événement en ligne",
        "price": "Tarif",
        "register": "S'inscrire",
        "add_to_calendar": "Ajouter à mon agenda",
        "more": "En savoir plus sur «\u00a0{title}\u00a0»",
        "organised_by": "Organisé par {names}",
        "with": "avec {names}",
        "support": "avec le soutien de {names}",
        "benefit": "au profit de {names}",
        "agenda": "Agenda",
        "window": "Du {start} au {end}",
        "nothing": "Aucun événement n'est prévu sur cette période.",
        "subscribe": "S'abonner à «\u00a0{feed}\u00a0» dans mon agenda",
        "online_only": "En ligne",
        "access": "Accessibilité",
        "audience": "Public",
        "published_by": "Un agenda de {organisation}",
    },
    "en": {
        "colon": ": ",
        "online": "Online",
        "online_link": "join the event online",
        "price": "Price",
        "register": "Register",
        "add_to_calendar": "Add to my calendar",
        "more": "More about “{title}”",
        "organised_by": "Organised by {names}",
        "with": "with {names}",
        "support": "with the support of {names}",
        "benefit": "in aid of {names}",
        "agenda": "What's on",
        "window": "{start} to {end}",
        "nothing": "No event is planned in this period.",
        "subscribe": "Subscribe to “{feed}” in my calendar",
        "online_only": "Online",
        "access": "Accessibility",
        "audience": "Audience",
        "published_by": "A calendar by {organisation}",
    },
}
STRONG_MARKS = ("cancelled", "postponed")
WITH_ROLES = ("co_organizer", "partner", "venue", "media")
_VOWEL = re.compile(r"^[aeiouyàâäéèêëîïôöùûüœæh]", re.IGNORECASE)


@dataclass(frozen=True)
class Brand:
    """What an association sets to make the blocks its own."""

    name: str
    accent: str
    logo_url: str | None
    logo_width: int
    logo_height: int
    base_url: str
    default_language: str
    default_timezone: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Brand:
        return cls(
            name=settings.organisation_name,
            accent=settings.brand_accent_color,
            logo_url=settings.brand_logo_url,
            logo_width=settings.brand_logo_width,
            logo_height=settings.brand_logo_height,
            base_url=settings.base_url,
            default_language=settings.default_language,
            default_timezone=settings.default_timezone,
        )


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def _pick(texts: dict[str, str] | None, lang: str, default: str) -> str:
    return pick_with_language(texts, lang, default)[0]


def pick_with_language(texts: dict[str, str] | None, lang: str, default: str) -> tuple[str, str]:
    """A text in ``lang``, else the default language, else any; with the language it is in."""
    if not texts:
        return "", lang
    for candidate in (lang, default, *texts):
        if texts.get(candidate):
            return texts[candidate], candidate
    return "", lang


def access_line(doc: dict[str, Any], lang: str, default: str) -> str:
    """ "Accessibilité : accessible en fauteuil roulant, interprétation en LSF"."""
    access = doc.get("accessibility") or {}
    features = [
        ACCESS_FEATURES[f].get(lang, ACCESS_FEATURES[f]["en"]) for f in access.get("features", [])
    ]
    # After the colon, in lower case: "Accessibilité : accessible en fauteuil roulant".
    parts = [f[0].lower() + f[1:] for f in features if f]
    note = _pick(access.get("note"), lang, default)
    text = ", ".join(parts + ([note] if note else []))
    return f"{words(lang)['access']}{words(lang)['colon']}{text}" if text else ""


def audience_line(doc: dict[str, Any], lang: str, default: str) -> str:
    """ "Public : de 11 à 25 ans", "Audience: from 16"."""
    audience = doc.get("audience") or {}
    low, high = audience.get("min_age"), audience.get("max_age")
    fr = lang == "fr"
    if low is not None and high is not None:
        ages = f"de {low} à {high} ans" if fr else f"{low} to {high} years old"
    elif low is not None:
        ages = f"à partir de {low} ans" if fr else f"from {low} years old"
    elif high is not None:
        ages = f"jusqu'à {high} ans" if fr else f"up to {high} years old"
    else:
        ages = ""
    note = _pick(audience.get("note"), lang, default)
    text = ", ".join(x for x in (ages, note) if x)
    return f"{words(lang)['audience']}{words(lang)['colon']}{text}" if text else ""


def _names(names: list[str], lang: str) -> str:
    if len(names) == 1:
        return names[0]
    word = " et " if lang == "fr" else " and "
    return ", ".join(names[:-1]) + word + names[-1]


def _de(phrase: str, names: list[str], lang: str) -> str:
    """French elision: "au profit d'ALIMA", "avec le soutien d'Emmaüs"."""
    text = phrase.format(names=_names(names, lang))
    if lang == "fr" and _VOWEL.match(names[0]):
        text = text.replace(" de " + names[0], " d'" + names[0], 1)
    return text


def people_sentence(doc: dict[str, Any], lang: str) -> str:
    """Organizer and partners in one sentence: "Organisé par YoonRisen, au profit d'ALIMA"."""
    w = words(lang)
    partners: list[dict[str, Any]] = doc.get("partners") or []
    clauses = []
    organizer = doc.get("organizer")
    if organizer:
        clauses.append(w["organised_by"].format(names=organizer["name"]))
    together = [p["name"] for p in partners if p.get("role", "partner") in WITH_ROLES]
    if together:
        clauses.append(w["with"].format(names=_names(together, lang)))
    sponsors = [p["name"] for p in partners if p.get("role") == "sponsor"]
    if sponsors:
        clauses.append(_de(w["support"], sponsors, lang))
    beneficiaries = [p["name"] for p in partners if p.get("role") == "beneficiary"]
    if beneficiaries:
        clauses.append(_de(w["benefit"], beneficiaries, lang))
    if not clauses:
        return ""
    text = ", ".join(clauses)
    return text[0].upper() + text[1:]


def place_lines(doc: dict[str, Any]) -> list[str]:
    """The place's name, then its address on one line."""
    location = doc.get("location") or {}
    lines = []
    name = location.get("name")
    town = " ".join(x for x in (location.get("postal_code"), location.get("city")) if x)
    address = ", ".join(x for x in (location.get("address"), town) if x)
    if name and not address.startswith(name):
        lines.append(name)
    if address:
        lines.append(address)
    return lines


def _local(ts: int, tz_name: str) -> datetime:
    return from_epoch(ts, zone(tz_name)).replace(tzinfo=None)


def when_phrase(
    doc: dict[str, Any],
    times: Sequence[tuple[int, int]],
    *,
    lang: str,
    default_timezone: str,
    more_until_ts: int | None = None,
    more: bool = False,
) -> str:
    """The date phrase of an event's occurrences (epoch seconds), in its own wall time;
    ``more_until_ts`` adds "and more dates until ...", ``more`` alone "and more dates"."""
    tz = doc["timezone"]
    all_day = bool(doc["all_day"])
    listed = list(times[:MAX_LISTED_DATES])
    more_until = None
    if len(times) > MAX_LISTED_DATES or more_until_ts is not None:
        last = more_until_ts if more_until_ts is not None else times[-1][0]
        more_until = _local(last, tz).date()
    occurrences: list[tuple[date | datetime, date | datetime | None]] = []
    for start_ts, end_ts in listed:
        start = _local(start_ts, tz)
        if all_day:
            span = _span_days(doc)
            occurrences.append((start.date(), start.date() + timedelta(days=span)))
        else:
            end = _local(end_ts, tz) if doc.get("end") is not None else None
            occurrences.append((start, end))
    phrase = dates_phrase(occurrences, all_day=all_day, lang=lang, more_until=more_until, more=more)
    if not all_day:
        phrase += zone_note(tz, default_timezone, lang)
    return phrase


def _span_days(doc: dict[str, Any]) -> int:
    if not doc.get("end"):
        return 0
    return (date.fromisoformat(doc["end"]) - date.fromisoformat(doc["start"])).days


def _image(doc: dict[str, Any], lang: str, default: str, base_url: str) -> dict[str, Any] | None:
    image = doc.get("image")
    if media_views.uploaded(image):  # our JPEG at the block's width, with its exact size
        ours = media_views.mail(base_url, image)
        return {
            "url": ours.url,
            "alt": "" if image.get("decorative") else _pick(image.get("alt"), lang, default),
            "width": ours.width,
            "height": ours.height,
            "type": ours.content_type,
        }
    if not image or not image.get("url"):
        return None
    width, height = image.get("width"), image.get("height")
    shown = min(IMAGE_WIDTH, width) if width else IMAGE_WIDTH
    # Without the file's size, assume the 3:2 of most event photos; clients other than
    # classic Outlook keep the true ratio (height:auto).
    ratio = height / width if width and height else 2 / 3
    url = str(image["url"])
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")  # e-mails block mixed-content images
    return {
        "url": url,
        "alt": "" if image.get("decorative") else _pick(image.get("alt"), lang, default),
        "width": shown,
        "height": max(1, round(shown * ratio)),
    }


def event_view(
    event: StoredEvent,
    times: Sequence[tuple[int, int]],
    *,
    lang: str,
    brand: Brand,
    with_description: bool,
    more_until_ts: int | None = None,
) -> dict[str, Any]:
    """What a block says about ``event`` at ``times`` (its occurrences), as raw text."""
    doc = event.document
    default = brand.default_language
    w = words(lang)
    title, title_lang = pick_with_language(doc["title"], lang, default)
    summary, summary_lang = pick_with_language(doc.get("summary"), lang, default)
    description, description_lang = pick_with_language(doc.get("description"), lang, default)
    price, price_lang = pick_with_language(doc.get("price"), lang, default)
    note, note_lang = pick_with_language(doc.get("status_note"), lang, default)
    if not summary and description and not with_description:
        summary_lang = description_lang
        text = " ".join(markdown_to_text(description).split())
        cut = text[:SUMMARY_FROM_DESCRIPTION]
        summary = cut if len(text) <= len(cut) else cut.rsplit(" ", 1)[0] + "…"
    status = doc["status"]
    mark = STATUSES[status][lang if lang in STATUSES[status] else "en"]
    page = f"{brand.base_url}/events/{event.slug}"
    online = doc.get("online_url") if doc["attendance_mode"] != "in_person" else None
    where = place_lines(doc) if doc["attendance_mode"] != "online" else []
    return {
        "lang": lang,
        "status": status,
        "mark": mark if status != "scheduled" else "",
        "mark_strong": status in STRONG_MARKS,
        "note": note,
        "title": title,
        "when": when_phrase(
            doc,
            times,
            lang=lang,
            default_timezone=brand.default_timezone,
            more_until_ts=more_until_ts,
        ),
        "where": where,
        "online_url": online,
        "online_label": w["online_link"],
        "people": people_sentence(doc, lang),
        "price": price,
        "extras": [
            line
            for line in (access_line(doc, lang, default), audience_line(doc, lang, default))
            if line
        ],
        # Where a text falls back to another language, its element says so (lang=...).
        "langs": {
            "title": title_lang,
            "summary": summary_lang,
            "description": description_lang,
            "price": price_lang,
            "note": note_lang,
        },
        "summary": summary,
        "description": description if with_description else "",
        "image": _image(doc, lang, default, brand.base_url),
        "more_url": doc.get("url") or page,
        "more_label": w["more"].format(title=inner_quotes(title, lang)),
        "registration_url": doc.get("registration_url"),
        # A cancelled event is not offered to calendars (its file stays for subscribers).
        "ics_url": ""
        if status == "cancelled"
        else f"{brand.base_url}/events/{event.slug}.ics"
        + (f"?lang={lang}" if lang != default else ""),
    }


# --- making a view safe for its format ------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)


def markdown_text(text: str) -> str:
    """Text that a Markdown renderer shows as it is: no emphasis, link, HTML or heading."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def markdown_url(url: str) -> str:
    return quote(neutralise_url(url), safe=":/?#[]@!$&'*+,;=%~-._")


def _plain(value: Any, fmt: Format, typo: bool) -> Any:
    if isinstance(value, str):
        value = neutralise(french(value) if typo else value)
        return markdown_text(value) if fmt == "md" else value
    if isinstance(value, list):
        return [_plain(v, fmt, typo) for v in value]
    return value


URL_FIELDS = ("online_url", "more_url", "registration_url", "ics_url")


def for_format(view: dict[str, Any], fmt: Format) -> dict[str, Any]:
    """The view with its text made safe for ``fmt``. HTML text stays raw: the template escapes
    it, and ``emailhtml.finish`` neutralises and typesets the result."""
    if fmt == "html":
        out = dict(view)
        out["description_html"] = (
            Markup(markdown_to_html(view["description"])) if view["description"] else ""
        )
        return out
    typo = view["lang"].startswith("fr")
    out = {}
    for key, value in view.items():
        if key in URL_FIELDS:
            out[key] = (
                (markdown_url(value) if fmt == "md" else neutralise_url(value)) if value else value
            )
        elif key in ("image", "description"):
            continue
        elif key == "langs":
            out[key] = value
        else:
            out[key] = _plain(value, fmt, typo)
    description = view["description"]
    typeset = french if view["langs"]["description"].startswith("fr") else str
    if fmt == "txt":
        out["description_text"] = (
            neutralise(typeset(markdown_to_text(description))) if description else ""
        )
    else:
        source = plain_markdown(description) if description else None
        out["description_md"] = (
            neutralise(typeset(source))
            if source is not None
            else markdown_text(neutralise(typeset(markdown_to_text(description))))
        )
    image = view["image"]
    if image and fmt == "md":
        out["image"] = {
            **image,
            "url": markdown_url(image["url"]),
            "alt": _plain(image["alt"], fmt, typo),
        }
    else:
        out["image"] = None
    return out


# --- templates -------------------------------------------------------------------------------


class NewsletterTemplates:
    """The newsletter's Jinja2 templates: the package's, or an association's own where
    ``templates_dir/newsletter/`` holds a file of the same name."""

    def __init__(self, brand: Brand, override_dir: Path | None = None) -> None:
        loaders: list[Any] = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("calendar_service", "templates"))
        loader = ChoiceLoader(loaders)
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "keep_trailing_newline": False,
        }
        self.brand = brand
        self.html = Environment(autoescape=True, **options)
        self.html.filters["inner_quotes"] = inner_quotes  # a title inside the page's quotes
        self.text = Environment(autoescape=False, trim_blocks=False, **options)
        self.css = self.text.get_template("newsletter/email.css").render(accent=brand.accent)

    def block(self, view: dict[str, Any], fmt: Format, *, heading: int) -> str:
        """One event's block; ``heading`` is the level of its title (2 alone, 4 in a digest)."""
        context = {"e": for_format(view, fmt), "t": words(view["lang"]), "heading": heading}
        if fmt == "html":
            html = self.html.get_template("newsletter/block.html").render(context)
            return finish(html, self.css, view["lang"])
        return self.text.get_template(f"newsletter/block.{fmt}").render(context).strip() + "\n"

    def digest(self, view: dict[str, Any], groups: list[tuple[str, list[str]]], fmt: Format) -> str:
        """A digest: its heading, then each group's label and the blocks of its events."""
        lang = view["lang"]
        # Blocks are finished already: the template gets markers, replaced after finishing.
        markers: dict[str, str] = {}
        shown = []
        for label, blocks in groups:
            slots = []
            for block in blocks:
                marker = f"\ue000{len(markers)}\ue001"
                markers[marker] = block.rstrip("\n")
                slots.append(marker)
            shown.append({"label": label, "slots": slots})
        if fmt == "html":
            context = {"d": view, "t": words(lang), "groups": shown}
            text = finish(
                self.html.get_template("newsletter/digest.html").render(context), self.css, lang
            )
        else:
            typo = lang.startswith("fr")
            safe = {
                k: (neutralise_url(v) if k == "subscribe_url" else _plain(v, fmt, typo))
                for k, v in view.items()
                if k != "logo"
            }
            labels = [{**g, "label": _plain(g["label"], fmt, typo)} for g in shown]
            context = {"d": safe, "t": words(lang), "groups": labels}
            text = self.text.get_template(f"newsletter/digest.{fmt}").render(context)
            text = text.strip() + "\n"
        return re.sub("\ue000\\d+\ue001", lambda m: markers[m.group(0)], text)


def digest_view(
    *,
    brand: Brand,
    lang: str,
    feed_title: str,
    feed_slug: str,
    first: date,
    last: date,
) -> dict[str, Any]:
    """The digest's own words: its title, its window, the logo and the subscribe link."""
    w = words(lang)
    logo = None
    if brand.logo_url:
        logo = {
            "url": brand.logo_url,
            "alt": brand.name,
            "width": brand.logo_width,
            "height": brand.logo_height,
        }
    start = str(
        format_date(first, "d MMMM y" if first.year != last.year else "d MMMM", locale=lang)
    )
    if lang == "fr" and first.day == 1:
        start = "1er" + start[1:]
    end = str(format_date(last, "d MMMM y", locale=lang))
    if lang == "fr" and last.day == 1:
        end = "1er" + end[1:]
    ics = f"{brand.base_url}/feeds/{feed_slug}.ics"
    return {
        "lang": lang,
        "title": feed_title or w["agenda"],
        "window": w["window"].format(start=start, end=end),
        "logo": logo,
        "subscribe_url": ics + (f"?lang={lang}" if lang != brand.default_language else ""),
        "subscribe_label": w["subscribe"].format(feed=feed_title),
        "organisation": w["published_by"].format(organisation=brand.name),
    }


def group_label(key: date | str, lang: str) -> str:
    """A digest group's heading: "Jeudi 3 décembre 2026", or a category's name."""
    if isinstance(key, date):
        text = str(format_date(key, "EEEE d MMMM y", locale=lang))
        if lang == "fr" and key.day == 1:
            text = text.replace(" 1 ", " 1er ", 1)
        return text[0].upper() + text[1:]
    labels = CATEGORIES[key]
    return labels.get(lang, labels["en"])
