"""Uploaded pictures: real files made here (a phone photo with GPS and orientation 6, a PNG with
alpha, WebP, CMYK, 16 bits) come out oriented, in sRGB, without any metadata, in every variant;
bad ones (a decompression bomb, an SVG with a script, a truncated file, a polyglot, a GIF) get
the documented error and store nothing. The files are served immutable with 304s, shown by every
output at their true size, and pruned once no event uses them."""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from PIL import ExifTags, Image, ImageCms
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.cli import main as cli_main
from calendar_service.settings import Settings
from tests.conftest import make_settings, run_on
from tests.htmltree import parse
from tests.test_fetch import serve  # noqa: F401 - the local HTTP server fixture
from tests.test_pages import BASE, make, titled

PARIS_GPS = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
SECRET = b"do-not-leak"


@pytest.fixture
def site(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    settings = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def encoded(image: Image.Image, kind: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


@functools.cache  # made once: the ICC profile's header carries the time it was made
def phone_photo() -> bytes:
    """A JPEG as a phone writes it: stored sideways (left half red, right half blue) with
    orientation 6 (turn it a quarter clockwise), a GPS position, XMP, a comment and an ICC
    profile."""
    image = Image.new("RGB", (600, 400), (220, 20, 20))
    image.paste((20, 20, 220), (300, 0, 600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(PARIS_GPS)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encoded(
        image,
        "JPEG",
        exif=exif,
        comment=SECRET,
        xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>",
        icc_profile=icc,
        quality=95,
    )


def upload(site: TestClient, editor: dict[str, str], data: bytes, **kw: Any) -> Any:
    return site.post(
        "/api/media",
        content=data,
        headers={**editor, "Content-Type": kw.pop("content_type", "image/jpeg")},
        **kw,
    )


def every_file(site: TestClient, body: dict[str, Any]) -> list[tuple[str, Image.Image, bytes]]:
    files = body["files"]
    listed = [*files["webp"], *files["jpeg"], files["mail"], *files["crops"].values()]
    found = []
    for item in listed:
        response = site.get(item["url"])
        assert response.status_code == 200, item["url"]
        image = Image.open(io.BytesIO(response.content))
        image.load()
        assert image.size == (item["width"], item["height"]), item["url"]
        found.append((item["url"], image, response.content))
    return found


def stored_count(settings: Settings) -> int:
    async def count(storage: Any) -> int:
        return int(await storage.fetch_val("SELECT count(*) FROM media"))

    return int(run_on(settings, count))


def test_a_phone_photo_is_turned_upright_and_loses_every_metadata(
    site: TestClient, editor: dict[str, str]
) -> None:
    response = upload(site, editor, phone_photo())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (400, 600)  # turned a quarter
    assert body["source_type"] == "image/jpeg"
    files = every_file(site, body)
    assert len(files) == 2 * 2 + 1 + 4  # 320 and 400 wide, mail, four crops
    for url, image, raw in files:
        assert len(image.getexif()) == 0, url
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"):
            assert key not in image.info, (url, key)
        assert SECRET not in raw and b"PhoneMaker" not in raw and b"Exif" not in raw, url
    # Upright: what was the left (red) is now the top.
    [(_, upright, _)] = [f for f in files if f[0].endswith("/400.jpg")]
    top, bottom = upright.convert("RGB").getpixel((200, 100)), upright.getpixel((200, 500))
    assert top[0] > 150 and top[2] < 100, top  # type: ignore[index]
    assert bottom[2] > 150 and bottom[0] < 100, bottom  # type: ignore[index]
    # The same file again is the same picture, stored once.
    again = upload(site, editor, phone_photo())
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


def test_alpha_webp_cmyk_and_sixteen_bits_come_out_in_srgb(
    site: TestClient, editor: dict[str, str]
) -> None:
    clear = Image.new("RGBA", (500, 300), (0, 0, 0, 0))
    clear.paste((30, 160, 60, 255), (0, 0, 250, 300))
    body = upload(site, editor, encoded(clear, "PNG"), content_type="image/png").json()
    assert body["source_type"] == "image/png"
    for url, image, _ in every_file(site, body):
        if url.endswith(".webp") and "/320." in url:
            assert image.mode == "RGBA" and image.getpixel((300, 100))[3] == 0  # type: ignore[index]
        if url.endswith("/320.jpg"):
            assert image.mode == "RGB" and image.getpixel((300, 100)) == (255, 255, 255)

    webp = upload(
        site,
        editor,
        encoded(Image.new("RGB", (400, 300), (10, 20, 200)), "WEBP"),
        content_type="image/webp",
    )
    assert webp.status_code == 201 and webp.json()["source_type"] == "image/webp"

    cmyk = Image.new("CMYK", (400, 300), (255, 0, 0, 0))  # cyan
    body = upload(site, editor, encoded(cmyk, "JPEG")).json()
    [(_, image, _)] = [f for f in every_file(site, body) if f[0].endswith("/320.jpg")]
    red, green, blue = image.getpixel((100, 100))  # type: ignore[misc]
    assert image.mode == "RGB" and red < 80 and green > 150 and blue > 150

    deep = Image.new("I;16", (512, 64))
    deep.putdata([x * 128 for x in range(512)] * 64)  # a ramp over the whole 16 bits
    body = upload(site, editor, encoded(deep, "PNG"), content_type="image/png").json()
    [(_, image, _)] = [f for f in every_file(site, body) if f[0].endswith("/320.jpg")]
    grey = image.convert("L")
    left, right = grey.getpixel((5, 30)), grey.getpixel((315, 30))
    assert left < 20 and right > 230  # scaled, not clipped to white


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("bomb", 422, "too large"),
        ("svg", 415, "SVG"),
        ("truncated", 422, "damaged or incomplete"),
        ("gif-polyglot", 415, "GIF"),
        ("text", 415, "JPEG, PNG, WebP or HEIC"),
        ("empty", 400, "empty"),
    ],
)
def test_bad_files_get_their_error_and_store_nothing(
    site: TestClient, editor: dict[str, str], migrated: Settings, name: str, status: int, words: str
) -> None:
    photo = encoded(Image.effect_noise((800, 600), 60).convert("RGB"), "JPEG")
    files = {
        # 100 megapixels of nothing: a few kilobytes that would take 100 MB to decode.
        "bomb": encoded(Image.new("1", (10_000, 10_000)), "PNG"),
        "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(document.cookie)</script></svg>",
        "truncated": photo[: len(photo) // 2],
        "gif-polyglot": b"GIF89a/*<script>alert(1)</script>*/=1;",
        "text": b"<html><body>not a picture</body></html>",
        "empty": b"",
    }
    response = upload(site, editor, files[name], content_type="image/png")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]
    assert stored_count(migrated) == 0


def test_a_polyglot_is_re_encoded_so_its_payload_is_never_served(
    site: TestClient, editor: dict[str, str]
) -> None:
    photo = encoded(Image.new("RGB", (400, 300), (200, 200, 0)), "JPEG")
    hostile = photo + b"<html><script>alert(1)</script></html>PK\x03\x04" + SECRET
    body = upload(site, editor, hostile).json()
    for url, _, raw in every_file(site, body):
        assert b"<script" not in raw and SECRET not in raw and b"PK\x03\x04" not in raw, url


def test_uploads_need_an_editor_and_stay_within_the_size_limit(
    migrated: Settings, tokens: dict[str, str], editor: dict[str, str]
) -> None:
    settings = make_settings(migrated.database_url, base_url=BASE, media_max_bytes=100_000)
    with TestClient(create_app(settings), base_url=BASE) as site:
        photo = phone_photo()
        assert site.post("/api/media", content=photo).status_code == 401
        big = encoded(Image.effect_noise((1200, 900), 80).convert("RGB"), "JPEG", quality=100)
        assert len(big) > 100_000
        response = upload(site, editor, big)
        assert response.status_code == 413 and "100000" in response.json()["detail"]
        # A form's `file` field, as a browser or `curl -F file=@poster.jpg` sends it.
        sent = site.post("/api/media", files={"file": ("poster.jpg", photo)}, headers=editor)
        assert sent.status_code == 201, sent.text
        assert site.get(f"/api/media/{sent.json()['id']}", headers=editor).json() == sent.json()
    assert stored_count(migrated) == 1


def test_files_are_immutable_with_an_etag_and_304(site: TestClient, editor: dict[str, str]) -> None:
    body = upload(site, editor, phone_photo()).json()
    url = body["files"]["jpeg"][0]["url"]
    first = site.get(url)
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert first.headers["content-type"] == "image/jpeg"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in first.headers
    again = site.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert site.head(url).headers["content-length"] == str(len(first.content))
    root = url.rsplit("/", 1)[0]
    for missing in ("master", "master.jpg", "999.jpg", "social-101-0.jpg", "../x", "x.svg"):
        assert site.get(f"{root}/{missing}").status_code == 404, missing
    assert site.get(f"{BASE}/media/{'0' * 32}/320.jpg").status_code == 404


def with_picture(site: TestClient, editor: dict[str, str], **image: Any) -> dict[str, Any]:
    media = upload(site, editor, phone_photo()).json()
    event = make(
        site,
        editor,
        5,
        title=titled("Concert solidaire"),
        image={"media": media["id"], "alt": {"fr": "L'affiche du concert"}, **image},
    )
    return {"media": media, "event": event}


def test_every_output_shows_the_picture_at_its_true_size(
    site: TestClient, editor: dict[str, str]
) -> None:
    made = with_picture(site, editor, focus=[50, 20])
    media, event = made["media"], made["event"]
    assert event["image"]["width"] == 400 and event["image"]["height"] == 600
    root = f"{BASE}/media/{media['id']}/"

    def fetched(url: str) -> tuple[int, int]:
        assert url.startswith(root), url
        response = site.get(url)
        assert response.status_code == 200, url
        return Image.open(io.BytesIO(response.content)).size

    page = site.get(f"/events/{event['slug']}")
    doc = parse(page.text)
    [picture] = doc.by_class("event-picture")
    [img] = picture.all("img")
    assert img.attrs["alt"] == "L'affiche du concert"
    assert fetched(img.attrs["src"]) == (int(img.attrs["width"]), int(img.attrs["height"]))
    [source] = picture.all("source")
    for part in source.attrs["srcset"].split(", "):
        url, width = part.split(" ")
        assert fetched(url)[0] == int(width.rstrip("w"))
    meta = {
        m.attrs.get("property") or m.attrs.get("name"): m.attrs["content"]
        for m in doc.all("meta")
        if m.attrs.get("content")
    }
    assert meta["og:image"].endswith("/social-50-20.jpg")
    assert fetched(meta["og:image"]) == (1200, 630)
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["twitter:image"] == meta["og:image"]
    [script] = [s for s in doc.all("script") if s.attrs.get("type") == "application/ld+json"]
    jsonld = json.loads(script.text())
    assert [fetched(u) for u in jsonld["image"]] == [(1200, 675), (1200, 900), (1200, 1200)]
    # Cards: the home page, the agenda and the iframe's cards load it from here only.
    for path in ("/", "/agenda", "/embed/agenda?layout=cards"):
        cards = parse(site.get(path).text).by_class("card-picture")
        assert cards, path
        [card] = cards[0].all("img")
        assert fetched(card.attrs["src"]) == (int(card.attrs["width"]), int(card.attrs["height"]))
    # The widget's data.
    [item] = site.get("/api/occurrences").json()["items"]
    assert fetched(item["image"]["url"])[0] == 1024 or fetched(item["image"]["url"])[0] == 400
    # The newsletter block: an absolute JPEG URL with its exact size.
    block = site.get(f"/newsletter/events/{event['id']}.html").text
    [tag] = [t for t in re.findall(r"<img [^>]+>", block) if "/mail.jpg" in t]
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
    assert fetched(attrs["src"]) == (int(attrs["width"]), int(attrs["height"])) == (400, 600)
    # RSS: media:content with its true size and type; JSON Feed: the same file.
    rss = ET.fromstring(site.get("/feeds/agenda.rss").content)
    [content] = rss.iter("{http://search.yahoo.com/mrss/}content")
    assert content.attrib["type"] == "image/jpeg"
    assert fetched(content.attrib["url"]) == (
        int(content.attrib["width"]),
        int(content.attrib["height"]),
    )
    [entry] = site.get("/feeds/agenda.json").json()["items"]
    assert fetched(entry["image"])
    # iCalendar (RFC 7986): IMAGE with its type.
    ics = site.get(f"/events/{event['slug']}.ics").text.replace("\r\n ", "")
    [line] = [x for x in ics.splitlines() if x.startswith("IMAGE")]
    assert "FMTTYPE=image/jpeg" in line and "VALUE=URI" in line
    assert fetched(line.split(":", 1)[1])


def test_a_new_focal_point_makes_its_crops(site: TestClient, editor: dict[str, str]) -> None:
    made = with_picture(site, editor)
    event = made["event"]
    changed = site.patch(
        f"/api/events/{event['id']}", json={"image": {"focus": [10, 90]}}, headers=editor
    )
    assert changed.status_code == 200, changed.text
    page = parse(site.get(f"/events/{event['slug']}").text)
    [og] = [m for m in page.all("meta") if m.attrs.get("property") == "og:image"]
    assert og.attrs["content"].endswith("/social-10-90.jpg")
    assert site.get(og.attrs["content"]).status_code == 200


def test_an_event_picture_must_be_stored_and_described(
    site: TestClient, editor: dict[str, str]
) -> None:
    unknown = site.post(
        "/api/events",
        json={
            "title": "Concert",
            "start": "2027-05-01T20:00",
            "image": {"media": "0" * 32, "alt": "Affiche"},
        },
        headers=editor,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "image.media"
    media = upload(site, editor, phone_photo()).json()
    silent = site.post(
        "/api/events",
        json={"title": "Concert", "start": "2027-05-01T20:00", "image": {"media": media["id"]}},
        headers=editor,
    )
    assert silent.status_code == 422
    assert any(e["field"] == "image.alt" for e in silent.json()["errors"])
    decorative = site.post(
        "/api/events",
        json={
            "title": "Concert",
            "start": "2027-05-01T20:00",
            "image": {"media": media["id"], "decorative": True},
        },
        headers=editor,
    )
    assert decorative.status_code == 201, decorative.text
    page = parse(site.get(f"/events/{decorative.json()['slug']}").text)
    [img] = page.by_class("event-picture")[0].all("img")
    assert img.attrs["alt"] == ""
    both = site.post(
        "/api/events",
        json={
            "title": "Concert",
            "start": "2027-05-01T20:00",
            "image": {"media": media["id"], "url": "https://example.org/a.jpg", "alt": "x"},
        },
        headers=editor,
    )
    assert both.status_code == 422


def test_prune_removes_only_the_pictures_no_event_uses(
    site: TestClient, editor: dict[str, str], admin: dict[str, str], migrated: Settings
) -> None:
    kept = with_picture(site, editor)
    dropped = with_picture(site, editor, focus=[1, 1])  # the same picture, another event
    lonely = upload(site, editor, encoded(Image.new("RGB", (300, 300), (9, 9, 9)), "PNG"))
    runner = CliRunner()
    url = ["--database-url", migrated.database_url]
    recent = runner.invoke(cli_main, [*url, "media", "prune"])
    assert recent.exit_code == 0 and "removed 0" in recent.output  # all uploaded just now
    listed = runner.invoke(
        cli_main, [*url, "media", "prune", "--older-than-hours", "0", "--dry-run"]
    )
    assert listed.exit_code == 0, listed.output
    assert lonely.json()["id"] in listed.output and kept["media"]["id"] not in listed.output
    assert site.delete(f"/api/events/{kept['event']['id']}", headers=admin).status_code == 204
    # Still shown by the other event.
    again = runner.invoke(cli_main, [*url, "media", "prune", "--older-than-hours", "0"])
    assert again.exit_code == 0 and "removed 1" in again.output, again.output
    assert site.get(dropped["media"]["files"]["mail"]["url"]).status_code == 200
    assert stored_count(migrated) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", kept["media"]["id"])


def test_the_editor_form_keeps_the_picture_and_sets_its_focal_point(
    client: TestClient, editor: dict[str, str], migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calendar_service.db import accounts
    from tests.accounts import CHEAP, make_user, sign_in
    from tests.test_editor_events import _form_values

    monkeypatch.setattr(accounts, "hasher", CHEAP)
    made = with_picture(client, editor)
    event_id = made["event"]["id"]
    make_user(migrated)
    assert sign_in(client).status_code == 303
    page = client.get(f"/editor/events/{event_id}")
    values = _form_values(page.text)
    assert values["image.media"] == made["media"]["id"]
    values.update({"image.focus_x": "20", "image.focus_y": "80"})
    saved = client.post(f"/editor/events/{event_id}", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    image = client.get(f"/api/events/{event_id}").json()["image"]
    assert image["media"] == made["media"]["id"] and image["focus"] == [20, 80]
    assert image["alt"] == {"fr": "L'affiche du concert"}
    crop = f"/media/{image['media']}/social-20-80.jpg"
    assert client.get(crop).status_code == 200


def test_a_poster_sent_with_the_editor_form_becomes_the_event_picture(
    client: TestClient, migrated: Settings, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from calendar_service.db import accounts
    from tests.accounts import CHEAP, make_user, sign_in
    from tests.test_editor_events import WEEKLY, created_id, token_of

    monkeypatch.setattr(accounts, "hasher", CHEAP)
    make_user(migrated)
    assert sign_in(client).status_code == 303
    fields = {**WEEKLY, "csrf_token": token_of(client), "image.alt.fr": "L'affiche"}
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = client.post("/editor/events", data=fields, files={"image.file": ("affiche.svg", svg)})
    assert refused.status_code == 400
    error = parse(refused.text).by_id("f-image-file-error")
    assert error is not None and "SVG" in error.words(), refused.text[:2000]
    assert stored_count(migrated) == 0
    sent = client.post(
        "/editor/events",
        data=fields,
        files={"image.file": ("affiche.jpg", phone_photo(), "image/jpeg")},
        follow_redirects=False,
    )
    event_id = created_id(sent)
    image = client.get(f"/api/events/{event_id}", headers=editor).json()["image"]
    assert image["width"] == 400 and image["alt"] == {"fr": "L'affiche"} and not image.get("url")
    assert client.get(f"/media/{image['media']}/social-50-50.jpg").status_code == 200
    # Taken off again.
    values = _form_values_of(client, f"/editor/events/{event_id}")
    values["image.remove"] = "on"
    removed = client.post(f"/editor/events/{event_id}", data=values, follow_redirects=False)
    assert removed.status_code == 303, removed.text[:2000]
    assert client.get(f"/api/events/{event_id}", headers=editor).json().get("image") is None


def _form_values_of(client: TestClient, path: str) -> dict[str, str]:
    from tests.test_editor_events import _form_values

    return _form_values(client.get(path).text)


def test_a_proposal_may_bring_a_picture_within_its_own_limits(
    migrated: Settings, tokens: dict[str, str], editor: dict[str, str]
) -> None:
    from tests.accounts import csrf_of
    from tests.test_proposer import form

    settings = make_settings(
        migrated.database_url, proposal_pictures_per_hour=2, proposals_per_hour=50
    )
    with TestClient(create_app(settings)) as client:

        def propose(picture: bytes, **fields: str) -> Any:
            token = csrf_of(client.get("/proposer"))
            return client.post(
                "/proposer",
                data={"csrf_token": token, **form(**fields)},
                files={"picture": ("affiche.jpg", picture, "image/jpeg")},
                follow_redirects=False,
            )

        def error_of(response: Any, field: str) -> str:
            return parse(response.text).by_id(f"{field}-error").words()

        silent = propose(phone_photo())
        assert silent.status_code == 400 and "Décrivez" in error_of(silent, "picture_alt")
        svg = propose(b"<svg><script>alert(1)</script></svg>", picture_alt="Affiche")
        assert svg.status_code == 400 and "SVG" in error_of(svg, "picture")
        sent = propose(phone_photo(), picture_alt="Affiche du concert")
        assert sent.status_code == 303, sent.text[:2000]
        [pending] = client.get("/api/events?state=pending", headers=editor).json()["items"]
        assert pending["image"]["media"] and pending["image"]["width"] == 400
        assert pending["image"]["alt"] == {"fr": "Affiche du concert"}
        # Two pictures an hour from one address (the SVG counted): the third is refused.
        third = propose(phone_photo(), picture_alt="Affiche")
        assert third.status_code == 400 and "Trop d'images" in error_of(third, "picture")
    assert stored_count(migrated) == 1


def test_a_picture_elsewhere_is_fetched_once_and_hosted_within_limits(
    migrated: Settings,
    tokens: dict[str, str],
    editor: dict[str, str],
    serve: Any,  # noqa: F811
) -> None:
    server = serve()
    server.routes["/affiche.jpg"] = (200, {"Content-Type": "image/jpeg"}, phone_photo())
    server.routes["/old"] = (301, {"Location": "/affiche.jpg"}, b"")
    server.routes["/page"] = (200, {"Content-Type": "text/html"}, b"<html>secret</html>")
    big = encoded(Image.effect_noise((1200, 900), 80).convert("RGB"), "JPEG", quality=100)
    server.routes["/big.jpg"] = (200, {"Content-Type": "image/jpeg"}, big)

    def host(client: TestClient, url: str) -> Any:
        return client.post("/api/media", json={"url": url}, headers=editor)

    closed = make_settings(migrated.database_url, base_url=BASE)
    with TestClient(create_app(closed), base_url=BASE) as client:
        plain = host(client, server.url + "/affiche.jpg")
        assert plain.status_code == 422 and "only https" in plain.json()["detail"]
        local = host(client, server.url.replace("http:", "https:") + "/affiche.jpg")
        assert local.status_code == 422 and "refused" in local.json()["detail"]
        assert host(client, "https://169.254.169.254/latest/meta-data").status_code == 422
    assert stored_count(migrated) == 0

    opened = make_settings(
        migrated.database_url, base_url=BASE, media_fetch_local=True, media_max_bytes=200_000
    )
    with TestClient(create_app(opened), base_url=BASE) as client:
        page = host(client, server.url + "/page")
        assert page.status_code == 422 and "did not answer with a picture" in page.json()["detail"]
        assert "secret" not in page.text
        too_big = host(client, server.url + "/big.jpg")
        assert too_big.status_code == 422 and "larger than" in too_big.json()["detail"]
        hosted = host(client, server.url + "/old")
        assert hosted.status_code == 201, hosted.text
        assert hosted.json()["id"] == upload(client, editor, phone_photo()).json()["id"]
        for _, _, raw in every_file(client, hosted.json()):
            assert SECRET not in raw
    assert stored_count(migrated) == 1
    requests = [path for path, _ in server.requests]
    assert requests.count("/affiche.jpg") == 1  # fetched once (the later upload is the same)


def test_the_editor_form_hosts_a_picture_from_its_address(
    migrated: Settings,
    tokens: dict[str, str],
    editor: dict[str, str],
    serve: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from calendar_service.db import accounts
    from tests.accounts import CHEAP, make_user, sign_in
    from tests.test_editor_events import WEEKLY, created_id, token_of

    server = serve()
    server.routes["/affiche.jpg"] = (200, {"Content-Type": "image/jpeg"}, phone_photo())
    monkeypatch.setattr(accounts, "hasher", CHEAP)
    make_user(migrated)
    settings = make_settings(migrated.database_url, media_fetch_local=True)
    with TestClient(create_app(settings)) as client:
        assert sign_in(client).status_code == 303
        fields = {
            **WEEKLY,
            "csrf_token": token_of(client),
            "image.url": server.url + "/missing.jpg",
            "image.host": "on",
            "image.alt.fr": "L'affiche",
        }
        failed = client.post("/editor/events", data=fields)
        assert failed.status_code == 400
        assert "n'a pas pu être récupérée" in parse(failed.text).by_id("f-image-url-error").words()
        fields["image.url"] = server.url + "/affiche.jpg"
        event_id = created_id(client.post("/editor/events", data=fields, follow_redirects=False))
        image = client.get(f"/api/events/{event_id}", headers=editor).json()["image"]
        assert image["media"] and not image.get("url") and image["height"] == 600


def test_a_heic_phone_photo_is_accepted_and_served_as_jpeg_and_webp(
    site: TestClient, editor: dict[str, str]
) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    photo = Image.new("RGB", (640, 480), (30, 120, 200))
    heic = encoded(photo, "HEIF", quality=80)
    assert heic[4:12] == b"ftypheic"
    response = upload(site, editor, heic, content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_type"] == "image/heic" and (body["width"], body["height"]) == (640, 480)
    for url, image, _ in every_file(site, body):
        assert image.format in ("JPEG", "WEBP"), url
