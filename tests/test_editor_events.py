"""The editors' event pages: the list, the form (create, edit, errors kept next to their
fields), the actions behind a confirmation, the preview and the history."""

from __future__ import annotations

import re
from typing import Any

import pytest

from calendar_service.db import accounts
from calendar_service.settings import Settings
from tests.accounts import CHEAP, csrf_of, make_user, sign_in
from tests.htmltree import parse

WEEKLY = {
    "title.fr": "Permanence juridique",
    "title.en": "Legal drop-in session",
    "summary.fr": "Conseils gratuits pour les personnes exilées",
    "category": "permanence",
    "tags": "droit, accueil",
    "start.date": "2027-01-07",
    "start.time": "14:00",
    "end.date": "2027-01-07",
    "end.time": "17:00",
    "timezone": "Europe/Paris",
    "repeat": "weekly",
    "repeat.interval": "1",
    "repeat.day.TH": "on",
    "repeat.end": "until",
    "repeat.until": "2027-06-10",
    "recurrence.exdates": "2027-02-04",
    "attendance_mode": "in_person",
    "location.name": "Maison des associations",
    "location.address": "12 rue de la Paix",
    "location.postal_code": "75002",
    "location.city": "Paris",
    "location.country": "FR",
    "organizer.name": "France terre d'asile",
    "partners.0.name": "ALIMA",
    "partners.0.role": "beneficiary",
    "price.fr": "Gratuit",
    "accessibility.features.wheelchair": "on",
    "status": "scheduled",
    "state": "draft",
}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


@pytest.fixture
def signed_in(client: Any, migrated: Settings) -> Any:
    make_user(migrated)
    assert sign_in(client).status_code == 303
    return client


def token_of(client: Any, path: str = "/editor/events/new") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    return csrf_of(page)


def create(client: Any, **changes: str) -> Any:
    data = {**WEEKLY, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(
        "/editor/events",
        data={"csrf_token": token_of(client), **data},
        follow_redirects=False,
    )


def created_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    found = re.match(r"^/editor/events/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def field_error(html: str, name: str) -> str:
    """The error shown next to field ``name``, checked to be tied to its control."""
    tree = parse(html)
    fid = "f-" + name.replace(".", "-")
    error = tree.by_id(f"{fid}-error")
    control = tree.by_id(fid)
    assert f"{fid}-error" in control.attrs.get("aria-describedby", "")
    return error.text()


def test_create_a_weekly_event_with_a_translation(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    page = signed_in.get(f"/editor/events/{event_id}")
    assert page.status_code == 200
    assert "Événement créé." not in page.text  # only after the redirect's ?done=
    text = parse(page.text).text()
    assert "Se répète : chaque jeudi jusqu'au 10 juin, sauf le 4 février 2027." in text
    body = signed_in.get(f"/api/events/{event_id}", headers=editor).json()
    assert body["title"] == {"fr": "Permanence juridique", "en": "Legal drop-in session"}
    assert body["recurrence"]["rrule"].startswith("FREQ=WEEKLY;UNTIL=20270610T")
    assert body["recurrence"]["exdates"] == ["2027-02-04T14:00:00"]
    assert body["state"] == "draft"
    assert body["partners"] == [{"name": "ALIMA", "role": "beneficiary", "url": None}]
    assert body["accessibility"]["features"] == ["wheelchair"]
    assert body["location"]["city"] == "Paris"
    assert body["tags"] == ["droit", "accueil"]
    # The form shows the event as it was typed.
    tree = parse(page.text)
    assert tree.by_id("f-title-en").attrs["value"] == "Legal drop-in session"
    assert tree.by_id("f-repeat-weekly").attrs.keys() >= {"checked"}
    assert tree.by_id("f-repeat-day-TH").attrs.keys() >= {"checked"}
    assert tree.by_id("f-repeat-until").attrs["value"] == "2027-06-10"
    # Its history names who created it.
    history = tree.by_class("history")[0].text()
    assert "ada@example.org" in history and "création" in history


def test_a_draft_stays_private_until_published(signed_in, client) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    slug = signed_in.get(f"/api/events/{event_id}", headers={}).status_code
    assert slug == 404
    assert "Permanence juridique" not in client.get("/feeds/agenda.ics").text
    confirm = signed_in.get(f"/editor/events/{event_id}/publish")
    assert confirm.status_code == 200
    assert "Publier" in confirm.text
    response = signed_in.post(
        f"/editor/events/{event_id}/publish",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/editor/events/{event_id}?done=publish"
    assert "Événement publié." in signed_in.get(response.headers["location"]).text
    feed = client.get("/feeds/agenda.ics", params={"from": "2027-01-01", "to": "2027-07-01"}).text
    assert "SUMMARY:Permanence juridique" in feed
    assert "RRULE:FREQ=WEEKLY;UNTIL=20270610T" in feed
    history = parse(signed_in.get(f"/editor/events/{event_id}").text).by_class("history")[0]
    assert "publication" in history.text()


def test_errors_are_shown_next_to_their_fields_with_the_input_kept(signed_in, migrated) -> None:  # type: ignore[no-untyped-def]
    hostile = '<script>alert("x")</script> *|UNSUB|*'
    response = create(
        signed_in,
        **{
            "title.fr": "",
            "summary.fr": hostile,
            "start.date": "2027-02-30",
            "url": "javascript:alert(1)",
            "organizer.email": "not-an-address",
        },
    )
    assert response.status_code == 400
    assert "<script>alert" not in response.text
    assert field_error(response.text, "start.date") == "Indiquez une date, par exemple 2027-06-12."
    tree = parse(response.text)
    assert tree.by_id("f-summary-fr").attrs["value"] == hostile
    assert tree.by_id("form-errors").attrs["role"] == "alert"
    # With the date right, the shared validation speaks next to the other fields.
    response = create(
        signed_in,
        **{"title.fr": "", "url": "javascript:alert(1)", "organizer.email": "not-an-address"},
    )
    assert response.status_code == 400
    assert field_error(response.text, "title.fr") == "Le titre en français est obligatoire."
    assert field_error(response.text, "url").startswith("Indiquez une adresse web complète")
    assert field_error(response.text, "organizer.email") == "Ce n'est pas une adresse e-mail."
    assert parse(response.text).by_id("f-location-city").attrs["value"] == "Paris"


def test_errors_speak_english_on_english_pages(signed_in) -> None:  # type: ignore[no-untyped-def]
    token = token_of(signed_in, "/editor/events/new?lang=en")
    response = signed_in.post(
        "/editor/events?lang=en",
        data={"csrf_token": token, **WEEKLY, "start.time": "", "repeat.until": ""},
    )
    assert response.status_code == 400
    assert parse(response.text).all("html")[0].attrs["lang"] == "en"
    assert field_error(response.text, "start.time") == "Enter the start time, or tick “all day”."
    assert field_error(response.text, "repeat.until") == "Enter the date of the last time."


def test_a_rule_whose_start_is_not_a_date_of_it_is_explained(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = create(signed_in, **{"repeat.day.TH": "", "repeat.day.TU": "on"})
    assert response.status_code == 400
    tree = parse(response.text)
    assert (
        "La date de début doit être l'une des dates répétées"
        in tree.by_id("f-recurrence-rule-error").text()
    )


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        (
            "US/Eastern",
            "Ce nom de fuseau n'est pas lu par tous les agendas : écrivez America/New_York.",
        ),
        (
            "posix/Indian/Mayotte",
            "Ce nom de fuseau n'est pas lu par tous les agendas : écrivez Indian/Mayotte.",
        ),
        ("Factory", "Fuseau horaire inconnu : écrivez-le comme Europe/Paris ou Indian/Mayotte."),
    ],
)
def test_a_zone_calendars_do_not_share_is_refused_with_the_one_to_use(  # type: ignore[no-untyped-def]
    signed_in, zone, message
) -> None:
    response = create(signed_in, timezone=zone)
    assert response.status_code == 400
    tree = parse(response.text)
    assert tree.by_id("f-timezone-error").words() == message
    assert tree.by_id("f-timezone").attrs["value"] == zone


def test_edit_records_the_changed_fields(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    page = signed_in.get(f"/editor/events/{event_id}")
    form = _form_values(page.text)
    form["title.en"] = "Free legal advice"
    form["location.city"] = "Saint-Denis"
    response = signed_in.post(f"/editor/events/{event_id}", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    body = signed_in.get(f"/api/events/{event_id}", headers=editor).json()
    assert body["title"]["en"] == "Free legal advice"
    assert body["location"]["city"] == "Saint-Denis"
    assert body["recurrence"]["rrule"].startswith("FREQ=WEEKLY;UNTIL=20270610T")
    history = parse(signed_in.get(f"/editor/events/{event_id}").text).by_class("history")[0]
    rows = history.all("tr")
    assert "modification" in rows[1].text()
    assert "title.en" in rows[1].text() and "location.city" in rows[1].text()


def test_an_edit_of_a_stale_copy_keeps_the_input(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    form = _form_values(signed_in.get(f"/editor/events/{event_id}").text)
    patched = signed_in.patch(
        f"/api/events/{event_id}", json={"title": {"fr": "Changé ailleurs"}}, headers=editor
    )
    assert patched.status_code == 200
    form["title.fr"] = "Ma version"
    response = signed_in.post(f"/editor/events/{event_id}", data=form)
    assert response.status_code == 409
    assert "Quelqu'un d'autre a modifié cet événement" in parse(response.text).text()
    assert parse(response.text).by_id("f-title-fr").attrs["value"] == "Ma version"
    body = signed_in.get(f"/api/events/{event_id}", headers=editor).json()
    assert body["title"]["fr"] == "Changé ailleurs"


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [("cancel", "status", "cancelled"), ("postpone", "status", "postponed")],
)
def test_status_actions(signed_in, editor, action, field, value) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in, state="published"))
    confirm = signed_in.get(f"/editor/events/{event_id}/{action}")
    assert confirm.status_code == 200
    response = signed_in.post(
        f"/editor/events/{event_id}/{action}",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert signed_in.get(f"/api/events/{event_id}", headers=editor).json()[field] == value
    restore = signed_in.get(f"/editor/events/{event_id}/restore")
    signed_in.post(f"/editor/events/{event_id}/restore", data={"csrf_token": csrf_of(restore)})
    assert signed_in.get(f"/api/events/{event_id}", headers=editor).json()["status"] == "scheduled"


def test_a_cancellation_says_why_in_each_language(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in, state="published"))
    confirm = signed_in.get(f"/editor/events/{event_id}/cancel")
    page = parse(confirm.text)
    assert page.by_id("note-fr").attrs["value"] == ""
    assert page.by_id("note-en").attrs.get("lang") == "en"
    response = signed_in.post(
        f"/editor/events/{event_id}/cancel",
        data={
            "csrf_token": csrf_of(confirm),
            "status_note.fr": "Annulé : la salle est fermée",
            "status_note.en": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    body = signed_in.get(f"/api/events/{event_id}", headers=editor).json()
    assert (body["status"], body["status_note"]) == (
        "cancelled",
        {"fr": "Annulé : la salle est fermée"},
    )
    # Cancelling again is not offered; restoring proposes an empty note, and clears it.
    restore = signed_in.get(f"/editor/events/{event_id}/restore")
    assert parse(restore.text).by_id("note-fr").attrs["value"] == ""
    signed_in.post(f"/editor/events/{event_id}/restore", data={"csrf_token": csrf_of(restore)})
    body = signed_in.get(f"/api/events/{event_id}", headers=editor).json()
    assert (body["status"], body["status_note"]) == ("scheduled", None)
    # A note past 500 characters is refused, and nothing changes.
    confirm = signed_in.get(f"/editor/events/{event_id}/postpone")
    refused = signed_in.post(
        f"/editor/events/{event_id}/postpone",
        data={"csrf_token": csrf_of(confirm), "status_note.fr": "x" * 501},
    )
    assert refused.status_code == 422
    assert signed_in.get(f"/api/events/{event_id}", headers=editor).json()["status"] == "scheduled"


def test_delete_needs_the_confirmation_page_and_is_recorded(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in, state="published"))
    confirm = signed_in.get(f"/editor/events/{event_id}/delete")
    assert "ne peut pas être défaite" in confirm.text
    response = signed_in.post(
        f"/editor/events/{event_id}/delete",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/editor/events?done=delete"
    assert signed_in.get(f"/api/events/{event_id}", headers=editor).status_code == 410
    assert signed_in.get(f"/editor/events/{event_id}").status_code == 404


def test_an_action_that_does_not_fit_is_not_offered(signed_in) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    assert signed_in.get(f"/editor/events/{event_id}/unpublish").status_code == 404
    assert signed_in.get(f"/editor/events/{event_id}/restore").status_code == 404
    assert signed_in.get(f"/editor/events/{event_id}/explode").status_code == 404
    assert signed_in.get("/editor/events/999999").status_code == 404


def test_the_list_searches_filters_and_puts_upcoming_first(signed_in) -> None:  # type: ignore[no-untyped-def]
    created_id(create(signed_in, **{"title.fr": "Concert solidaire", "repeat": "none"}))
    created_id(
        create(
            signed_in,
            **{
                "title.fr": "Ancienne projection",
                "repeat": "none",
                "start.date": "2020-03-05",
                "end.date": "2020-03-05",
            },
        )
    )
    created_id(create(signed_in, **{"title.fr": "Mobilisation", "state": "published"}))
    rows = _titles(signed_in.get("/editor/events").text)
    assert rows[-1] == "Ancienne projection"
    assert set(rows[:2]) == {"Concert solidaire", "Mobilisation"}
    assert _titles(signed_in.get("/editor/events?q=solidaire").text) == ["Concert solidaire"]
    assert _titles(signed_in.get("/editor/events?state=published").text) == ["Mobilisation"]
    assert _titles(signed_in.get("/editor/events?period=past").text) == ["Ancienne projection"]
    assert _titles(signed_in.get("/editor/events?from=2020-03-01&to=2020-03-31").text) == [
        "Ancienne projection"
    ]
    assert _titles(signed_in.get("/editor/events?q=nothing-like-this").text) == []


def test_the_preview_shows_the_widget_the_block_and_a_calendar(signed_in) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in, then="preview"))
    page = signed_in.get(f"/editor/events/{event_id}/preview")
    assert page.status_code == 200
    tree = parse(page.text)
    frames = [f.attrs["src"] for f in tree.all("iframe")]
    assert frames == [
        f"/editor/events/{event_id}/preview/widget?in=fr",
        f"/editor/events/{event_id}/preview/block?in=fr",
    ]
    assert "BEGIN:VEVENT" in page.text and "RRULE:FREQ=WEEKLY" in page.text
    widget = signed_in.get(frames[0])
    assert "Permanence juridique" in widget.text
    assert "frame-ancestors 'self'" in widget.headers["content-security-policy"]
    block = signed_in.get(frames[1])
    assert "Permanence juridique" in block.text and "Maison des associations" in block.text
    english = signed_in.get(f"/editor/events/{event_id}/preview/block?in=en")
    assert "Legal drop-in session" in english.text


def _titles(html: str) -> list[str]:
    tables = parse(html).by_class("listing")
    if not tables:
        return []
    return [row.all("th")[0].text().strip() for row in tables[0].all("tbody")[0].all("tr")]


def _form_values(html: str) -> dict[str, str]:
    """What a browser would send for the page's event form."""
    form = parse(html).by_class("event-form")[0]
    values: dict[str, str] = {}
    for node in form.all("input"):
        kind = node.attrs.get("type") or "text"
        name = node.attrs.get("name")
        if not name:
            continue
        if kind in ("checkbox", "radio"):
            if "checked" in node.attrs:
                values[name] = node.attrs.get("value") or "on"
        else:
            values[name] = node.attrs.get("value") or ""
    for node in form.all("textarea"):
        values[node.attrs.get("name") or ""] = node.text()
    for node in form.all("select"):
        chosen = [o for o in node.all("option") if "selected" in o.attrs]
        options = chosen or node.all("option")
        values[node.attrs.get("name") or ""] = (
            (options[0].attrs.get("value") or "") if options else ""
        )
    return values


def test_an_oversized_form_is_refused_before_it_is_read_whole(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    token = token_of(signed_in)
    huge = {**WEEKLY, "csrf_token": token, "description.fr": "x" * 70_000}
    response = signed_in.post("/editor/events", data=huge)
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]

    def chunks():  # type: ignore[no-untyped-def]
        yield f"csrf_token={token}&title.fr=Trop+long&description.fr=".encode()
        for _ in range(100):
            yield b"y" * 1_000

    response = signed_in.post(
        "/editor/events",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    listed = signed_in.get("/api/events?state=draft&state=published", headers=editor).json()
    assert listed["items"] == []


def test_partner_rows_follow_the_partners(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    event_id = created_id(create(signed_in))
    form = _form_values(signed_in.get(f"/editor/events/{event_id}").text)
    assert sorted(k for k in form if k.endswith(".name") and k.startswith("partners.")) == [
        "partners.0.name",
        "partners.1.name",
        "partners.2.name",
    ]
    form.update({"partners.2.name": "Radio Solidaire", "partners.2.role": "media"})
    form["start.date"] = "not a date"  # refused: the rows stay as typed, no more
    refused = signed_in.post(f"/editor/events/{event_id}", data=form)
    assert refused.status_code == 400
    again = _form_values(refused.text)
    assert again["partners.2.name"] == "Radio Solidaire"
    assert "partners.5.name" not in again and "partners.4.name" in again
    again["start.date"] = "2027-01-07"
    assert signed_in.post(f"/editor/events/{event_id}", data=again).status_code == 200
    partners = signed_in.get(f"/api/events/{event_id}", headers=editor).json()["partners"]
    assert [p["name"] for p in partners] == ["ALIMA", "Radio Solidaire"]


def test_a_proposal_is_edited_here_but_decided_in_the_queue(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    proposal = {"title": {"fr": "Proposé"}, "start": "2027-01-07T18:30:00"}
    assert signed_in.post("/api/proposals", json=proposal).status_code == 202
    [found] = signed_in.get("/api/events?state=pending", headers=editor).json()["items"]
    page = signed_in.get(f"/editor/events/{found['id']}")
    tree = parse(page.text)
    assert [n.attrs["value"] for n in tree.all("input") if n.attrs.get("name") == "state"] == [
        "pending"
    ]
    assert "/editor/proposals" in tree.hrefs()
    assert signed_in.get(f"/editor/events/{found['id']}/publish").status_code == 404
    form = _form_values(page.text)
    form.update({"title.en": "Proposed", "state": "published"})  # a forged state is ignored
    assert signed_in.post(f"/editor/events/{found['id']}", data=form).status_code == 200
    body = signed_in.get(f"/api/events/{found['id']}", headers=editor).json()
    assert body["state"] == "pending" and body["title"]["en"] == "Proposed"


def test_a_series_begun_long_ago_is_listed_at_its_next_date(signed_in, editor) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    today = date.today()

    def make(title: str, start: date, **extra: Any) -> None:
        body = {"title": {"fr": title}, "start": f"{start}T18:30:00", **extra}
        assert signed_in.post("/api/events", json=body, headers=editor).status_code == 201

    make("Dans dix jours", today + timedelta(days=10))
    # Weekly from 29 days ago, without end: its next date is within the week.
    make("Chaque semaine", today - timedelta(days=29), recurrence={"rrule": "FREQ=WEEKLY"})
    make("Dans vingt jours", today + timedelta(days=20), state="draft")
    make("Il y a un an", today - timedelta(days=365))
    make("Il y a deux ans", today - timedelta(days=730))
    assert _titles(signed_in.get("/editor/events").text) == [
        "Chaque semaine",
        "Dans dix jours",
        "Dans vingt jours",
        "Il y a un an",
        "Il y a deux ans",
    ]
    assert _titles(signed_in.get("/editor/events?period=upcoming&state=published").text) == [
        "Chaque semaine",
        "Dans dix jours",
    ]


def test_pages_run_from_the_upcoming_events_into_the_past_ones(  # type: ignore[no-untyped-def]
    signed_in, editor, monkeypatch
) -> None:
    from datetime import date, timedelta

    from calendar_service.web.editor import events as editor_events

    monkeypatch.setattr(editor_events, "PAGE_SIZE", 2)
    today = date.today()
    for days in (3, 1, 2, -5, -9):
        body = {
            "title": {"fr": f"Jour {days}"},
            "start": f"{today + timedelta(days=days)}T12:00:00",
        }
        assert signed_in.post("/api/events", json=body, headers=editor).status_code == 201
    pages = [_titles(signed_in.get(f"/editor/events?page={n}").text) for n in (1, 2, 3)]
    assert pages == [["Jour 1", "Jour 2"], ["Jour 3", "Jour -5"], ["Jour -9"]]
    first = parse(signed_in.get("/editor/events").text)
    assert "Page 1 sur 3" in first.words()
    assert [h for h in first.hrefs() if "page=" in h] == ["/editor/events?page=2"]


def test_a_long_list_is_counted_up_to_a_cap(signed_in, editor, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from calendar_service.web.editor import events as editor_events

    monkeypatch.setattr(editor_events, "PAGE_SIZE", 2)
    monkeypatch.setattr(editor_events, "COUNT_CAP", 3)
    for day in range(1, 7):
        body = {"title": {"fr": f"Jour {day}"}, "start": f"2027-03-0{day}T12:00:00"}
        assert signed_in.post("/api/events", json=body, headers=editor).status_code == 201
    first = parse(signed_in.get("/editor/events").text).words()
    assert "Plus de 3 événements" in first and "Page 1 sur plus de 2" in first
    last = parse(signed_in.get("/editor/events?page=3&lang=en").text).words()
    assert "6 event(s)" in last and "Page 3 of 3" in last


@pytest.mark.parametrize("walk", [False, True], ids=["read-whole", "walk"])
def test_a_search_and_the_drafts_come_in_the_list_order_either_way(
    signed_in: Any, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch, walk: bool
) -> None:
    """A search and the drafts are read whole and ordered in memory while they are few, walked
    through the dates when they are many (``MAX_MATCHES``): the same order either way, upcoming
    by next date (a series begun weeks ago by its next date), then the past latest first; the
    pages follow one another."""
    from calendar_service.db import worklist
    from calendar_service.web.editor import events as page
    from tests.test_pages import make

    if walk:
        monkeypatch.setattr(worklist, "MAX_MATCHES", 1)
    monkeypatch.setattr(page, "PAGE_SIZE", 2)
    make(signed_in, editor, 9, title={"fr": "Nocturne au musée"})
    make(
        signed_in,
        editor,
        -20,
        title={"fr": "Nocturne hebdomadaire"},
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"},
    )  # next on day 1
    make(signed_in, editor, 4, title={"fr": "Nocturne en brouillon"}, state="draft")
    make(signed_in, editor, -3, title={"fr": "Nocturne passée"})
    make(signed_in, editor, -60, title={"fr": "Nocturne ancienne"}, state="draft")
    make(signed_in, editor, 2, title={"fr": "Concert"})
    make(signed_in, editor, 6, title={"fr": "Brouillon sans rapport"}, state="draft")

    def listed(query: str) -> list[str]:
        seen: list[str] = []
        for number in range(1, 6):
            seen.extend(_titles(signed_in.get(f"/editor/events?{query}&page={number}").text))
        return seen

    assert listed("q=nocturne") == [
        "Nocturne hebdomadaire",
        "Nocturne en brouillon",
        "Nocturne au musée",
        "Nocturne passée",
        "Nocturne ancienne",
    ]
    assert listed("state=draft") == [
        "Nocturne en brouillon",
        "Brouillon sans rapport",
        "Nocturne ancienne",
    ]
    assert listed("q=nocturne&state=draft&period=upcoming") == ["Nocturne en brouillon"]
