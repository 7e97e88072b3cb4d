"""Many writers at once: every write lands, none is lost or half-done."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.factories import event_payload, everything

WRITERS = 12
EACH = 4


def test_concurrent_creates_all_land_with_unique_slugs(client, editor) -> None:
    def write(i: int) -> int:
        payload = event_payload(title="Permanence ANEF", start="2027-02-04T14:00:00")
        return client.post("/api/events", json=payload, headers=editor).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(write, range(WRITERS * EACH)))
    assert statuses == [201] * (WRITERS * EACH)
    stored = everything(client, editor)
    assert len(stored) == WRITERS * EACH
    slugs = {e["slug"] for e in stored}
    assert len(slugs) == WRITERS * EACH
    assert "permanence-anef-2027-02-04" in slugs


def test_concurrent_patches_of_one_event_are_all_applied(client, editor) -> None:
    made = client.post("/api/events", json=event_payload(), headers=editor).json()
    url = f"/api/events/{made['id']}"

    def patch(i: int) -> int:
        return client.patch(url, json={"price": f"{i} €"}, headers=editor).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(patch, range(WRITERS * EACH)))
    assert statuses == [200] * (WRITERS * EACH)
    # Every patch made one new version: none overwrote another unseen.
    assert client.get(url).headers["etag"] == f'"{made["id"]}-{1 + WRITERS * EACH}"'


def test_concurrent_writers_on_different_events(client, editor) -> None:
    ids = [
        client.post("/api/events", json=event_payload(), headers=editor).json()["id"]
        for _ in range(WRITERS)
    ]

    def work(event_id: int) -> list[int]:
        url = f"/api/events/{event_id}"
        return [
            client.patch(
                url, json={"start": "2027-05-07T18:30:00", "end": None}, headers=editor
            ).status_code,
            client.patch(url, json={"status": "cancelled"}, headers=editor).status_code,
        ]

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(work, ids))
    assert all(r == [200, 200] for r in results)
    for event_id in ids:
        event = client.get(f"/api/events/{event_id}").json()
        assert (event["sequence"], event["status"]) == (2, "cancelled")
        occurrences = client.get(
            "/api/occurrences", params={"from": "2027-05-01", "to": "2027-06-01"}
        ).json()["items"]
        assert {o["start"] for o in occurrences if o["event_id"] == event_id} == {
            "2027-05-07T18:30:00+02:00"
        }
