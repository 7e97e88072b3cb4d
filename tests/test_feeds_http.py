"""Feeds over HTTP: parameters, validators, compression, retention, the cache, the single-event
file and the list of feeds."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import icalendar
import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.dates import utc_now
from tests.conftest import make_settings
from tests.factories import create
from tests.icalcheck import all_parsers_agree, icalendar_texts, structural_problems
from tests.test_feeds import (
    FEEDS_DIR,
    PLAIN,
    YEAR_2027,
    every_case,
    feed,
    one,
    raw_properties,
    utc_second,
    vevents,
    weekly_expected,
)

AGENDA = "/feeds/agenda.ics"


def test_content_type_validators_and_cache_control(client, editor) -> None:
    made = create(client, editor)
    response = client.get(AGENDA, headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-encoding" not in response.headers
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert f"{modified:%Y%m%dT%H%M%SZ}" == utc_second(made["updated_at"])
    assert "max-age=" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]
    assert "accept-encoding" in response.headers["vary"].lower()
    assert structural_problems(response.content) == []


def test_if_none_match_and_a_changed_feed(client, editor) -> None:
    create(client, editor)
    first = client.get(AGENDA, headers=PLAIN)
    etag = first.headers["etag"]
    same = client.get(AGENDA, headers={**PLAIN, "If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    listed = client.get(AGENDA, headers={**PLAIN, "If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304
    added = create(client, editor, title="Nouvel événement")
    changed = client.get(AGENDA, headers={**PLAIN, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert added["uid"] in vevents(changed.content)
    # A stale ETag wins over a current date (RFC 9110: If-Modified-Since is then ignored).
    current_date = changed.headers["last-modified"]
    both = client.get(
        AGENDA, headers={**PLAIN, "If-None-Match": etag, "If-Modified-Since": current_date}
    )
    assert both.status_code == 200


def test_if_modified_since(client, editor) -> None:
    create(client, editor)
    first = client.get(AGENDA, headers=PLAIN)
    modified = first.headers["last-modified"]
    assert client.get(AGENDA, headers={**PLAIN, "If-Modified-Since": modified}).status_code == 304
    later = format_datetime(parsedate_to_datetime(modified) + timedelta(hours=1), usegmt=True)
    assert client.get(AGENDA, headers={**PLAIN, "If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    again = client.get(AGENDA, headers={**PLAIN, "If-Modified-Since": earlier})
    assert again.status_code == 200
    assert again.content == first.content
    garbage = client.get(AGENDA, headers={**PLAIN, "If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200


def test_gzip_when_the_client_takes_it(client, editor) -> None:
    for n in range(20):
        create(client, editor, title=f"Concert numéro {n}")
    plain = client.get(AGENDA, headers=PLAIN)
    with client.stream("GET", AGENDA, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content) / 2
    gz_etag = response.headers["etag"]
    assert gz_etag != plain.headers["etag"] and not gz_etag.startswith("W/")
    assert client.get(AGENDA, headers={"If-None-Match": gz_etag}).status_code == 304


def test_head_gives_the_headers_without_a_body(client, editor) -> None:
    create(client, editor)
    full = client.get(AGENDA, headers=PLAIN)
    head = client.head(AGENDA, headers=PLAIN)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == full.headers[name]


@pytest.fixture
def short_feeds(tmp_path: Path) -> Path:
    """A feeds folder with the shipped agenda and a feed that keeps nothing past."""
    folder = tmp_path / "feeds"
    folder.mkdir()
    shipped = Path(__file__).parent.parent / "feeds" / "agenda.toml"
    (folder / "agenda.toml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "court.toml").write_text(
        'keep_past_days = 0\nkeep_cancelled_days = 0\n[title]\nfr = "Court"\n', encoding="utf-8"
    )
    return folder


@pytest.fixture
def short_client(migrated, tokens, short_feeds: Path) -> Iterator[TestClient]:
    settings = make_settings(migrated.database_url, feeds_dir=short_feeds)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Make the feeds believe it is ``moment``."""
    monkeypatch.setattr("calendar_service.web.public.feeds.utc_now", lambda: moment)
    monkeypatch.setattr("calendar_service.web.cached.utc_now", lambda: moment)


def test_past_events_leave_after_keep_past_days(short_client, editor, monkeypatch) -> None:
    made = create(short_client, editor, start="2027-05-06T18:30:00", end="2027-05-06T22:00:00")
    later = create(short_client, editor, start="2027-08-01T18:30:00", end="2027-08-01T22:00:00")
    uids = {made["uid"], later["uid"]}
    at(monkeypatch, datetime(2027, 5, 6, 21, 0, tzinfo=UTC))  # 23:00 in Paris, the same day
    assert set(vevents(feed(short_client, "/feeds/court.ics"))) == uids
    at(monkeypatch, datetime(2027, 5, 7, 8, 0, tzinfo=UTC))
    assert set(vevents(feed(short_client, "/feeds/court.ics"))) == {later["uid"]}
    at(monkeypatch, datetime(2027, 6, 5, 8, 0, tzinfo=UTC))  # 30 days after the 6th
    assert set(vevents(feed(short_client, AGENDA))) == uids
    at(monkeypatch, datetime(2027, 6, 6, 8, 0, tzinfo=UTC))
    assert set(vevents(feed(short_client, AGENDA))) == {later["uid"]}


def test_cancelled_and_deleted_events_leave_after_keep_cancelled_days(
    short_client, editor, monkeypatch
) -> None:
    kept = create(short_client, editor, start="2027-09-01T18:30:00", end=None)
    cancelled = create(
        short_client, editor, start="2027-09-02T18:30:00", end=None, status="cancelled"
    )
    deleted = create(short_client, editor, start="2027-09-03T18:30:00", end=None)
    assert short_client.delete(f"/api/events/{deleted['id']}", headers=editor).status_code == 204
    everyone = {kept["uid"], cancelled["uid"], deleted["uid"]}
    today = utc_now()
    assert set(vevents(feed(short_client, "/feeds/court.ics"))) == everyone  # changed today
    at(monkeypatch, today + timedelta(days=2))
    assert set(vevents(feed(short_client, "/feeds/court.ics"))) == {kept["uid"]}
    assert set(vevents(feed(short_client, AGENDA))) == everyone  # 60 days there
    at(monkeypatch, today + timedelta(days=62))
    assert set(vevents(feed(short_client, AGENDA))) == {kept["uid"]}


class QueryCounter:
    """Counts the queries an app's storage runs."""

    def __init__(self, storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("fetch_all", "fetch_one", "fetch_val", "execute"):
            original = getattr(storage, name)
            monkeypatch.setattr(storage, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Any) -> Any:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return await original(*args, **kwargs)

        return counted


def test_a_warm_feed_touches_no_database(client, editor, monkeypatch) -> None:
    create(client, editor)
    client.app.state.clock.interval = 3600  # the version is not read again in this test
    first = client.get(AGENDA, headers=PLAIN)
    counter = QueryCounter(client.app.state.storage, monkeypatch)
    for headers in (PLAIN, {"Accept-Encoding": "gzip"}, {**PLAIN, "If-None-Match": "x"}):
        again = client.get(AGENDA, headers=headers)
        assert again.status_code == 200
    assert again.content == first.content
    assert counter.calls == []
    added = create(client, editor, title="Écrit à l'instant")
    assert counter.calls != []  # the write itself
    assert added["uid"] in vevents(feed(client))  # seen at once by the app that wrote it


def test_another_process_sees_a_write_within_the_interval(client, editor, migrated) -> None:
    create(client, editor)
    with TestClient(create_app(migrated)) as other:
        other.app.state.clock.interval = 3600
        before = feed(other)
        added = create(client, editor, title="Écrit par l'autre")
        assert feed(other) == before  # its clock has not been read again yet
        other.app.state.clock.interval = 0.5
        time.sleep(0.6)
        after = feed(other)
    assert added["uid"] in vevents(after)
    assert added["uid"] not in vevents(before)


def test_single_event_file(client, editor) -> None:
    made = every_case(client, editor)
    weekly = made["weekly"]
    response = client.get(f"/events/{weekly['slug']}.ics", headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    data = response.content
    assert structural_problems(data) == []
    calendar = icalendar.Calendar.from_ical(data)
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [weekly["uid"]]
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    found = all_parsers_agree(data, *YEAR_2027)["ical.js"]
    assert [o[:3] for o in found] == [o[:3] for o in weekly_expected(weekly["uid"])]
    mayotte = client.get(f"/events/{made['mayotte']['slug']}.ics", headers=PLAIN).content
    assert [str(z["TZID"]) for z in icalendar.Calendar.from_ical(mayotte).walk("VTIMEZONE")] == [
        "Indian/Mayotte"
    ]
    draft = create(client, editor, state="draft")
    assert client.get(f"/events/{draft['slug']}.ics").status_code == 404
    assert client.get(f"/events/{made['deleted']['slug']}.ics").status_code == 410
    assert client.get("/events/no-such-event.ics").status_code == 404


def test_list_of_feeds_links_every_feed(migrated) -> None:
    settings = make_settings(migrated.database_url, base_url="https://agenda.example.org")
    with TestClient(create_app(settings)) as client:
        items = client.get("/api/feeds").json()["items"]
        english = client.get("/api/feeds?lang=en").json()["items"]
        assert client.get("/feeds/rencontres.ics").status_code == 200
    shipped = sorted(p.stem for p in FEEDS_DIR.glob("*.toml"))
    assert sorted(i["slug"] for i in items) == shipped
    assert {"agenda", "culture", "mobilisations", "rencontres"} <= set(shipped)
    for item in items:
        https = f"https://agenda.example.org/feeds/{item['slug']}.ics"
        webcal = f"webcal://agenda.example.org/feeds/{item['slug']}.ics"
        assert item["links"] == {
            "ics": https,
            "webcal": webcal,
            "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
            "rss": f"https://agenda.example.org/feeds/{item['slug']}.rss",
            "json": f"https://agenda.example.org/feeds/{item['slug']}.json",
            "newsletter": f"https://agenda.example.org/newsletter/{item['slug']}.html",
        }
    (agenda,) = [i for i in english if i["slug"] == "agenda"]
    assert agenda["title"] == "Solidarity calendar"
    assert agenda["links"]["ics"] == "https://agenda.example.org/feeds/agenda.ics?lang=en"
    assert agenda["links"]["rss"] == "https://agenda.example.org/feeds/agenda.rss?lang=en"
    assert agenda["links"]["google"] == (
        "https://calendar.google.com/calendar/render?cid="
        "webcal%3A%2F%2Fagenda.example.org%2Ffeeds%2Fagenda.ics%3Flang%3Den"
    )


def test_english_feed(client, editor) -> None:
    made = every_case(client, editor)
    data = feed(client, lang="en")
    assert structural_problems(data) == []
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Solidarity calendar"
    texts = icalendar_texts(data)
    assert texts[made["weekly"]["uid"]]["summary"] == "Legal drop-in"
    assert texts[made["all_day"]["uid"]]["summary"] == "Exposition « Exils »"  # only French
    assert texts[made["cancelled"]["uid"]]["summary"].startswith("[CANCELLED] Solidarity concert")
    assert texts[made["hostile"]["uid"]]["description"].endswith(
        "More information: https://example.org/concert"
    )
    props = raw_properties(data)
    assert one(props[made["weekly"]["uid"]], "CATEGORIES").startswith("CATEGORIES:Drop-in session,")


def test_narrowing_a_feed(client, editor) -> None:
    made = every_case(client, editor)
    uid = {name: event["uid"] for name, event in made.items()}
    concerts = set(vevents(feed(client, category="concert")))
    assert concerts == {uid[n] for n in ("cancelled", "postponed", "hostile")}
    tagged = create(client, editor, tags=["exil"], category="atelier")
    assert set(vevents(feed(client, tag="exil"))) == {tagged["uid"]}
    assert set(vevents(feed(client, q="mamoudzou"))) == {uid["mayotte"]}
    culture = vevents(feed(client, "/feeds/culture.ics"))
    assert set(culture) == {uid[n] for n in ("all_day", "cancelled", "postponed", "deleted")} | {
        uid["hostile"]
    }
    labels = {str(e["CATEGORIES"].cats[0]) for e in culture.values()}
    assert labels <= {"Concert", "Projection", "Exposition", "Spectacle"}
    assert set(vevents(feed(client, "/feeds/culture.ics", category="permanence"))) == set()


def test_unknown_feed_and_bad_parameters_are_problems(client) -> None:
    missing = client.get("/feeds/nothing.ics")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    for params in ({"category": "nope"}, {"lang": "de"}, {"status": "lost"}, {"q": "x" * 201}):
        bad = client.get("/feeds/agenda.ics", params=params)
        assert bad.status_code == 400, params
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"][0]["field"] == next(iter(params))
