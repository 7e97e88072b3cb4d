"""Create, read, change and delete events through the JSON API."""

from __future__ import annotations

from tests.factories import create, event_payload, everything


def test_create_returns_the_event_with_its_location(client, editor) -> None:
    response = client.post("/api/events", json=event_payload(), headers=editor)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"http://testserver/api/events/{body['id']}"
    assert response.headers["etag"] == f'"{body["id"]}-1"'
    assert body["start"] == "2027-05-06T18:30:00+02:00"
    assert body["end"] == "2027-05-06T22:00:00+02:00"
    assert body["timezone"] == "Europe/Paris"
    assert body["summary"] == {"fr": "Un concert au profit d'ALIMA."}
    assert body["sequence"] == 0
    assert body["state"] == "published"
    assert body["slug"].startswith("concert-solidaire-n")
    assert body["slug"].endswith("-2027-05-06")
    assert body["uid"].endswith("@testserver")
    assert body["links"]["ics"] == f"http://testserver/events/{body['slug']}.ics"


def test_read_by_id_and_by_slug(client, editor) -> None:
    made = create(client, editor)
    by_id = client.get(f"/api/events/{made['id']}")
    by_slug = client.get(f"/api/events/{made['slug']}")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json() == made


def test_missing_event_is_a_problem(client) -> None:
    response = client.get("/api/events/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_offset_times_are_stored_as_local_time_of_the_zone(client, editor) -> None:
    made = create(
        client,
        editor,
        start="2027-05-06T16:30:00Z",
        end="2027-05-06T20:00:00+00:00",
        timezone="Indian/Mayotte",
    )
    assert made["start"] == "2027-05-06T19:30:00+03:00"
    assert made["end"] == "2027-05-06T23:00:00+03:00"


def test_lang_flattens_every_text(client, editor) -> None:
    made = create(
        client,
        editor,
        image={"url": "https://example.org/a.jpg", "alt": {"fr": "Une scène", "en": "A stage"}},
    )
    english = client.get(f"/api/events/{made['id']}?lang=en").json()
    assert english["title"] == made["title"]["en"]
    assert english["summary"] == "Un concert au profit d'ALIMA."  # falls back to French
    assert english["image"]["alt"] == "A stage"
    listed = client.get("/api/events?lang=fr").json()["items"][0]
    assert listed["title"] == made["title"]["fr"]


def test_all_day_multi_day_event_keeps_inclusive_end(client, editor) -> None:
    made = create(
        client, editor, start="2027-06-12", end="2027-06-14", all_day=True, category="exposition"
    )
    assert (made["start"], made["end"], made["all_day"]) == ("2027-06-12", "2027-06-14", True)
    one_day = create(client, editor, start="2027-06-20", end=None, all_day=True)
    assert one_day["end"] == "2027-06-20"


def test_event_without_end_is_accepted(client, editor) -> None:
    made = create(client, editor, end=None)
    assert made["end"] is None


def test_etag_and_conditional_get(client, editor) -> None:
    made = create(client, editor)
    first = client.get(f"/api/events/{made['id']}")
    etag = first.headers["etag"]
    again = client.get(f"/api/events/{made['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    french = client.get(f"/api/events/{made['id']}?lang=fr")
    assert french.headers["etag"] != etag
    client.patch(f"/api/events/{made['id']}", json={"price": "10 €"}, headers=editor)
    changed = client.get(f"/api/events/{made['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["price"] == {"fr": "10 €"}


def test_patch_merges_and_keeps_other_languages(client, editor) -> None:
    made = create(client, editor)
    response = client.patch(
        f"/api/events/{made['id']}",
        json={"title": "Nouveau titre", "location": {"name": "Le Hasard Ludique"}},
        headers={**editor, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == {"fr": "Nouveau titre", "en": made["title"]["en"]}
    assert body["location"]["name"] == "Le Hasard Ludique"
    assert body["location"]["city"] == "Paris"
    removed = client.patch(f"/api/events/{made['id']}", json={"summary": None}, headers=editor)
    assert removed.json()["summary"] is None


def test_sequence_bumps_only_when_time_place_or_status_change(client, editor) -> None:
    made = create(client, editor)
    url = f"/api/events/{made['id']}"
    assert client.patch(url, json={"title": "Autre titre"}, headers=editor).json()["sequence"] == 0
    assert client.patch(url, json={"tags": ["x"]}, headers=editor).json()["sequence"] == 0
    assert (
        client.patch(url, json={"start": "2027-05-06T19:00:00"}, headers=editor).json()["sequence"]
        == 1
    )
    moved = client.patch(url, json={"location": {"city": "Montreuil"}}, headers=editor)
    assert moved.json()["sequence"] == 2
    cancelled = client.patch(url, json={"status": "cancelled"}, headers=editor)
    assert cancelled.json()["sequence"] == 3
    assert cancelled.json()["status"] == "cancelled"


def test_if_match_refuses_a_stale_version(client, editor) -> None:
    made = create(client, editor)
    url = f"/api/events/{made['id']}"
    etag = client.get(url).headers["etag"]
    ok = client.patch(url, json={"price": "5 €"}, headers={**editor, "If-Match": etag})
    assert ok.status_code == 200
    stale = client.patch(url, json={"price": "6 €"}, headers={**editor, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.get(url).json()["price"] == {"fr": "5 €"}
    fresh = client.patch(
        url, json={"price": "7 €"}, headers={**editor, "If-Match": ok.headers["etag"]}
    )
    assert fresh.status_code == 200
    gone = client.delete(url, headers={**editor, "If-Match": etag})
    assert gone.status_code == 412


def test_publishing_a_draft_sets_published_at(client, editor) -> None:
    made = create(client, editor, state="draft")
    assert made["published_at"] is None
    published = client.patch(
        f"/api/events/{made['id']}", json={"state": "published"}, headers=editor
    )
    assert published.json()["published_at"] is not None


def test_delete_leaves_a_tombstone(client, editor) -> None:
    made = create(client, editor)
    url = f"/api/events/{made['id']}"
    assert client.delete(url, headers=editor).status_code == 204
    assert client.get(url).status_code == 410
    assert client.get(f"/api/events/{made['slug']}").status_code == 410
    assert client.delete(url, headers=editor).status_code == 410
    assert client.patch(url, json={"price": "1 €"}, headers=editor).status_code == 410
    assert client.get("/api/events").json()["items"] == []
    assert client.get("/api/occurrences?from=2027-01-01&to=2027-12-31").json()["items"] == []
    (tombstone,) = everything(client, editor)
    assert tombstone["deleted"] is True
    assert tombstone["uid"] == made["uid"]
    assert tombstone["sequence"] == 1


def test_uid_and_slug_can_be_given_and_must_be_unique(client, editor) -> None:
    made = create(client, editor, uid="abc-123@partner.example", slug="mon-concert")
    assert (made["uid"], made["slug"]) == ("abc-123@partner.example", "mon-concert")
    again = client.post(
        "/api/events", json=event_payload(uid="abc-123@partner.example"), headers=editor
    )
    assert again.status_code == 409
    slug_again = client.post("/api/events", json=event_payload(slug="mon-concert"), headers=editor)
    assert slug_again.status_code == 409
    assert len(everything(client, editor)) == 1


def test_same_title_and_day_get_distinct_slugs(client, editor) -> None:
    first = create(client, editor, title="Permanence juridique")
    second = create(client, editor, title="Permanence juridique")
    assert first["slug"] == "permanence-juridique-2027-05-06"
    assert second["slug"] == "permanence-juridique-2027-05-06-2"


def test_categories_have_french_and_english_labels(client) -> None:
    items = client.get("/api/categories").json()["items"]
    ids = [c["id"] for c in items]
    assert "mobilisation" in ids and "permanence" in ids and len(ids) == 12
    assert all(set(c["label"]) == {"fr", "en"} for c in items)
    english = client.get("/api/categories?lang=en").json()["items"]
    assert {"id": "projection", "label": "Screening"} in english


def test_unknown_route_and_method_are_problems(client) -> None:
    missing = client.get("/api/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.put("/api/events/1", json={})
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"
