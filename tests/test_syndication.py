"""The feeds e-mail tools pull: ``/feeds/{slug}.rss`` (RSS 2.0, Mailchimp's RSS-to-Email and
``*|FEEDBLOCK|*``) and ``/feeds/{slug}.json`` (JSON Feed 1.1, Brevo's data feeds), read by a real
feed parser (feedparser), by the standard library's XML parser and against the JSON Feed spec.

feedparser 6.0.x reads RSS and Atom only: it has no JSON Feed support (``parse`` of a JSON Feed
gives ``bozo`` and an empty ``version``, see ``test_feedparser_and_json_feed``), so the JSON Feed
is checked field by field against https://www.jsonfeed.org/version/1.1/.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from io import BytesIO
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import feedparser
import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.emailsafety import assert_email_safe
from tests.factories import create

PARIS = ZoneInfo("Europe/Paris")
RSS = "/feeds/agenda.rss"
JSON_FEED = "/feeds/agenda.json"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
MERGE_DELIMITERS = ("*|", "|*", "{{", "}}")
HOSTILE = "<script>alert(1)</script> *|UNSUB|* {{ contact.EMAIL }}"
HOSTILE_WORDS = ("alert(1)", "UNSUB", "contact.EMAIL")
HOSTILE_ALT = "Affiche « \"La nuit\" » d'O'Brien <b> *|X|* {{ y }}"
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
IMAGE = {
    "url": "https://example.org/affiche.jpg",
    "alt": {"fr": "Affiche du concert", "en": "The concert's poster"},
    "width": 1200,
    "height": 800,
}


# --- helpers ----------------------------------------------------------------------------------


def local_day(days: int) -> date:
    """The day ``days`` from today in Paris (the service's zone)."""
    return datetime.now(PARIS).date() + timedelta(days=days)


def at(days: int, hour: int = 18, minute: int = 30, hours: int = 3) -> dict[str, str]:
    """``start`` and ``end`` of an event ``days`` from today, in local wall time."""
    start = datetime.combine(local_day(days), clock_time(hour, minute))
    return {"start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat()}


def make(client: TestClient, editor: dict[str, str], days: int, **fields: Any) -> dict[str, Any]:
    """An event ``days`` from today (fields as for ``create``)."""
    return create(client, editor, **{**at(days), **fields})


def seconds(timestamp: str) -> int:
    """An API timestamp (``...Z``) as whole epoch seconds."""
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def fetch(client: TestClient, url: str, media_type: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    return response.content


def parse_rss(body: bytes) -> Any:
    """The feed as feedparser reads it: well-formed RSS 2.0. Its HTML sanitiser is off: it
    rewrites styles and drops ``role``, as a feed reader would, while e-mail tools take the
    content as it is."""
    parsed = feedparser.parse(body, sanitize_html=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    return parsed


def rss(client: TestClient, url: str = RSS) -> tuple[bytes, Any]:
    body = fetch(client, url, "application/rss+xml")
    return body, parse_rss(body)


def json_feed(client: TestClient, url: str = JSON_FEED) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(fetch(client, url, "application/feed+json"))
    return feed


def entries(parsed: Any) -> dict[str, Any]:
    """feedparser's entries by guid."""
    return {entry.id: entry for entry in parsed.entries}


def xml_items(body: bytes) -> dict[str, ET.Element]:
    """The RSS items as the standard library reads them, by guid."""
    root = ET.fromstring(body)
    return {item.findtext("guid", ""): item for item in root.iterfind("channel/item")}


def namespaces(body: bytes) -> dict[str, str]:
    """The prefixes the document declares."""
    declared: dict[str, str] = {}
    for _, (prefix, uri) in ET.iterparse(BytesIO(body), events=("start-ns",)):
        declared[prefix] = uri
    return declared


def merge_delimiters(text: str) -> list[str]:
    return [d for d in MERGE_DELIMITERS if d in text]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []
        self.shape: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.shape.append(("<", tag, tuple(sorted(attrs, key=lambda a: a[0]))))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("img", "br", "hr"):  # feedparser writes <img ...></img>
            self.shape.append(("</", tag))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.shape.append(("text", data))


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def html_text(html: str) -> tuple[str, list[str]]:
    """The text of an HTML fragment and the tags it opens."""
    reader = _read(html)
    return "".join(reader.parts), reader.tags


def html_shape(html: str) -> list[tuple[Any, ...]]:
    """Elements, attributes (in any order) and text: HTML as a parser sees it."""
    return _read(html).shape


@pytest.fixture
def week_client(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    """An app whose RSS and JSON feeds look 7 days ahead."""
    settings = make_settings(migrated.database_url, syndication_days=7)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# --- RSS 2.0 ----------------------------------------------------------------------------------


def test_rss_channel(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 5)
    body, parsed = rss(client)
    assert parsed.feed.title == "Agenda solidaire"
    assert parsed.feed.link == "http://testserver/"
    assert parsed.feed.language == "fr"
    assert parsed.feed.subtitle.startswith("Concerts, mobilisations")
    assert parsed.feed.ttl == "60"
    assert parsed.encoding == "utf-8"
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert len(root.findall("channel")) == 1
    built = parsedate_to_datetime(root.findtext("channel/lastBuildDate", ""))
    assert built.utcoffset() == timedelta(0)


def test_rss_namespaces_and_self_link(client: TestClient, editor: dict[str, str]) -> None:
    make(client, editor, 5, image=IMAGE)
    body, _ = rss(client)
    declared = namespaces(body)
    assert declared["content"] == CONTENT_NS
    assert declared["media"] == MEDIA_NS
    assert declared["atom"] == ATOM_NS
    root = ET.fromstring(body)
    links = root.findall(f"channel/{{{ATOM_NS}}}link")
    assert [(a.get("rel"), a.get("href"), a.get("type")) for a in links] == [
        ("self", "http://testserver/feeds/agenda.rss", "application/rss+xml")
    ]
    item = root.find("channel/item")
    assert item is not None
    assert item.find(f"{{{CONTENT_NS}}}encoded") is not None
    assert item.find(f"{{{MEDIA_NS}}}content") is not None
    # The self link is the address asked for, query included.
    narrowed, _ = rss(client, f"{RSS}?category=concert")
    link = ET.fromstring(narrowed).find(f"channel/{{{ATOM_NS}}}link")
    assert (
        link is not None
        and link.get("href") == "http://testserver/feeds/agenda.rss?category=concert"
    )


def test_rss_items(client: TestClient, editor: dict[str, str]) -> None:
    made = make(client, editor, 5, image=IMAGE)
    api = client.get(f"/api/events/{made['id']}").json()
    body, parsed = rss(client)
    entry = entries(parsed)[made["uid"]]
    item = xml_items(body)[made["uid"]]

    assert entry.title == made["title"]["fr"]
    assert entry.link == "https://example.org/concert"
    # guid: the event's UID, not a link.
    assert entry.id == made["uid"]
    assert entry.guidislink is False
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    # pubDate: when the event was published, to the second.
    assert calendar.timegm(entry.published_parsed) == seconds(api["published_at"])
    published = parsedate_to_datetime(item.findtext("pubDate", ""))
    assert int(published.timestamp()) == seconds(api["published_at"])

    # description: short plain text with the date phrase.
    description = item.findtext("description", "")
    assert "<" not in description
    assert 0 < len(description) <= 300
    day = local_day(5)
    assert f"{day.day} {MONTHS_FR[day.month - 1]}" in description
    assert "18\u00a0h\u00a030" in description
    assert "La Bellevilloise" in description
    assert "Un concert au profit d'ALIMA." in description
    assert entry.summary == description

    # content:encoded: the e-mail safe HTML block.
    encoded = item.findtext(f"{{{CONTENT_NS}}}encoded", "")
    # feedparser writes the HTML out again (attributes sorted, <img></img>): the same elements,
    # attributes and text; the safety checks read the bytes e-mail tools receive.
    assert html_shape(entry.content[0].value) == html_shape(encoded)
    assert entry.content[0].type == "text/html"
    assert_email_safe(encoded, lang="fr")
    text, tags = html_text(encoded)
    assert "h3" in tags and "img" in tags
    assert api["title"]["fr"] in text
    assert f"{day.day} {MONTHS_FR[day.month - 1]}" in text

    # category: the category's label, then the tags.
    assert [t.term for t in entry.tags] == ["Concert", "musique", "solidarite"]
    assert [c.text for c in item.findall("category")] == ["Concert", "musique", "solidarite"]


def test_rss_image_as_media_content(client: TestClient, editor: dict[str, str]) -> None:
    pictured = make(client, editor, 5, image=IMAGE)
    bare = make(client, editor, 6)
    body, parsed = rss(client)
    found = entries(parsed)
    [media] = found[pictured["uid"]].media_content
    assert media["url"] == IMAGE["url"]
    assert media["medium"] == "image"
    width, height = int(media["width"]), int(media["height"])
    # The file's proportions; at most its size (the block shows it 560 pixels wide).
    assert 0 < width <= IMAGE["width"] and 0 < height <= IMAGE["height"]
    assert abs(width / height - 1.5) < 0.01
    element = xml_items(body)[pictured["uid"]].find(f"{{{MEDIA_NS}}}content")
    assert element is not None
    assert element.findtext(f"{{{MEDIA_NS}}}description") == "Affiche du concert"
    assert "media_content" not in found[bare["uid"]]
    assert xml_items(body)[bare["uid"]].find(f"{{{MEDIA_NS}}}content") is None


def test_rss_guid_is_stable_across_a_change(
    client: TestClient, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft published later: pubDate is the publication, not the creation nor the last
    change; a change keeps the guid and the pubDate and changes the content."""
    clock = {"now": datetime.now(PARIS) - timedelta(hours=3)}
    monkeypatch.setattr("calendar_service.db.events.utc_now", lambda: clock["now"])
    made = make(client, editor, 5, state="draft")
    assert made["published_at"] is None
    url = f"/api/events/{made['id']}"
    clock["now"] += timedelta(hours=1)
    published = client.patch(url, json={"state": "published"}, headers=editor)
    assert published.status_code == 200, published.text
    published_at = published.json()["published_at"]
    assert seconds(published_at) == seconds(made["created_at"]) + 3600

    _, before = rss(client)
    first = entries(before)[made["uid"]]
    clock["now"] += timedelta(hours=1)
    changed = client.patch(
        url,
        json={"title": {"fr": "Concert déplacé", "en": "Moved concert"}, "summary": "Nouveau"},
        headers=editor,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["published_at"] == published_at
    _, after = rss(client)
    second = entries(after)[made["uid"]]

    assert [e.id for e in after.entries] == [made["uid"]]
    assert second.id == first.id == made["uid"]
    assert second.title == "Concert déplacé" != first.title
    assert second.content[0].value != first.content[0].value
    assert "Concert déplacé" in second.content[0].value
    assert "Nouveau" in second.summary
    assert calendar.timegm(first.published_parsed) == seconds(published_at)
    assert calendar.timegm(second.published_parsed) == seconds(published_at)


def test_rss_lists_only_the_coming_published_events(
    client: TestClient, editor: dict[str, str]
) -> None:
    kept = make(client, editor, 3)
    ongoing = create(
        client,
        editor,
        start=(datetime.now(PARIS) - timedelta(hours=1)).replace(tzinfo=None).isoformat("T"),
        end=(datetime.now(PARIS) + timedelta(hours=2)).replace(tzinfo=None).isoformat("T"),
    )
    past = make(client, editor, -3)
    beyond = make(client, editor, 95)  # syndication_days is 90
    draft = make(client, editor, 4, state="draft")
    pending = make(client, editor, 4, state="pending")
    deleted = make(client, editor, 4)
    assert client.delete(f"/api/events/{deleted['id']}", headers=editor).status_code == 204
    body, parsed = rss(client)
    assert set(entries(parsed)) == {kept["uid"], ongoing["uid"]}
    assert set(xml_items(body)) == {kept["uid"], ongoing["uid"]}
    for absent in (past, beyond, draft, pending, deleted):
        assert absent["uid"].encode() not in body
    assert {item["id"] for item in json_feed(client)["items"]} == {kept["uid"], ongoing["uid"]}


def test_syndication_days_bounds_the_window(
    week_client: TestClient, editor: dict[str, str]
) -> None:
    near = make(week_client, editor, 5)
    far = make(week_client, editor, 10)
    _, parsed = rss(week_client)
    assert set(entries(parsed)) == {near["uid"]}
    assert far["uid"] not in {item["id"] for item in json_feed(week_client)["items"]}


def test_rss_marks_a_cancelled_event(client: TestClient, editor: dict[str, str]) -> None:
    cancelled = make(client, editor, 4, status="cancelled")
    full = make(client, editor, 5, status="full")
    _, parsed = rss(client)
    found = entries(parsed)
    assert found[cancelled["uid"]].title == f"[Annulé] {cancelled['title']['fr']}"
    assert found[full["uid"]].title == full["title"]["fr"]  # a mild status is in the block only
    assert "Annulé" in found[cancelled["uid"]].content[0].value
    _, english = rss(client, f"{RSS}?lang=en")
    assert entries(english)[cancelled["uid"]].title == f"[Cancelled] {cancelled['title']['en']}"
    items = {item["id"]: item for item in json_feed(client)["items"]}
    assert items[cancelled["uid"]]["title"] == f"[Annulé] {cancelled['title']['fr']}"
    assert items[cancelled["uid"]]["_event"]["status"] == "cancelled"


def test_rss_orders_by_next_occurrence(client: TestClient, editor: dict[str, str]) -> None:
    far = make(client, editor, 20)
    # Weekly from 18 days ago: its next date is in 3 days, its first one long past.
    weekly = make(client, editor, -18, recurrence={"rrule": "FREQ=WEEKLY;COUNT=6"})
    near = make(client, editor, 1)
    body, parsed = rss(client)
    expected = [near["uid"], weekly["uid"], far["uid"]]
    assert [e.id for e in parsed.entries] == expected
    assert list(xml_items(body)) == expected
    assert [item["id"] for item in json_feed(client)["items"]] == expected
    description = xml_items(body)[weekly["uid"]].findtext("description", "")
    day = local_day(3)
    # "les mardis 1er, 8 et 15 décembre": the next date, then the month once for its days.
    number = "1er" if day.day == 1 else str(day.day)
    assert re.search(rf"\b{number}\b[^–]*{MONTHS_FR[day.month - 1]}", description), description


def test_rss_in_english(client: TestClient, editor: dict[str, str]) -> None:
    made = make(
        client,
        editor,
        5,
        category="projection",
        summary={"fr": "Un film et un débat.", "en": "A film and a talk."},
    )
    body, parsed = rss(client, f"{RSS}?lang=en")
    assert parsed.feed.title == "Solidarity calendar"
    assert parsed.feed.language == "en"
    assert parsed.feed.subtitle.startswith("Concerts, demonstrations")
    link = ET.fromstring(body).find(f"channel/{{{ATOM_NS}}}link")
    assert link is not None and link.get("href") == "http://testserver/feeds/agenda.rss?lang=en"
    entry = entries(parsed)[made["uid"]]
    assert entry.title == made["title"]["en"]
    assert entry.tags[0].term == "Screening"
    day = local_day(5)
    assert MONTHS_EN[day.month - 1] in entry.summary
    assert "A film and a talk." in entry.summary
    assert_email_safe(entry.content[0].value, lang="en")
    french = entries(rss(client)[1])[made["uid"]]
    assert french.tags[0].term == "Projection"
    assert french.title == made["title"]["fr"]


def test_rss_narrowing(client: TestClient, editor: dict[str, str]) -> None:
    concert = make(client, editor, 3, tags=["musique"])
    screening = make(
        client,
        editor,
        4,
        category="projection",
        tags=["cinema"],
        title={"fr": "Projection Outrepasser", "en": "Outrepasser screening"},
    )
    cancelled = make(client, editor, 5, category="projection", status="cancelled", tags=["cinema"])

    def uids(query: str) -> set[str]:
        return set(entries(rss(client, f"{RSS}?{query}")[1]))

    assert uids("category=concert") == {concert["uid"]}
    assert uids("category=projection") == {screening["uid"], cancelled["uid"]}
    assert uids("tag=cinema") == {screening["uid"], cancelled["uid"]}
    assert uids("status=cancelled") == {cancelled["uid"]}
    assert uids("q=Outrepasser") == {screening["uid"]}
    assert uids("category=concert&lang=en") == {concert["uid"]}
    culture = set(entries(rss(client, "/feeds/culture.rss")[1]))
    assert culture == {concert["uid"], screening["uid"], cancelled["uid"]}
    assert set(entries(rss(client, "/feeds/mobilisations.rss")[1])) == set()
    assert {i["id"] for i in json_feed(client, f"{JSON_FEED}?category=concert")["items"]} == {
        concert["uid"]
    }


@pytest.mark.parametrize("kind", ["rss", "json"])
def test_unknown_feed_and_bad_parameters(client: TestClient, kind: str) -> None:
    assert client.get(f"/feeds/nope.{kind}").status_code == 404
    assert client.get(f"/feeds/agenda.{kind}?lang=de").status_code == 400
    assert client.get(f"/feeds/agenda.{kind}?category=nope").status_code == 400
    assert client.get(f"/feeds/agenda.{kind}?status=nope").status_code == 400


def test_a_long_summary_gives_a_short_description(
    client: TestClient, editor: dict[str, str]
) -> None:
    summary = " ".join(["Une soirée de soutien aux personnes exilées, avec musique et repas."] * 4)
    assert len(summary) <= 300
    made = make(client, editor, 5, summary=summary)
    body, _ = rss(client)
    description = xml_items(body)[made["uid"]].findtext("description", "")
    assert len(description) <= 300
    assert description.endswith("…")
    day = local_day(5)
    assert f"{day.day} {MONTHS_FR[day.month - 1]}" in description
    assert "  " not in description and "\n" not in description


# --- JSON Feed 1.1 ----------------------------------------------------------------------------


def test_feedparser_and_json_feed(client: TestClient, editor: dict[str, str]) -> None:
    """feedparser 6.0.x cannot read JSON Feed; if a later one can, it must read ours."""
    made = make(client, editor, 5)
    body = fetch(client, JSON_FEED, "application/feed+json")
    parsed = feedparser.parse(body)
    if parsed.version in ("json1", "json11"):
        assert not parsed.bozo
        assert parsed.version == "json11"
        assert [e.id for e in parsed.entries] == [made["uid"]]
    else:
        assert parsed.version == ""  # not read as a feed at all: checked by hand below


def test_json_feed_follows_the_spec(client: TestClient, editor: dict[str, str]) -> None:
    pictured = make(client, editor, 5, image=IMAGE)
    bare = make(client, editor, 6, category="projection")
    feed = json_feed(client)

    assert feed["version"] == JSON_FEED_VERSION
    assert feed["title"] == "Agenda solidaire"
    assert feed["home_page_url"] == "http://testserver/"
    assert feed["feed_url"] == "http://testserver/feeds/agenda.json"
    assert feed["language"] == "fr"
    assert isinstance(feed["description"], str) and feed["description"]
    assert all(isinstance(a, dict) and a["name"] for a in feed["authors"])
    assert "author" not in feed  # deprecated in 1.1
    assert isinstance(feed["items"], list)
    for key in feed:
        assert key in {
            "version",
            "title",
            "home_page_url",
            "feed_url",
            "description",
            "user_comment",
            "next_url",
            "icon",
            "favicon",
            "authors",
            "language",
            "expired",
            "hubs",
            "items",
        } or re.fullmatch(r"_[a-z]\w*", key), key

    items = {item["id"]: item for item in feed["items"]}
    assert list(items) == [pictured["uid"], bare["uid"]]
    for made in (pictured, bare):
        item = items[made["uid"]]
        api = client.get(f"/api/events/{made['id']}").json()
        assert isinstance(item["id"], str)
        assert item["url"] == api["url"]
        assert item["title"] == api["title"]["fr"]
        assert item["language"] == "fr"
        for name in ("date_published", "date_modified"):
            assert RFC_3339.fullmatch(item[name]), item[name]
        published = datetime.fromisoformat(item["date_published"].replace("Z", "+00:00"))
        assert published == datetime.fromisoformat(api["published_at"].replace("Z", "+00:00"))
        assert_email_safe(item["content_html"], lang="fr")
        assert api["title"]["fr"] in html_text(item["content_html"])[0]
        assert "<" not in item["content_text"]
        assert api["title"]["fr"] in item["content_text"]
        assert "<" not in item["summary"] and len(item["summary"]) <= 300
        assert item["tags"] == [
            "Concert" if made is pictured else "Projection",
            "musique",
            "solidarite",
        ]
        event = item["_event"]
        assert event["uid"] == made["uid"]
        assert event["start"] == api["start"] and event["end"] == api["end"]
        assert event["location"] == api["location"]
        assert event["organizer"] == api["organizer"]
        assert event["title"] == api["title"]["fr"]  # in the feed's language
        assert event["when"] in item["summary"]
        assert event["occurrences"] == [{"start": api["start"], "end": api["end"]}]
        for occurrence in event["occurrences"]:
            assert RFC_3339.fullmatch(occurrence["start"])
    assert items[pictured["uid"]]["image"] == IMAGE["url"]
    assert "image" not in items[bare["uid"]]
    assert items[pictured["uid"]]["_event"]["image"]["alt"] == "Affiche du concert"


def test_json_feed_matches_the_rss(client: TestClient, editor: dict[str, str]) -> None:
    made = make(client, editor, 5, image=IMAGE)
    body, _ = rss(client)
    item = xml_items(body)[made["uid"]]
    [entry] = json_feed(client)["items"]
    assert entry["content_html"] == item.findtext(f"{{{CONTENT_NS}}}encoded")
    assert entry["summary"] == item.findtext("description")
    assert entry["title"] == item.findtext("title")
    english = json_feed(client, f"{JSON_FEED}?lang=en")
    assert english["language"] == "en"
    assert english["title"] == "Solidarity calendar"
    assert english["feed_url"] == "http://testserver/feeds/agenda.json?lang=en"
    [english_item] = english["items"]
    assert english_item["title"] == made["title"]["en"]
    assert english_item["_event"]["title"] == made["title"]["en"]
    assert_email_safe(english_item["content_html"], lang="en")


def test_json_feed_recurring_event_lists_its_coming_dates(
    client: TestClient, editor: dict[str, str]
) -> None:
    weekly = make(client, editor, -18, recurrence={"rrule": "FREQ=WEEKLY;COUNT=6"})
    [item] = json_feed(client)["items"]
    assert item["id"] == weekly["uid"]
    starts = [datetime.fromisoformat(o["start"]) for o in item["_event"]["occurrences"]]
    assert [s.date() for s in starts] == [local_day(3), local_day(10), local_day(17)]
    assert all(s.hour == 18 and s.minute == 30 for s in starts)


# --- caching ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [RSS, JSON_FEED])
def test_etag_and_304_then_a_write_changes_the_body(
    client: TestClient, editor: dict[str, str], url: str
) -> None:
    make(client, editor, 5)
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age=" in first.headers["cache-control"]
    assert first.headers["last-modified"]
    same = client.get(url, headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.content == first.content
    assert client.get(url, headers={"If-None-Match": plain.headers["etag"]}).status_code == 304

    added = make(client, editor, 6, title={"fr": "Nouvel événement", "en": "New event"})
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.content != first.content
    assert added["uid"].encode() in changed.content
    assert "Nouvel événement".encode() in changed.content


# --- hostile text -----------------------------------------------------------------------------


def hostile_event(client: TestClient, editor: dict[str, str]) -> dict[str, Any]:
    return make(
        client,
        editor,
        5,
        title={"fr": HOSTILE, "en": HOSTILE},
        summary={"fr": HOSTILE},
        location={"name": HOSTILE, "city": "Paris"},
        image={"url": "https://example.org/affiche.jpg", "alt": {"fr": HOSTILE_ALT}},
    )


def test_hostile_text_in_rss(client: TestClient, editor: dict[str, str]) -> None:
    made = hostile_event(client, editor)
    body, parsed = rss(client)
    raw = body.decode()
    assert "<script" not in raw
    assert merge_delimiters(raw) == []
    item = xml_items(body)[made["uid"]]  # well-formed XML
    entry = entries(parsed)[made["uid"]]

    assert all(word in entry.title for word in HOSTILE_WORDS)
    html = item.findtext(f"{{{CONTENT_NS}}}encoded", "")
    assert_email_safe(html, lang="fr")
    text, tags = html_text(html)
    assert "script" not in tags and "b" not in tags
    assert all(word in text for word in HOSTILE_WORDS)
    assert "<script>alert(1)</script>" in text  # shown as text
    media = item.find(f"{{{MEDIA_NS}}}content")
    assert media is not None
    alt = media.findtext(f"{{{MEDIA_NS}}}description", "")
    assert '"La nuit"' in alt and "O'Brien" in alt
    assert merge_delimiters(alt) == []

    # RSS 2.0 descriptions are read as HTML (entity-encoded): a plain one must carry no markup,
    # and a feed reader (feedparser with its sanitiser, as readers use it) must find every word.
    description = item.findtext("description", "")
    assert "<" not in description, description
    [read] = feedparser.parse(body).entries
    assert all(word in read.summary for word in HOSTILE_WORDS), read.summary


def test_hostile_text_in_json_feed(client: TestClient, editor: dict[str, str]) -> None:
    made = hostile_event(client, editor)
    body = fetch(client, JSON_FEED, "application/feed+json")
    assert merge_delimiters(body.decode()) == []
    [item] = json.loads(body)["items"]
    assert item["id"] == made["uid"]
    assert_email_safe(item["content_html"], lang="fr")
    text, tags = html_text(item["content_html"])
    assert "script" not in tags
    assert all(word in text for word in HOSTILE_WORDS)
    for plain in (item["title"], item["summary"], item["content_text"], item["_event"]["title"]):
        assert all(word in plain for word in HOSTILE_WORDS), plain
    assert item["_event"]["location"]["name"].startswith("<script>alert(1)</script>")
    alt = item["_event"]["image"]["alt"]
    assert '"La nuit"' in alt and "O'Brien" in alt


@pytest.mark.parametrize("url", [f"{RSS}?q=*|UNSUB|*", f"{JSON_FEED}?q={{{{ contact.EMAIL }}}}"])
def test_no_merge_tag_from_the_query_string(
    client: TestClient, editor: dict[str, str], url: str
) -> None:
    """The feed's own address (atom:link, feed_url) repeats the query: it must not carry a
    merge tag either."""
    hostile_event(client, editor)
    response = client.get(url)
    assert response.status_code == 200
    assert merge_delimiters(response.text) == []


def test_a_hostile_long_summary_stays_short(client: TestClient, editor: dict[str, str]) -> None:
    """The description is cut to 300 characters before the merge tags are broken up: it must
    stay within 300 characters after."""
    made = make(client, editor, 5, summary="{{ *|" * 60)
    body, _ = rss(client)
    description = xml_items(body)[made["uid"]].findtext("description", "")
    assert merge_delimiters(description) == []
    assert len(description) <= 300, len(description)
