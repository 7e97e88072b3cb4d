"""The subscribable feeds, as a calendar subscribed to /feeds/agenda.ics sees them."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from starlette.testclient import TestClient

from tests.factories import create, everything
from tests.icalcheck import (
    all_parsers_agree,
    icalendar_texts,
    icaljs_texts,
    parse_content_line,
    structural_problems,
    unfolded_lines,
)

PLAIN = {"Accept-Encoding": "identity"}
YEAR_2027 = (date(2027, 1, 1), date(2028, 1, 1))
PARIS = ZoneInfo("Europe/Paris")
FEEDS_DIR = Path(__file__).parent.parent / "feeds"

HOSTILE_TITLE = (
    'Concert ; "solidaire", C:\\dossier\\ 2 — fin\nSur deux lignes 🎉 <script>alert(1)</script>'
)
# A title is one line: its line break is stored as a space (no output can be split by it).
ONE_LINE_TITLE = HOSTILE_TITLE.replace("\n", " ")
SENTENCE = "Soirée de soutien à l'accueil des exilé·es ; entrée libre, thé et gâteaux 🎶🍰 — ok ?"
LINK_MD = "[Programme](https://example.org/programme)"
LINK_TEXT = "Programme (https://example.org/programme)"


def hostile_description() -> tuple[str, str]:
    """A 5,000-character Markdown description and the plain text a calendar must show for it."""
    head_md = "Avec **YoonRisen** et *invité·es* <script>alert(1)</script>."
    head_text = "Avec YoonRisen et invité·es <script>alert(1)</script>."
    paragraph = " ".join([SENTENCE] * 3)
    paragraphs = [paragraph] * ((5000 - 200) // (len(paragraph) + 2))
    size = len("\n\n".join([head_md, *paragraphs, LINK_MD]))
    filler = "🎉" * (5000 - size - 2)
    markdown = "\n\n".join([head_md, *paragraphs, filler, LINK_MD])
    assert len(markdown) == 5000
    return markdown, "\n\n".join([head_text, *paragraphs, filler, LINK_TEXT])


def every_case(client: TestClient, editor: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One event of each kind a feed must carry, by name, as the JSON API returned them."""
    made = {
        "weekly": create(
            client,
            editor,
            title={"fr": "Permanence juridique", "en": "Legal drop-in"},
            category="permanence",
            start="2027-03-18T18:30:00",
            end="2027-03-18T20:30:00",
            recurrence={"rrule": "FREQ=WEEKLY;UNTIL=20271104", "exdates": ["2027-04-01T18:30:00"]},
            organizer={"name": "Cimade Paris", "email": "paris@example.org"},
            image={"url": "https://example.org/affiche.jpg", "alt": "Affiche de la permanence"},
            url=None,
        ),
        "all_day": create(
            client,
            editor,
            title="Exposition « Exils »",
            category="exposition",
            start="2027-06-12",
            end="2027-06-14",
            all_day=True,
        ),
        "mayotte": create(
            client,
            editor,
            title="Rencontre à Mamoudzou",
            category="rencontre",
            timezone="Indian/Mayotte",
            start="2027-05-20T19:00:00",
            end="2027-05-20T21:00:00",
            location={"name": "MJC", "city": "Mamoudzou", "lat": -12.78, "lon": 45.23},
        ),
        "cancelled": create(
            client, editor, status="cancelled", start="2027-09-10T20:00:00", end=None
        ),
        "postponed": create(
            client,
            editor,
            status="postponed",
            start="2027-09-17T20:00:00",
            end="2027-09-17T23:00:00",
        ),
        "deleted": create(
            client,
            editor,
            title="Projection supprimée",
            category="projection",
            start="2027-10-02T20:00:00",
            end="2027-10-02T22:00:00",
        ),
        "online": create(
            client,
            editor,
            title="Conférence en ligne",
            category="conference",
            attendance_mode="online",
            online_url="https://meet.example.org/exil",
            location=None,
            start="2027-11-18T18:00:00",
            end="2027-11-18T19:30:00",
        ),
        "hostile": create(
            client,
            editor,
            title=HOSTILE_TITLE,
            description=hostile_description()[0],
            organizer=None,
            price=None,
            start="2027-12-03T20:00:00",
            end="2027-12-03T23:30:00",
        ),
    }
    deleted = made["deleted"]
    assert client.delete(f"/api/events/{deleted['id']}", headers=editor).status_code == 204
    (tombstone,) = [e for e in everything(client, editor) if e["id"] == deleted["id"]]
    made["deleted"] = {**deleted, **tombstone}
    return made


def feed(client: TestClient, path: str = "/feeds/agenda.ics", **params: str) -> bytes:
    response = client.get(path, params=params, headers=PLAIN)
    assert response.status_code == 200, response.text
    return response.content


def vevents(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def raw_properties(data: bytes) -> dict[str, dict[str, list[tuple[dict[str, list[str]], str]]]]:
    """Each VEVENT's properties as written (name -> [(params, raw value)]), by UID."""
    found: dict[str, dict[str, list[tuple[dict[str, list[str]], str]]]] = {}
    current: dict[str, list[tuple[dict[str, list[str]], str]]] | None = None
    for line in unfolded_lines(data):
        name, params, value = parse_content_line(line)
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            assert current is not None
            found[current["UID"][0][1]] = current
            current = None
        elif current is not None:
            current.setdefault(name, []).append((params, value))
    return found


def one(props: dict[str, list[tuple[dict[str, list[str]], str]]], name: str) -> str:
    """The raw ``NAME;PARAMS:value`` of a property that must appear once (params sorted)."""
    assert len(props.get(name, [])) == 1, f"{name}: {props.get(name)}"
    params, value = props[name][0]
    written = "".join(f";{k}={','.join(v)}" for k, v in sorted(params.items()))
    return f"{name}{written}:{value}"


def utc_second(stamp: str) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def weekly_expected(uid: str) -> list[tuple[str, str, str, str]]:
    """The weekly event worked out with zoneinfo: Thursdays 18:30-20:30 in Paris."""
    found = []
    day = date(2027, 3, 18)
    while day <= date(2027, 11, 4):
        if day != date(2027, 4, 1):
            start = datetime.combine(day, clock_time(18, 30), PARIS).astimezone(UTC)
            end = datetime.combine(day, clock_time(20, 30), PARIS).astimezone(UTC)
            found.append((uid, f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}", ""))
        day += timedelta(days=7)
    return found


def test_every_case_is_sound_and_read_alike_by_every_parser(client, editor) -> None:
    made = every_case(client, editor)
    data = feed(client)
    assert structural_problems(data) == []
    results = all_parsers_agree(data, *YEAR_2027)
    found = results["recurring_ical_events"]
    uid = {name: event["uid"] for name, event in made.items()}
    weekly = [o for o in found if o[0] == uid["weekly"]]
    assert [o[:3] for o in weekly] == [o[:3] for o in weekly_expected(uid["weekly"])]
    assert len(weekly) == 33  # 34 Thursdays from 18 March to 4 November, less 1 April
    starts = {o[1] for o in weekly}
    assert "2027-03-25T17:30:00Z" in starts  # winter time, UTC+1
    assert "2027-04-08T16:30:00Z" in starts  # summer time, UTC+2: still 18:30 in Paris
    assert "2027-10-28T16:30:00Z" in starts
    assert "2027-11-04T17:30:00Z" in starts  # back to winter time
    assert not any(s.startswith("2027-04-01") for s in starts)
    assert {o[3] for o in weekly} == {"CONFIRMED"}
    others = sorted(o for o in found if o[0] != uid["weekly"])
    assert others == sorted(
        [
            (uid["all_day"], "2027-06-12", "2027-06-15", "CONFIRMED"),
            (uid["mayotte"], "2027-05-20T16:00:00Z", "2027-05-20T18:00:00Z", "CONFIRMED"),
            (uid["cancelled"], "2027-09-10T18:00:00Z", "2027-09-10T18:00:00Z", "CANCELLED"),
            (uid["postponed"], "2027-09-17T18:00:00Z", "2027-09-17T21:00:00Z", "TENTATIVE"),
            (uid["deleted"], "2027-10-02T18:00:00Z", "2027-10-02T20:00:00Z", "CANCELLED"),
            (uid["online"], "2027-11-18T17:00:00Z", "2027-11-18T18:30:00Z", "CONFIRMED"),
            (uid["hostile"], "2027-12-03T19:00:00Z", "2027-12-03T22:30:00Z", "CONFIRMED"),
        ]
    )


def test_hostile_text_comes_back_exactly(client, editor) -> None:
    made = every_case(client, editor)
    data = feed(client)
    uid = made["hostile"]["uid"]
    assert made["hostile"]["title"]["fr"] == ONE_LINE_TITLE
    description = (
        f"Un concert au profit d'ALIMA.\n\n{hostile_description()[1]}\n\n"
        "Au profit d'ALIMA\n\n"  # its partners, as the blocks and pages say them
        "En savoir plus\u00a0: https://example.org/concert"
    )
    python = icalendar_texts(data)[uid]
    assert python["summary"] == ONE_LINE_TITLE
    assert python["description"] == description
    javascript = icaljs_texts(data)[uid]
    assert javascript["summary"] == ONE_LINE_TITLE
    assert javascript["description"] == description
    assert b"<script>" in data  # text, not markup: shown as typed, never interpreted


def test_calendar_properties(client, editor) -> None:
    every_case(client, editor)
    data = feed(client)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "Calendrier solidaire" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"]) == "Agenda solidaire"
    assert "X-WR-TIMEZONE" not in calendar  # every time has its TZID (see render.ical)
    lines = unfolded_lines(data)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    zones = [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")]
    assert sorted(zones) == ["Europe/Paris", "Indian/Mayotte"]


def test_vevent_properties(client, editor) -> None:
    made = every_case(client, editor)
    props = raw_properties(feed(client))
    assert set(props) == {event["uid"] for event in made.values()}
    for name, event in made.items():
        mine = props[event["uid"]]
        stamp = utc_second(event["updated_at"])
        assert one(mine, "DTSTAMP") == f"DTSTAMP:{stamp}", name
        assert one(mine, "LAST-MODIFIED") == f"LAST-MODIFIED:{stamp}", name
        assert one(mine, "SEQUENCE") == f"SEQUENCE:{event['sequence']}", name
        assert one(mine, "CLASS") == "CLASS:PUBLIC"
    weekly = props[made["weekly"]["uid"]]
    assert one(weekly, "DTSTART") == "DTSTART;TZID=Europe/Paris:20270318T183000"
    assert one(weekly, "DTEND") == "DTEND;TZID=Europe/Paris:20270318T203000"
    assert one(weekly, "RRULE").startswith("RRULE:FREQ=WEEKLY;UNTIL=20271104T")
    assert one(weekly, "EXDATE") == "EXDATE;TZID=Europe/Paris:20270401T183000"
    assert one(weekly, "CATEGORIES") == "CATEGORIES:Permanence,musique,solidarite"
    assert one(weekly, "ORGANIZER") == "ORGANIZER;CN=Cimade Paris:mailto:paris@example.org"
    assert one(weekly, "IMAGE") == "IMAGE;DISPLAY=BADGE;VALUE=URI:https://example.org/affiche.jpg"
    page = f"http://testserver/events/{made['weekly']['slug']}"
    assert one(weekly, "URL") == f"URL:{page}"
    assert one(weekly, "STATUS") == "STATUS:CONFIRMED"
    assert one(weekly, "GEO") == "GEO:48.8686;2.3933"
    assert one(weekly, "LOCATION") == "LOCATION:La Bellevilloise\\, 19-21 rue Boyer\\, 75020 Paris"
    all_day = props[made["all_day"]["uid"]]
    assert one(all_day, "DTSTART") == "DTSTART;VALUE=DATE:20270612"
    assert one(all_day, "DTEND") == "DTEND;VALUE=DATE:20270615"  # the day after the 14th
    assert one(all_day, "CATEGORIES").startswith("CATEGORIES:Exposition,")
    mayotte = props[made["mayotte"]["uid"]]
    assert one(mayotte, "DTSTART") == "DTSTART;TZID=Indian/Mayotte:20270520T190000"
    assert one(mayotte, "GEO") == "GEO:-12.78;45.23"
    assert one(mayotte, "LOCATION") == "LOCATION:MJC\\, Mamoudzou"
    assert one(props[made["cancelled"]["uid"]], "STATUS") == "STATUS:CANCELLED"
    assert one(props[made["postponed"]["uid"]], "STATUS") == "STATUS:TENTATIVE"
    deleted = props[made["deleted"]["uid"]]
    assert one(deleted, "STATUS") == "STATUS:CANCELLED"
    assert one(deleted, "SEQUENCE") == "SEQUENCE:1"  # bumped by the DELETE
    online = props[made["online"]["uid"]]
    assert one(online, "LOCATION") == "LOCATION:En ligne : https://meet.example.org/exil"
    assert one(online, "URL") == "URL:https://example.org/concert"
    assert one(online, "ORGANIZER") == "ORGANIZER;CN=YoonRisen:https://example.org/yoonrisen"


def test_summaries_show_the_status_and_follow_edits(client, editor) -> None:
    made = every_case(client, editor)
    texts = icalendar_texts(feed(client))
    assert texts[made["cancelled"]["uid"]]["summary"].startswith("[ANNULÉ] Concert solidaire")
    assert texts[made["postponed"]["uid"]]["summary"].startswith("[REPORTÉ] Concert solidaire")
    assert texts[made["deleted"]["uid"]]["summary"] == "[ANNULÉ] Projection supprimée"
    weekly = made["weekly"]
    url = f"/api/events/{weekly['id']}"
    renamed = client.patch(url, json={"title": "Permanence du jeudi"}, headers=editor).json()
    moved = client.patch(url, json={"start": "2027-03-18T19:00:00"}, headers=editor).json()
    assert (renamed["sequence"], moved["sequence"]) == (0, 1)
    after = raw_properties(feed(client))[weekly["uid"]]  # the same UID: the same event
    assert one(after, "SUMMARY") == "SUMMARY:Permanence du jeudi"
    assert one(after, "SEQUENCE") == "SEQUENCE:1"
    assert one(after, "DTSTAMP") == f"DTSTAMP:{utc_second(moved['updated_at'])}"
    assert one(after, "DTSTART") == "DTSTART;TZID=Europe/Paris:20270318T190000"


def test_the_feed_does_not_depend_on_the_time_of_the_request(client, editor) -> None:
    every_case(client, editor)
    first = feed(client)
    time.sleep(1.1)
    client.app.state.rendered.clear()  # rendered again, a second later
    assert feed(client) == first


def test_a_backslash_before_n_stays_as_typed(client, editor) -> None:
    made = create(client, editor, title="Sauvegarde C:\\Nouveau dossier", location=None)
    data = feed(client)
    assert structural_problems(data) == []
    assert one(raw_properties(data)[made["uid"]], "SUMMARY") == (
        "SUMMARY:Sauvegarde C:\\\\Nouveau dossier"
    )


VALID = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Indian/Mayotte\r\nBEGIN:STANDARD\r\nDTSTART:20150101T000000\r\n"
    "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART;TZID=Indian/Mayotte:20270520T190000\r\n"
    "SUMMARY:Rencontre \\; à Mamoudzou\\, MJC\r\n"
    "DESCRIPTION:Une description assez longue pour être pliée sur deux lignes\r\n"
    " \\, voilà.\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
MUTATIONS = {
    "not folded": (VALID.replace(b"\r\n \\,", b" \\,"), "not folded"),
    "bare LF": (VALID.replace(b"UID:a@test\r\n", b"UID:a@test\n"), "bare LF"),
    "split character": (
        VALID.replace("à Mam".encode(), b"\xc3\r\n \xa0 Mam"),
        "splits a UTF-8 character",
    ),
    "no VTIMEZONE": (VALID.replace(b"TZID:Indian/Mayotte", b"TZID:Indian/Comoro"), "no VTIMEZONE"),
    "unescaped comma": (VALID.replace(b"\\, MJC", b", MJC"), "unescaped ','"),
    "unescaped semicolon": (VALID.replace(b"\\; \xc3", b"; \xc3"), "unescaped ';'"),
    "bad escape": (VALID.replace(b"\\; \xc3", b"\\: \xc3"), "bad escape"),
    "RDATE list": (
        VALID.replace(
            b"TZOFFSETTO:+0300", b"TZOFFSETTO:+0300\r\nRDATE:20160101T000000,20170101T000000"
        ),
        "multi-valued RDATE",
    ),
    "no UID": (VALID.replace(b"UID:a@test\r\n", b""), "0 UID"),
    "no DTSTAMP": (VALID.replace(b"DTSTAMP:20270101T000000Z\r\n", b""), "0 DTSTAMP"),
    "unbalanced": (VALID.replace(b"END:VEVENT", b"END:VTODO"), "does not close"),
    "no PRODID": (VALID.replace(b"PRODID:-//test//EN\r\n", b""), "PRODID missing"),
    "no VERSION": (VALID.replace(b"VERSION:2.0\r\n", b""), "VERSION missing"),
    "not UTF-8": (VALID.replace("à".encode(), b"\xe0"), "not valid UTF-8"),
    "no final CRLF": (VALID[:-2], "does not end with CRLF"),
}


def test_the_structural_checks_catch_each_fault() -> None:
    assert structural_problems(VALID) == []
    for name, (broken, expected) in MUTATIONS.items():
        assert broken != VALID, name
        problems = structural_problems(broken)
        assert any(expected in p for p in problems), (name, problems)


def test_a_status_note_and_the_partners_open_the_description(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = create(
        client,
        editor,
        title={"fr": "Concert solidaire", "en": "Solidarity concert"},
        start="2027-05-20T20:00:00",
        end=None,
        status="postponed",
        status_note={"fr": "Reporté à cause des grèves", "en": "Postponed: strikes"},
        organizer={"name": "YoonRisen"},
        partners=[
            {"name": "la Cimade", "role": "co_organizer"},
            {"name": "ALIMA", "role": "beneficiary"},
        ],
    )
    french = icalendar_texts(feed(client))[made["uid"]]["description"]
    assert french.startswith("REPORTÉ\u00a0: Reporté à cause des grèves\n\n")
    assert "Organisé par YoonRisen, avec la Cimade, au profit d'ALIMA" in french
    english = icalendar_texts(feed(client, lang="en"))[made["uid"]]["description"]
    assert english.startswith("POSTPONED: Postponed: strikes\n\n")
