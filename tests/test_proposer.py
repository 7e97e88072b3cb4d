"""The public proposal form /proposer: both languages, a proposal stored pending and unseen
until accepted, the honeypot, the limits, errors by field with the input kept, and CSRF."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db import accounts, history
from calendar_service.db.connection import Storage
from calendar_service.db.proposals import get_proposal
from calendar_service.settings import Settings
from tests.accounts import CHEAP, csrf_of, make_user, sign_in
from tests.conftest import make_settings, run_on
from tests.htmltree import parse
from tests.test_mail import Inbox, inbox, mailing  # noqa: F401 (the inbox fixture)
from tests.test_proposals import PUBLIC_LISTS, counts, pending_one, public_texts

PARIS = ZoneInfo("Europe/Paris")
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


def form(**overrides: str) -> dict[str, str]:
    """A valid proposal, as the form sends it, three days ahead (every list shows it)."""
    day = datetime.now(PARIS).date() + timedelta(days=3)
    fields = {
        "title_fr": "Bal folk solidaire",
        "title_en": "Solidarity folk ball",
        "summary": "Un bal pour la maison des réfugiés.",
        "description": "Avec le **Trio Bourrée**.",
        "category": "concert",
        "date": day.isoformat(),
        "start_time": "20:30",
        "end_time": "23:00",
        "place_name": "Salle des fêtes",
        "address": "3 place de la Mairie",
        "postal_code": "35000",
        "city": "Rennes",
        "online_url": "",
        "organizer_name": "Folk en Fête",
        "organizer_url": "https://folk.example.org",
        "price": "Prix libre",
        "proposer_name": "Jeanne Martin",
        "proposer_email": "jeanne@example.org",
        "proposer_message": "Première fois que nous proposons !",
        "website": "",
    }
    return {**fields, **overrides}


def send(client: TestClient, lang: str = "", **overrides: str) -> Any:
    """Open the form, then send it with ``overrides``."""
    query = f"?lang={lang}" if lang else ""
    token = csrf_of(client.get(f"/proposer{query}"))
    return client.post(
        f"/proposer{query}",
        data={"csrf_token": token, **form(**overrides)},
        follow_redirects=False,
    )


def test_the_form_speaks_french(client: TestClient) -> None:
    response = client.get("/proposer")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert "calendar_csrf=" in cookie and "Path=/proposer" in cookie and "HttpOnly" in cookie
    tree = parse(response.text)
    assert tree.all("h1")[0].text() == "Proposer un événement"
    labels = {label.attrs["for"]: label.words() for label in tree.all("label")}
    assert labels["title_fr"] == "Titre en français *"
    assert labels["proposer_email"] == "Votre adresse e-mail"
    assert [legend.text() for legend in tree.all("legend")] == [
        "L'événement",
        "Date et heures",
        "Lieu",
        "Organisation",
        "Affiche ou photo",
        "Vous",
    ]
    options = [o.attrs["value"] for o in tree.by_id("category").all("option")]
    assert options[0] == "concert" and "autre" in options
    assert "Europe/Paris" in tree.by_id("start_time-help").text()


def test_the_form_speaks_english(client: TestClient) -> None:
    tree = parse(client.get("/proposer?lang=en").text)
    assert tree.all("h1")[0].text() == "Propose an event"
    assert tree.all("html")[0].attrs["lang"] == "en"
    assert tree.all("form")[0].attrs["action"] == "/proposer?lang=en"
    labels = {label.attrs["for"]: label.words() for label in tree.all("label")}
    assert labels["city"] == "Town or city"
    assert labels["website"] == "Leave this field empty"


def test_the_honeypot_is_hidden_without_inline_style(client: TestClient) -> None:
    trap = parse(client.get("/proposer").text).by_id("website")
    assert trap.attrs["tabindex"] == "-1"
    assert trap.attrs["autocomplete"] == "off"
    assert "style" not in trap.attrs
    assert "visually-hidden" in (trap.parent.attrs.get("class") or "")  # type: ignore[union-attr]
    css = client.get("/static/pages.css").text
    assert ".visually-hidden {" in css


def test_a_proposal_waits_unseen_until_accepted(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    response = send(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/proposer/merci"
    thanks = client.get("/proposer/merci")
    assert "Merci pour votre proposition" in thanks.text
    made = pending_one(client, editor)
    assert made["title"] == {"fr": "Bal folk solidaire", "en": "Solidarity folk ball"}
    assert made["start"].endswith("T20:30:00+01:00") or made["start"].endswith("T20:30:00+02:00")
    assert made["location"]["city"] == "Rennes"
    assert made["organizer"]["name"] == "Folk en Fête"
    assert made["organizer"]["url"] == "https://folk.example.org"
    assert made["timezone"] == "Europe/Paris"
    assert made["attendance_mode"] == "in_person"

    before = public_texts(client, made["slug"], made["id"])
    for path in PUBLIC_LISTS:
        assert before[path][0] == 200, path
        assert "Bal folk solidaire" not in before[path][1], path
    assert before[f"/events/{made['slug']}"][0] == 404

    make_user(migrated)
    assert sign_in(client).status_code == 303
    queue = client.get("/editor/proposals")
    assert "Bal folk solidaire" in queue.text and "jeanne@example.org" in queue.text
    accepted = client.post(
        f"/editor/proposals/{made['id']}/accept",
        data={"csrf_token": csrf_of(queue)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    client.cookies.clear()
    after = public_texts(client, made["slug"], made["id"])
    for path, (status, text) in after.items():
        assert status == 200, path
        assert "Bal folk solidaire" in text or made["slug"] in text, path
        assert "jeanne@example.org" not in text, path


def test_the_proposal_is_in_the_history_and_keeps_its_proposer(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    assert send(client).status_code == 303
    made = pending_one(client, editor)

    async def work(storage: Storage) -> tuple[Any, Any]:
        entries = await history.for_event(storage, event_id=made["id"])
        return entries, await get_proposal(storage, event_id=made["id"])

    entries, proposer = run_on(migrated, work)
    assert [(e.actor, e.action) for e in entries] == [("proposal", "proposed")]
    assert proposer["name"] == "Jeanne Martin"
    assert proposer["message"] == "Première fois que nous proposons !"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"end_time": "02:00", "start_time": "22:00"}, ("T22:00:00", "T02:00:00", 1)),
        ({"end_time": ""}, ("T20:30:00", None, 0)),
    ],
)
def test_times_are_read_in_the_service_zone(  # type: ignore[no-untyped-def]
    client: TestClient, editor: dict[str, str], fields, expected
) -> None:
    assert send(client, **fields).status_code == 303
    made = pending_one(client, editor)
    start, end, days = expected
    assert start in made["start"]
    if end is None:
        assert made["end"] is None
    else:
        assert end in made["end"]
        gap = (
            datetime.fromisoformat(made["end"]).date()
            - datetime.fromisoformat(made["start"]).date()
        )
        assert gap.days == days


def test_an_all_day_online_proposal(client: TestClient, editor: dict[str, str]) -> None:
    response = send(
        client,
        all_day="1",
        start_time="",
        end_time="",
        place_name="",
        address="",
        postal_code="",
        city="",
        online_url="https://visio.example.org/bal",
    )
    assert response.status_code == 303
    made = pending_one(client, editor)
    assert made["all_day"] is True
    assert made["attendance_mode"] == "online"
    assert made["location"] is None


def test_the_honeypot_thanks_and_stores_nothing(client: TestClient, migrated: Settings) -> None:
    response = send(client, website="https://spam.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/proposer/merci"
    assert counts(migrated) == (0, 0, 1)  # kept nothing, but counted


def test_mistakes_are_shown_by_their_fields_with_the_input_kept(
    client: TestClient, migrated: Settings
) -> None:
    response = send(
        client,
        title_fr=HOSTILE,
        date="2027-02-30",
        proposer_email="pas-une-adresse",
        organizer_url="ftp://folk.example.org",
        description=HOSTILE * 3,
    )
    assert response.status_code == 400
    assert HOSTILE not in response.text
    tree = parse(response.text)
    for field, message in (
        ("date", "Cette date n'est pas valide ; écrivez-la par exemple 2027-05-14."),
        ("proposer_email", "Indiquez une adresse e-mail valide, comme nom@exemple.fr."),
        ("organizer_url", "Indiquez une adresse web complète, commençant par https://"),
    ):
        node = tree.by_id(field)
        assert node.attrs["aria-invalid"] == "true", field
        assert f"{field}-error" in (node.attrs["aria-describedby"] or "").split(), field
        assert tree.by_id(f"{field}-error").words() == message
    assert tree.by_id("title_fr").attrs["value"] == HOSTILE
    assert tree.by_id("description").text() == HOSTILE * 3
    assert tree.by_id("proposer_email").attrs["value"] == "pas-une-adresse"
    assert tree.by_id("city").attrs["value"] == "Rennes"
    summary = tree.by_class("error-summary")[0]
    assert [a.attrs["href"] for a in summary.all("a")] == [
        "#date",
        "#organizer_url",
        "#proposer_email",
    ]
    assert counts(migrated) == (0, 0, 1)  # refused, but counted


def test_a_missing_title_and_time_are_asked_for_in_english(client: TestClient) -> None:
    response = send(client, lang="en", title_fr="", start_time="")
    assert response.status_code == 400
    tree = parse(response.text)
    assert tree.by_id("title_fr-error").text() == "Enter the event's title in French."
    assert tree.by_id("start_time-error").text() == "Enter the start time, or tick “All day”."
    assert tree.by_id("title_en").attrs["value"] == "Solidarity folk ball"


def test_proposals_are_limited_per_address(migrated: Settings, tokens) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(migrated.database_url, proposals_per_hour=2)
    with TestClient(create_app(settings)) as client:
        assert send(client).status_code == 303
        assert send(client).status_code == 303
        limited = send(client, title_fr="La troisième")
        assert limited.status_code == 429
        assert 3_500 <= int(limited.headers["retry-after"]) <= 3_600
        tree = parse(limited.text)
        assert "Réessayez dans 60 min" in tree.by_id("form-error").text()
        assert tree.by_id("title_fr").attrs["value"] == "La troisième"
    assert counts(settings) == (2, 2, 2)


def test_a_large_proposal_is_refused_before_reading_it(
    client: TestClient, migrated: Settings
) -> None:
    response = send(client, description="x" * 20_000)
    assert response.status_code == 413
    assert "dépasse la taille permise (20 Ko)" in parse(response.text).by_id("form-error").text()
    assert counts(migrated) == (0, 0, 1)
    token = csrf_of(client.get("/proposer"))
    declared = client.post(
        "/proposer",
        content=f"csrf_token={token}&title_fr=x".encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": "10000000",
        },
    )
    assert declared.status_code == 413


@pytest.mark.parametrize(
    ("kind", "headers"),
    [
        ("missing", {}),
        ("wrong", {}),
        ("no-cookie", {}),
        ("cross-site-origin", {"origin": "https://evil.example"}),
        ("cross-site-fetch", {"sec-fetch-site": "cross-site"}),
    ],
)
def test_forged_proposals_are_refused(  # type: ignore[no-untyped-def]
    client: TestClient, migrated: Settings, kind, headers
) -> None:
    token = csrf_of(client.get("/proposer"))
    data = form()
    if kind == "wrong":
        data["csrf_token"] = "0" * len(token)
    elif kind != "missing":
        data["csrf_token"] = token
    if kind == "no-cookie":
        client.cookies.clear()
    response = client.post("/proposer", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert counts(migrated) == (0, 0, 0)


def test_the_same_origin_is_accepted(client: TestClient, migrated: Settings) -> None:
    token = csrf_of(client.get("/proposer"))
    response = client.post(
        "/proposer",
        data={"csrf_token": token, **form()},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert counts(migrated) == (1, 1, 1)


def test_editors_are_told_of_a_form_proposal(migrated: Settings, tokens, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings = mailing(migrated, inbox)
    make_user(settings)
    with TestClient(create_app(settings)) as client:
        assert send(client).status_code == 303
    [received] = inbox.messages
    assert received.recipients == ["ada@example.org"]
    assert received.message["Subject"] == "Nouvelle proposition : Bal folk solidaire"
    assert "Jeanne Martin <jeanne@example.org>" in received.message.get_content()


def test_an_hour_skipped_by_the_clocks_is_named(client: TestClient, migrated: Settings) -> None:
    response = send(client, date="2027-03-28", start_time="02:30", end_time="")
    assert response.status_code == 400
    error = parse(response.text).by_id("start_time-error").text()
    assert error.startswith("Cette date et cette heure ne sont pas possibles")
    assert counts(migrated) == (0, 0, 1)
