"""A poster, in Chromium, as a communication team uses it: an editor picks the file in the event
form (a phone photo with its GPS position), publishes, and the poster shows on the event page,
the home page's card, the widget's cards and the iframe's cards on a partner site, each time
loaded from the service's own origin and nowhere else; axe-core finds no serious or critical
violation on those pages."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import ExifTags, Image, ImageDraw

from tests.browser.conftest import Axe, Browse, Partner, Screenshot, Service, Visit, origin_of
from tests.browser.test_editor import (  # noqa: F401 - fixtures
    Account,
    Created,
    admin,
    created,
    event_id_of,
    sign_in,
    unique,
)

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Locator, Page

pytestmark = pytest.mark.browser

LOADED = "(img) => img.complete && img.naturalWidth > 0 ? img.currentSrc : null"


def poster(folder: Path) -> Path:
    """An orange poster with a blue disc, 900x1200, saved as a phone does (GPS in EXIF)."""
    image = Image.new("RGB", (900, 1200), (240, 130, 30))
    ImageDraw.Draw(image).ellipse((200, 300, 700, 800), fill=(30, 60, 200))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 24.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    path = folder / "affiche-concert.jpg"
    path.write_bytes(out.getvalue())
    return path


def loaded_from(image: Locator, service: Service) -> str:
    """The URL a shown picture was loaded from (it must have loaded), on the service."""
    image.scroll_into_view_if_needed()
    source = None
    for _ in range(100):  # in its own frame (an iframe's element answers only there)
        source = image.evaluate(LOADED)
        if source:
            break
        image.page.wait_for_timeout(100)
    assert source and origin_of(source) == origin_of(service.url), source
    assert re.search(r"/media/[0-9a-f]{32}/[^/]+$", source), source
    return str(source)


def assert_local(visit: Visit, service: Service, partner: Partner | None = None) -> None:
    origins = (origin_of(service.url),) + ((origin_of(partner.url),) if partner else ())
    assert visit.requests_off(*origins) == []
    assert visit.stubbed == []


def assert_accessible(page: Page, axe: Axe, where: str) -> None:
    serious = [v for v in axe(page) if v["impact"] in ("serious", "critical")]
    assert serious == [], (where, serious)


def test_a_poster_uploaded_in_the_form_shows_everywhere_from_our_origin(
    service: Service,
    browse: Browse,
    admin: Account,  # noqa: F811
    created: Created,  # noqa: F811
    partner: Partner,
    axe: Axe,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    title = unique("Concert solidaire")
    tag = f"affiche-{title.rsplit(' ', 1)[1]}"
    day = date.today() + timedelta(days=1)
    visit = browse(f"{service.url}/editor/login")
    page = visit.page
    sign_in(page, service, admin)
    page.goto(f"{service.url}/editor/events/new")
    page.get_by_label("Titre (français)").fill(title)
    page.get_by_label("Mots-clés").fill(tag)
    page.get_by_label("Date de début").fill(day.isoformat())
    page.get_by_label("Heure de début").fill("06:00")
    page.get_by_label("Date de fin", exact=True).fill(day.isoformat())
    page.get_by_label("Heure de fin").fill("07:00")
    page.get_by_label("Nom du lieu").fill("Salle des fêtes")
    page.get_by_label("Ville").fill("Montreuil")
    page.get_by_label("Envoyer une affiche ou une photo").set_input_files(poster(tmp_path))
    # Where JavaScript runs, the chosen file is previewed before it is sent.
    preview = page.locator(".drop-preview")
    preview.wait_for(state="visible")
    assert (preview.get_attribute("src") or "").startswith("blob:")
    page.get_by_label("Texte alternatif (français)").fill(
        "Affiche du concert : un disque bleu sur fond orange"
    )
    page.get_by_role("radio", name="Publié").check()
    assert_accessible(page, axe, "the event form")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Enregistrer", exact=True).click()
    errors = page.locator(".error").all_inner_texts() if posted.value.status != 303 else []
    assert posted.value.status == 303, errors
    page.wait_for_url(re.compile(r"/editor/events/\d+\?done=created"))
    event_id = event_id_of(page)
    created.append(event_id)
    event = service.get(f"/api/events/{event_id}").json()
    assert event["image"]["media"] and event["image"]["width"] == 900
    screenshot(page, "picture-editor-saved")
    visit.assert_nothing_ran()

    # The event's page: a <picture> loaded from here, with its alt text.
    shown = browse(f"{service.url}/events/{event['slug']}")
    picture = shown.page.locator("picture.event-picture img")
    loaded_from(picture, service)
    assert picture.get_attribute("alt") == "Affiche du concert : un disque bleu sur fond orange"
    assert_accessible(shown.page, axe, "the event page")
    screenshot(shown.page, "picture-event-page")
    shown.assert_nothing_ran()
    assert_local(shown, service)

    # The home page's card (the event is among the next twelve).
    home = browse(f"{service.url}/")
    card = home.page.locator("li.event", has_text=title).locator(".card-picture img")
    loaded_from(card, service)
    assert_accessible(home.page, axe, "the home page")
    assert_local(home, service)

    # The widget's cards on a partner site (the picture from our origin, not the partner's).
    widget = browse(partner.widget_page(layout="cards", tag=tag, limit="3"))
    item = widget.page.locator("calendar-events li", has_text=title)
    item.wait_for()
    loaded_from(item.locator("img"), service)
    assert_accessible(widget.page, axe, "the widget's cards")
    widget.assert_nothing_ran()
    assert_local(widget, service, partner)

    # The iframe's cards on a partner site.
    framed = browse(partner.iframe_page(layout="cards", tag=tag, limit="3"))
    frame: Frame | Any = framed.page.frame_locator("iframe[title='Agenda']")
    loaded_from(frame.locator("li.event .card-picture img").first, service)
    screenshot(framed.page, "picture-iframe-cards")
    framed.assert_nothing_ran()
    assert_local(framed, service, partner)
    # The iframe's own page, as axe sees it (it does not enter frames).
    embedded = browse(f"{service.url}/embed/agenda?layout=cards&limit=3&tag={tag}")
    loaded_from(embedded.page.locator("li.event .card-picture img").first, service)
    assert_accessible(embedded.page, axe, "the iframe's cards")
