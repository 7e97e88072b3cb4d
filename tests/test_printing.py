"""Print: a feed's programme (A4, as a PDF made by WeasyPrint and as a print-ready page) and an
event's flyer (A4 or A5, for its editors). Read back with pypdf: the page size, the words, the
pictures; the QR codes name the events' pages; nothing is fetched from the network while a PDF
is made; a window too full, a bad parameter or a slow render get their error."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.deadline import DeadlineExceeded
from calendar_service.printing.pdf import render_pdf, write_pdf
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.test_fetch import serve  # noqa: F401 - the local HTTP server fixture
from tests.test_pages import BASE, make, titled

A4 = (595, 842)
A5 = (420, 595)


@pytest.fixture
def site(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    settings = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def poster() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 60, 40)).save(out, "JPEG")
    return out.getvalue()


def pdf_of(response: Any) -> PdfReader:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def size_of(reader: PdfReader, page: int = 0) -> tuple[int, int]:
    box = reader.pages[page].mediabox
    return round(float(box.width)), round(float(box.height))


def words_of(reader: PdfReader) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def events_with_a_poster(site: TestClient, editor: dict[str, str]) -> list[dict[str, Any]]:
    media = site.post(
        "/api/media", content=poster(), headers={**editor, "Content-Type": "image/jpeg"}
    ).json()
    return [
        make(
            site,
            editor,
            2,
            title=titled("Concert « Voix d'exil » <b>&"),
            price={"fr": "Prix libre au profit de la Cimade"},
            location={"name": "Salle des fêtes", "city": "Montreuil"},
            image={"media": media["id"], "alt": {"fr": "Affiche du concert"}},
        ),
        make(
            site,
            editor,
            5,
            title=titled("Permanence juridique"),
            image={"url": "https://elsewhere.example.org/photo.jpg", "alt": {"fr": "Photo"}},
        ),
    ]


def test_the_programme_prints_each_event_with_picture_place_price_and_qr_code(
    site: TestClient, editor: dict[str, str]
) -> None:
    concert, permanence = events_with_a_poster(site, editor)
    reader = pdf_of(site.get("/print/agenda.pdf"))
    assert size_of(reader) == A4
    text = words_of(reader)
    for expected in (
        "Calendrier solidaire",  # the association's name
        "Concert « Voix d'exil » <b>& (fr)",
        "Permanence juridique (fr)",
        "Salle des fêtes, Montreuil",
        "Prix libre au profit de la Cimade",
        "La page de l'événement",
    ):
        assert expected in text, (expected, text[:2000])
    pictures = [image for page in reader.pages for image in page.images]
    # The poster (only the uploaded picture: the other is elsewhere and never fetched).
    assert len(pictures) == 1
    assert Image.open(io.BytesIO(pictures[0].data)).size == (640, 480)

    page = site.get("/print/agenda.html?lang=en&group=category")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'; img-src data:")
    assert (
        "<script" not in page.text
        and "Concert « Voix d&#39;exil » &lt;b&gt;&amp; (en)" in page.text
    )
    sources = re.findall(r'<img src="([^"]+)"', page.text)
    assert sources and all(s.startswith("data:") for s in sources)
    for event in (concert, permanence):  # each QR code is the one of its page
        qr = segno.make(f"{BASE}/events/{event['slug']}", error="m")
        assert qr.svg_data_uri(scale=4, border=2, dark="#000", light="#fff") in page.text
    assert "elsewhere.example.org" not in page.text


def test_the_programme_is_cached_and_its_mistakes_named(
    site: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from calendar_service.web.public import printing

    make(site, editor, 3, title=titled("Projection"))
    first = site.get("/print/agenda.pdf")
    again = site.get("/print/agenda.pdf", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert site.get("/print/nowhere.pdf").status_code == 404
    assert site.get("/print/agenda.docx").status_code == 404
    wrong = site.get("/print/agenda.pdf?from=2027-05-10&to=2027-05-01")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "to"
    monkeypatch.setattr(printing, "MAX_PRINTED", 0)
    full = site.get("/print/agenda.pdf?lang=en")
    assert full.status_code == 400 and "more than 0 events" in full.json()["detail"]


def test_an_editor_prints_a_flyer_in_a4_or_a5(
    client: TestClient, editor: dict[str, str], migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calendar_service.db import accounts
    from tests.accounts import CHEAP, make_user, sign_in

    concert, _ = events_with_a_poster(client, editor)
    flyer = f"/editor/events/{concert['id']}/flyer.pdf"
    assert client.get(flyer, follow_redirects=False).status_code in (303, 401)
    monkeypatch.setattr(accounts, "hasher", CHEAP)
    make_user(migrated)
    assert sign_in(client).status_code == 303
    page = client.get(f"/editor/events/{concert['id']}")
    assert f"{flyer}?size=a5" in page.text
    a5 = pdf_of(client.get(f"{flyer}?size=a5"))
    assert size_of(a5) == A5
    assert "Concert « Voix d'exil » <b>& (fr)" in words_of(a5)
    assert len(a5.pages[0].images) == 1
    assert size_of(pdf_of(client.get(flyer))) == A4
    assert client.get(f"{flyer}?size=a3").status_code == 400


def test_nothing_is_fetched_while_a_pdf_is_made(serve: Any) -> None:  # noqa: F811
    server = serve()
    server.routes["/tracker.png"] = (200, {"Content-Type": "image/png"}, b"")
    server.routes["/style.css"] = (200, {"Content-Type": "text/css"}, b"p{color:red}")
    html = (
        f'<link rel="stylesheet" href="{server.url}/style.css">'
        f'<p>Bonjour</p><img src="{server.url}/tracker.png">'
        f'<img src="file:///etc/passwd">'
    )
    pdf = write_pdf(html)
    assert pdf.startswith(b"%PDF") and server.requests == []


def test_a_render_that_takes_too_long_is_stopped() -> None:
    with pytest.raises(DeadlineExceeded):
        asyncio.run(render_pdf("<p>" + "mot " * 200_000 + "</p>", seconds=0.2))


def test_pdfs_wait_their_turn_in_a_bounded_queue(
    site: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One PDF is made at a time per process and a few wait; past them, 503 with Retry-After
    (different programmes asked at once cannot queue without end)."""
    from calendar_service.web.public import printing

    async def slow(html: str) -> bytes:
        await asyncio.sleep(0.5)
        return b"%PDF-1.7 slow"

    monkeypatch.setattr(printing, "render_pdf", slow)
    slots = printing.PdfSlots(parallel=1, waiting=1)

    async def three() -> list[Any]:
        return await asyncio.gather(
            *(slots.render("<p>x</p>") for _ in range(3)), return_exceptions=True
        )

    outcomes = asyncio.run(three())
    assert outcomes.count(b"%PDF-1.7 slow") == 2
    [busy] = [o for o in outcomes if isinstance(o, Exception)]
    assert isinstance(busy, printing.Busy) and busy.status == 503 and busy.retry_after == 30
    # Through the app: the queue holds nobody now, so a programme is made.
    make(site, editor, 3, title=titled("Projection"))
    site.app.state.pdf_slots = slots  # type: ignore[attr-defined]
    assert site.get("/print/agenda.pdf?group=category").content == b"%PDF-1.7 slow"
