"""What is printed: a feed's programme over a window (A4, grouped by day or category) and one
event's flyer (A4 or A5), as self-contained HTML that WeasyPrint lays out, or that a browser
prints. Each event has its uploaded picture (as a ``data:`` URL: nothing is fetched while the
PDF is made), its date phrase, place, price and a QR code to its page (``segno``), in the
association's name and colour."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined

from calendar_service.db.events import StoredEvent
from calendar_service.digests import Entry, Grouping, grouped
from calendar_service.media import views as media_views
from calendar_service.render.newsletter import Brand, digest_view, event_view
from calendar_service.text import markdown_to_html

Size = Literal["a4", "a5"]
SIZES: tuple[Size, ...] = ("a4", "a5")
PRINT_WIDTH = 640  # the picture printed (about 6 cm in a programme, 270 dpi)
FLYER_WIDTH = 1024

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "colon": "\u00a0: ",
        "qr": "La page de l'événement",
        "price": "Tarif",
        "online": "En ligne",
        "printed": "Imprimé depuis {url}",
        "none": "Aucun événement dans cette période.",
        "more": "Plus d'informations et d'autres dates : scannez le code ou rendez-vous sur",
    },
    "en": {
        "colon": ": ",
        "qr": "The event's page",
        "price": "Price",
        "online": "Online",
        "printed": "Printed from {url}",
        "none": "No event in this period.",
        "more": "More information and other dates: scan the code or visit",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG ``data:`` URL (black on white, a quiet zone around)."""
    code = segno.make(url, error="m")
    return str(code.svg_data_uri(scale=4, border=2, dark="#000", light="#fff"))


def picture_wanted(event: StoredEvent, shown: int) -> tuple[str, str] | None:
    """The (media id, file name) of the JPEG to print for ``event``, if it has an upload."""
    image = event.document.get("image")
    if not media_views.uploaded(image):
        return None
    chosen = media_views.sized("", image, shown)
    return image["media"], chosen.url.rsplit("/", 1)[1]


def data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("calendar_service", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _item(
    entry: Entry, *, lang: str, brand: Brand, pictures: dict[int, str], with_description: bool
) -> dict[str, Any]:
    view = event_view(
        entry.event,
        entry.times,
        lang=lang,
        brand=brand,
        with_description=with_description,
        more_until_ts=entry.more_until_ts,
    )
    image = entry.event.document.get("image") or {}
    page = f"{brand.base_url}/events/{entry.event.slug}"
    return {
        **view,
        "page_url": page,
        "qr": qr_data_uri(page),
        "picture": pictures.get(entry.event.id),
        "picture_alt": view["image"]["alt"] if view.get("image") else "",
        "decorative": bool(image.get("decorative")),
        "description_html": markdown_to_html(view["description"]) if with_description else "",
    }


def programme_html(
    entries: Sequence[Entry],
    *,
    pictures: dict[int, str],
    brand: Brand,
    lang: str,
    feed_title: str,
    feed_slug: str,
    first: date,
    last: date,
    group: Grouping,
) -> str:
    """The printable programme of ``entries`` (the events of a feed's window)."""
    sections = grouped(
        list(entries), group=group, lang=lang, default_timezone=brand.default_timezone
    )
    items = [
        (
            label,
            [
                _item(e, lang=lang, brand=brand, pictures=pictures, with_description=False)
                for e in section
            ],
        )
        for label, section in sections
    ]
    head = digest_view(
        brand=brand, lang=lang, feed_title=feed_title, feed_slug=feed_slug, first=first, last=last
    )
    template = _environment().get_template("print/programme.html")
    return template.render(
        head=head,
        sections=items,
        brand=brand,
        lang=lang,
        w=words(lang),
        site=brand.base_url,
    )


def flyer_html(entry: Entry, *, picture: str | None, brand: Brand, lang: str, size: Size) -> str:
    """One event's flyer: its picture large, its dates, place, price and description, and a
    QR code to its page."""
    item = _item(
        entry,
        lang=lang,
        brand=brand,
        pictures={entry.event.id: picture} if picture else {},
        with_description=True,
    )
    template = _environment().get_template("print/flyer.html")
    return template.render(e=item, brand=brand, lang=lang, w=words(lang), size=size)
