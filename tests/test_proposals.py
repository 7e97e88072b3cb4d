"""Proposals: anyone proposes an event; it stays pending and unseen until an editor publishes it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db.connection import Storage
from calendar_service.db.events import count_events
from calendar_service.db.proposals import count_proposals, get_proposal
from calendar_service.settings import Settings
from tests.conftest import make_settings, run_on
from tests.factories import event_payload, everything

PARIS = ZoneInfo("Europe/Paris")
PROPOSER = {
    "name": "Camille Proposante",
    "email": "camille.proposante@example.org",
    "message": "Merci de relire notre concert secret-mot-cle",
}


def proposal(**overrides: Any) -> dict[str, Any]:
    """A valid proposal starting at 18:30 (Paris) in three days, so every list shows it."""
    start = datetime.combine(datetime.now(PARIS).date() + timedelta(days=3), time(18, 30))
    data = event_payload(
        start=start.isoformat(), end=(start + timedelta(hours=3)).isoformat(), **overrides
    )
    return {**data, "proposer": PROPOSER}


def propose(client: TestClient, **overrides: Any) -> dict[str, Any]:
    data = proposal(**overrides)
    response = client.post("/api/proposals", json=data)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert set(response.json()) == {"status", "message"}
    return data


def counts(settings: Settings) -> tuple[int, int, int]:
    """Events, proposer records and rate-log entries in the database."""

    async def work(storage: Storage) -> tuple[int, int, int]:
        kept, logged = await count_proposals(storage)
        return await count_events(storage), kept, logged

    return run_on(settings, work)  # type: ignore[no-any-return]


def pending_one(client: TestClient, editor: dict[str, str]) -> dict[str, Any]:
    items = client.get("/api/events", params={"state": "pending"}, headers=editor).json()["items"]
    assert len(items) == 1
    return items[0]  # type: ignore[no-any-return]


PUBLIC_LISTS = (
    "/api/events",
    "/api/occurrences",
    "/feeds/agenda.ics",
    "/feeds/agenda.rss",
    "/feeds/agenda.json",
    "/newsletter/agenda.html",
    "/embed/agenda",
    "/",
)


def public_texts(client: TestClient, slug: str, event_id: int) -> dict[str, tuple[int, str]]:
    """What anyone sees at each public address (status and body)."""
    paths = [
        *PUBLIC_LISTS,
        f"/api/events/{event_id}",
        f"/api/events/{slug}",
        f"/newsletter/events/{slug}.html",
        f"/events/{slug}",
        f"/events/{slug}.ics",
    ]
    seen = {}
    for path in paths:
        response = client.get(path)
        seen[path] = (response.status_code, response.text)
    return seen


def test_a_proposal_is_pending_and_invisible_until_published(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    data = propose(client)
    title = data["title"]["fr"]
    made = pending_one(client, editor)
    assert made["state"] == "pending"
    assert made["title"]["fr"] == title
    assert made["published_at"] is None

    before = public_texts(client, made["slug"], made["id"])
    for path in PUBLIC_LISTS:
        status, text = before[path]
        assert status == 200, path
        assert title not in text, path
        assert made["slug"] not in text, path
    for path in (
        f"/api/events/{made['id']}",
        f"/api/events/{made['slug']}",
        f"/newsletter/events/{made['slug']}.html",
        f"/events/{made['slug']}",
        f"/events/{made['slug']}.ics",
    ):
        assert before[path][0] == 404, path
    assert client.get("/api/events", params={"state": "pending"}).status_code == 401

    published = client.patch(
        f"/api/events/{made['id']}", json={"state": "published"}, headers=editor
    )
    assert published.status_code == 200, published.text
    assert published.json()["state"] == "published"
    assert published.json()["published_at"] is not None

    after = public_texts(client, made["slug"], made["id"])
    for path, (status, text) in after.items():
        assert status == 200, path
        assert title in text or made["slug"] in text, path
        # Who proposed it is never shown.
        for secret in PROPOSER.values():
            assert secret not in text, (path, secret)
    assert client.get("/api/events", params={"state": "pending"}, headers=editor).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_pending_proposals_are_listed_for_token_holders_only(
    client: TestClient, editor: dict[str, str], admin: dict[str, str]
) -> None:
    propose(client)
    refused = client.get("/api/events", params={"state": "pending"})
    assert refused.status_code == 401
    bad_token = {"Authorization": "Bearer nope"}
    assert client.get("/api/events?state=pending", headers=bad_token).status_code == 401
    assert client.get("/api/occurrences?state=pending").status_code == 401
    for headers in (editor, admin):
        assert pending_one(client, headers)["state"] == "pending"
    assert client.get("/api/events").json()["items"] == []


def test_the_proposer_is_kept_for_editors_and_never_output(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    propose(client)
    made = pending_one(client, editor)

    async def work(storage: Storage) -> dict[str, Any] | None:
        return await get_proposal(storage, event_id=made["id"])

    kept = run_on(migrated, work)
    assert kept is not None
    assert {k: kept[k] for k in PROPOSER} == PROPOSER
    assert kept["address"] == "testclient"
    # Not in the event itself, even for an editor.
    for secret in PROPOSER.values():
        assert secret not in client.get(f"/api/events/{made['id']}", headers=editor).text


def test_editor_fields_are_refused(client: TestClient, migrated: Settings) -> None:
    response = client.post(
        "/api/proposals",
        json=proposal(state="published", uid="x@example.org", slug="mine", status="cancelled"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"state", "uid", "slug", "status"}
    # Nothing kept, but the refused proposal counts towards the hourly limit.
    assert counts(migrated) == (0, 0, 1)


def test_invalid_proposals_name_their_fields(migrated: Settings, tokens: dict[str, str]) -> None:
    settings = make_settings(migrated.database_url, proposals_per_hour=20)
    with TestClient(create_app(settings)) as client:
        _invalid_proposals_name_their_fields(client)
    assert counts(migrated) == (0, 0, 6)


def _invalid_proposals_name_their_fields(client: TestClient) -> None:
    bad = proposal(title=None)
    bad["proposer"] = {"email": "not an address", "phone": "06"}
    response = client.post("/api/proposals", json=bad)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"proposer.email", "proposer.phone"}
    response = client.post("/api/proposals", json=proposal(title=None, proposer=None))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"title"}
    long = proposal()
    long["proposer"] = {"message": "x" * 2_001}
    assert client.post("/api/proposals", json=long).status_code == 422
    assert client.post("/api/proposals", json=[1]).status_code == 422
    assert client.post("/api/proposals", content=b"{", headers=JSON).status_code == 400
    assert client.post("/api/proposals", content=b"{}", headers={}).status_code == 415


JSON = {"Content-Type": "application/json"}


def test_a_proposal_without_proposer_is_accepted(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    data = proposal()
    del data["proposer"]
    assert client.post("/api/proposals", json=data).status_code == 202
    assert pending_one(client, editor)["state"] == "pending"
    assert counts(migrated) == (1, 1, 1)


@pytest.mark.parametrize("website", ["http://spam.example", "x", 1, ["a"]])
def test_the_honeypot_answers_as_accepted_and_stores_nothing(
    client: TestClient, editor: dict[str, str], migrated: Settings, website: object
) -> None:
    response = client.post("/api/proposals", json={**proposal(), "website": website})
    assert response.status_code == 202
    assert response.json() == client.post("/api/proposals", json=proposal()).json()
    # Only the honest proposal was kept; the robot's only counts towards the limit.
    assert counts(migrated) == (1, 1, 2)
    assert len(everything(client, editor)) == 1
    # Even an invalid body with the honeypot filled looks accepted.
    assert client.post("/api/proposals", json={"website": "x"}).status_code == 202
    assert counts(migrated) == (1, 1, 3)


def test_an_empty_honeypot_is_fine(client: TestClient, migrated: Settings) -> None:
    assert client.post("/api/proposals", json={**proposal(), "website": ""}).status_code == 202
    assert counts(migrated) == (1, 1, 1)


def test_a_large_body_is_refused(client: TestClient, migrated: Settings) -> None:
    data = proposal(description="x" * 19_000)
    data["proposer"] = {**PROPOSER, "message": "y" * 2_000}
    response = client.post("/api/proposals", json=data)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert counts(migrated) == (0, 0, 1)


def test_proposals_are_limited_per_address_and_hour(
    client: TestClient, editor: dict[str, str], migrated: Settings
) -> None:
    for _ in range(5):
        propose(client)
    response = client.post("/api/proposals", json=proposal())
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 3_500 <= int(response.headers["retry-after"]) <= 3_600
    assert counts(migrated) == (5, 5, 5)
    # Another address may still propose.
    with TestClient(create_app(migrated), client=("203.0.113.7", 50000)) as other:
        assert other.post("/api/proposals", json=proposal()).status_code == 202
    assert counts(migrated) == (6, 6, 6)


def test_the_limit_holds_across_processes_and_expires(
    migrated: Settings, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(migrated.database_url, proposals_per_hour=2)
    with TestClient(create_app(settings)) as first:
        propose(first)
        propose(first)
    with TestClient(create_app(settings)) as second:
        assert second.post("/api/proposals", json=proposal()).status_code == 429
        later = datetime.now(PARIS) + timedelta(hours=1, minutes=1)
        monkeypatch.setattr("calendar_service.db.events.utc_now", lambda: later)
        propose(second)
    # The entries older than an hour were forgotten when the new one was logged.
    assert counts(settings) == (3, 3, 1)


def test_refused_proposals_count_against_the_limit(
    migrated: Settings, tokens: dict[str, str]
) -> None:
    settings = make_settings(migrated.database_url, proposals_per_hour=3)
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            bad = client.post("/api/proposals", json=proposal(title=None))
            assert bad.status_code == 422
        # A robot cannot probe the validation for free: the next one, valid, is refused.
        assert client.post("/api/proposals", json=proposal()).status_code == 429
