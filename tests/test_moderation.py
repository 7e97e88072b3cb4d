"""The editors' moderation queue: pending proposals oldest first, accept (published), refuse
(removed, the proposer told), decisions on what no longer waits, and the history written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db import accounts, history
from calendar_service.db.connection import Storage
from calendar_service.settings import Settings
from tests.accounts import CHEAP, csrf_of, make_user, sign_in
from tests.conftest import run_on
from tests.htmltree import parse
from tests.test_mail import Inbox, inbox, mailing  # noqa: F401 (the inbox fixture)
from tests.test_proposals import PROPOSER, proposal, public_texts

HOSTILE = "<img src=x onerror=alert(1)>"
HTML = {"accept": "text/html"}


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


@pytest.fixture
def editor_client(migrated: Settings, tokens: dict[str, str], inbox: Inbox) -> Iterator[TestClient]:  # noqa: F811
    """A client of an app sending e-mail to ``inbox``, signed in as an editor."""
    settings = mailing(migrated, inbox, notify_editors=False)
    make_user(settings)
    with TestClient(create_app(settings)) as client:
        assert sign_in(client).status_code == 303
        yield client


def propose(client: TestClient, title: str, **proposer: str | None) -> int:
    """Send a proposal through the API; its event id."""
    data = proposal(title={"fr": title})
    data["proposer"] = {k: v for k, v in {**PROPOSER, **proposer}.items() if v is not None}
    assert client.post("/api/proposals", json=data).status_code == 202
    return waiting(client)[-1]


def waiting(client: TestClient) -> list[int]:
    """The event ids of the queue's proposals, in its order."""
    page = parse(client.get("/editor/proposals").text)
    found = [li.attrs.get("id") or "" for li in page.all("li")]
    return [int(i.removeprefix("proposal-")) for i in found if i.startswith("proposal-")]


def decide(client: TestClient, event_id: int, decision: str, **fields: str) -> Any:
    token = csrf_of(client.get("/editor/proposals"))
    return client.post(
        f"/editor/proposals/{event_id}/{decision}",
        data={"csrf_token": token, **fields},
        follow_redirects=False,
    )


def actions(settings: Settings, event_id: int) -> list[tuple[str, str]]:
    """Who did what to the event, latest first."""

    async def work(storage: Storage) -> list[tuple[str, str]]:
        return [(e.actor, e.action) for e in await history.for_event(storage, event_id=event_id)]

    return run_on(settings, work)  # type: ignore[no-any-return]


def test_the_queue_lists_proposals_oldest_first(editor_client: TestClient) -> None:
    first = propose(editor_client, "Premier " + HOSTILE)
    second = propose(editor_client, "Second", name=None, email=None, message=None)
    response = editor_client.get("/editor/proposals")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert HOSTILE not in response.text
    tree = parse(response.text)
    assert waiting(editor_client) == [first, second]
    items = [tree.by_id(f"proposal-{first}"), tree.by_id(f"proposal-{second}")]
    assert items[0].all("h3")[0].text() == "Premier " + HOSTILE
    facts = items[0].words()
    assert PROPOSER["name"] in facts and PROPOSER["email"] in facts
    assert PROPOSER["message"] in facts
    assert "La Bellevilloise" in facts
    assert "(anonyme)" in items[1].words()
    assert f"/editor/events/{first}" in items[0].hrefs()
    assert tree.by_id(f"reply-{first}").tag == "textarea"
    english = parse(editor_client.get("/editor/proposals?lang=en").text)
    assert english.all("h1")[0].text() == "Proposals"
    assert english.all("form")[1].attrs["action"] == f"/editor/proposals/{first}/accept?lang=en"


def test_accepting_publishes_and_tells_the_proposer(
    editor_client: TestClient,
    inbox: Inbox,  # noqa: F811
) -> None:
    event_id = propose(editor_client, "Bal accepté")
    response = decide(editor_client, event_id, "accept")
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/proposals?done=accepted"
    page = parse(editor_client.get(response.headers["location"]).text)
    assert page.by_class("notice")[0].words() == "Proposition acceptée : l'événement est publié."
    decided = page.by_class("decided")[0].words()
    assert "Bal accepté" in decided and "Acceptée par ada@example.org" in decided
    event = editor_client.get(f"/api/events/{event_id}").json()
    assert event["state"] == "published"
    assert f"/events/{event['slug']}" in page.by_class("decided")[0].hrefs()
    assert actions(editor_client.app.state.settings, event_id) == [
        ("ada@example.org", "accepted"),
        ("proposal", "proposed"),
    ]
    [told] = inbox.messages
    assert told.recipients == [PROPOSER["email"]]
    assert told.message["Subject"] == "Votre proposition est publiée : Bal accepté"
    assert f"http://testserver/events/{event['slug']}" in told.message.get_content()


def test_refusing_removes_and_tells_the_proposer(
    editor_client: TestClient,
    inbox: Inbox,  # noqa: F811
) -> None:
    event_id = propose(editor_client, "Bal refusé")
    response = decide(editor_client, event_id, "refuse", reply="Hors de notre région, désolés.")
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/proposals?done=refused"
    page = parse(editor_client.get("/editor/proposals").text)
    assert "Aucune proposition en attente." in page.words()
    decided = page.by_class("decided")[0].words()
    assert "Refusée par ada@example.org" in decided
    assert "Hors de notre région, désolés." in decided
    assert not [h for h in page.by_class("decided")[0].hrefs() if h.startswith("/events/")]
    assert editor_client.get(f"/api/events/{event_id}").status_code in (404, 410)
    for path, (status, text) in public_texts(editor_client, "bal-refuse", event_id).items():
        assert "Bal refusé" not in text, (path, status)
    assert actions(editor_client.app.state.settings, event_id)[0] == (
        "ada@example.org",
        "refused",
    )
    [told] = inbox.messages
    assert told.recipients == [PROPOSER["email"]]
    assert told.message["Subject"] == "Votre proposition : Bal refusé"
    assert "Hors de notre région, désolés." in told.message.get_content()


def test_no_e_mail_without_the_proposer_address(
    editor_client: TestClient,
    inbox: Inbox,  # noqa: F811
) -> None:
    event_id = propose(editor_client, "Sans adresse", email=None)
    assert decide(editor_client, event_id, "refuse").status_code == 303
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("first", "then"), [("accept", "accept"), ("accept", "refuse"), ("refuse", "accept")]
)
def test_a_decided_proposal_gets_a_message_not_a_crash(  # type: ignore[no-untyped-def]
    editor_client: TestClient, first, then
) -> None:
    event_id = propose(editor_client, "Déjà traitée")
    assert decide(editor_client, event_id, first).status_code == 303
    again = decide(editor_client, event_id, then)
    assert again.status_code in (409, 410)
    message = parse(again.text).by_class("warning")[0].text()
    assert message.startswith("Cette proposition n'attend plus de décision")


def test_an_unknown_proposal_is_named(editor_client: TestClient) -> None:
    response = decide(editor_client, 999_999, "accept")
    assert response.status_code == 404
    message = parse(response.text).by_class("warning")[0].text()
    assert message == "Il n'y a pas de proposition pour cet événement."


def test_an_edit_before_accepting_is_kept(
    editor_client: TestClient, editor: dict[str, str]
) -> None:
    event_id = propose(editor_client, "Titre à corriger")
    patched = editor_client.patch(
        f"/api/events/{event_id}", json={"title": {"fr": "Titre corrigé"}}, headers=editor
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] == "pending"
    queue = parse(editor_client.get("/editor/proposals").text)
    assert queue.by_id(f"proposal-{event_id}").all("h3")[0].text() == "Titre corrigé"
    assert decide(editor_client, event_id, "accept").status_code == 303
    event = editor_client.get(f"/api/events/{event_id}").json()
    assert event["state"] == "published"
    assert event["title"]["fr"] == "Titre corrigé"


def test_a_long_reply_is_refused_by_its_field(editor_client: TestClient) -> None:
    event_id = propose(editor_client, "Réponse trop longue")
    reply = HOSTILE + "x" * 2_000
    response = decide(editor_client, event_id, "refuse", reply=reply)
    assert response.status_code == 400
    assert HOSTILE not in response.text
    tree = parse(response.text)
    area = tree.by_id(f"reply-{event_id}")
    assert area.attrs["aria-invalid"] == "true"
    assert area.text() == reply
    assert tree.by_id(f"reply-{event_id}-error").text() == (
        "Le message doit faire au plus 2000 caractères."
    )
    assert editor_client.get(f"/api/events/{event_id}").status_code == 404  # still pending


def test_anonymous_users_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/editor/proposals", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/login?next=%2Feditor%2Fproposals"
    assert client.get("/editor/proposals").status_code == 401


def test_the_proposer_is_answered_in_their_language(
    editor_client: TestClient,
    inbox: Inbox,  # noqa: F811
) -> None:
    data = proposal(title={"fr": "Bal en anglais", "en": "A dance"})
    data["proposer"] = dict(PROPOSER)
    assert editor_client.post("/api/proposals?lang=en", json=data).status_code == 202
    event_id = waiting(editor_client)[-1]
    assert decide(editor_client, event_id, "accept").status_code == 303
    [told] = inbox.messages
    assert told.message["Subject"] == "Your proposal is published: A dance"
    assert "?lang=en" in told.message.get_content()
    refused = proposal(title={"fr": "Autre bal"})
    refused["proposer"] = dict(PROPOSER)
    assert editor_client.post("/api/proposals?lang=fr", json=refused).status_code == 202
    event_id = waiting(editor_client)[-1]
    assert decide(editor_client, event_id, "refuse", reply="Non.").status_code == 303
    assert inbox.messages[-1].message["Subject"] == "Votre proposition : Autre bal"
    bad = editor_client.post("/api/proposals?lang=xx", json=proposal(title={"fr": "X"}))
    assert bad.status_code == 400


def test_publishing_a_proposal_with_the_api_accepts_it(
    editor_client: TestClient,
    editor: dict[str, str],
    inbox: Inbox,  # noqa: F811
) -> None:
    event_id = propose(editor_client, "Bal publié par l'API")
    patched = editor_client.patch(
        f"/api/events/{event_id}", json={"state": "published"}, headers=editor
    )
    assert patched.status_code == 200, patched.text
    assert waiting(editor_client) == []
    decided = parse(editor_client.get("/editor/proposals").text).by_class("decided")[0].words()
    assert "Bal publié par l'API" in decided and "Acceptée par token:" in decided
    [told] = inbox.messages
    assert told.recipients == [PROPOSER["email"]]
    assert told.message["Subject"] == "Votre proposition est publiée : Bal publié par l'API"
    # A later change is no new decision, and tells no one.
    again = editor_client.patch(f"/api/events/{event_id}", json={"state": "draft"}, headers=editor)
    assert again.status_code == 200
    editor_client.patch(f"/api/events/{event_id}", json={"state": "published"}, headers=editor)
    assert len(inbox.messages) == 1
