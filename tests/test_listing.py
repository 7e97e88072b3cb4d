"""Listing events and occurrences: filters, keyset pages, sync with tombstones."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db.connection import migrate
from tests.conftest import make_settings
from tests.factories import create


def _all_pages(client, url: str, params: dict[str, str]) -> list[dict]:
    seen, cursor, pages = [], None, 0
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        page = client.get(url, params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        seen.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_cursor_pages_cover_every_event_once_in_order(client, editor) -> None:
    made = [
        create(client, editor, start=f"2027-05-{1 + i % 9:02d}T{10 + i % 7}:00:00", end=None)
        for i in range(23)
    ]
    listed = _all_pages(client, "/api/events", {"limit": "4"})
    assert sorted(e["id"] for e in listed) == sorted(e["id"] for e in made)
    keys = [(e["start"], e["id"]) for e in listed]
    assert keys == sorted(keys)


def test_window_filter_includes_events_in_progress(client, editor) -> None:
    before = create(client, editor, start="2027-04-01T10:00:00", end="2027-04-01T12:00:00")
    overnight = create(client, editor, start="2027-04-30T22:00:00", end="2027-05-01T03:00:00")
    exhibition = create(client, editor, start="2027-04-10", end="2027-05-20", all_day=True)
    inside = create(client, editor, start="2027-05-02T18:00:00", end=None)
    after = create(client, editor, start="2027-06-02T18:00:00", end=None)
    window = {"from": "2027-05-01T00:00:00", "to": "2027-06-01T00:00:00"}
    ids = [e["id"] for e in _all_pages(client, "/api/events", window)]
    assert ids == [exhibition["id"], overnight["id"], inside["id"]]
    assert before["id"] not in ids and after["id"] not in ids
    occurrences = _all_pages(client, "/api/occurrences", window)
    assert [o["event_id"] for o in occurrences] == ids


def test_filters_by_category_tag_status_and_text(client, editor) -> None:
    concert = create(
        client, editor, category="concert", tags=["musique"], title="Concert à l'Élysée"
    )
    march = create(
        client, editor, category="mobilisation", tags=["droits", "paris"], title="Marche solidaire"
    )
    cancelled = create(client, editor, category="projection", status="cancelled", tags=["cinema"])

    def ids(query: str) -> list[int]:
        return [e["id"] for e in client.get(f"/api/events?{query}").json()["items"]]

    assert ids("category=concert") == [concert["id"]]
    assert sorted(ids("category=concert,mobilisation")) == sorted([concert["id"], march["id"]])
    assert ids("tag=droits") == [march["id"]]
    assert sorted(ids("tag=droits&tag=cinema")) == sorted([march["id"], cancelled["id"]])
    assert ids("status=cancelled") == [cancelled["id"]]
    assert ids("q=elysee") == [concert["id"]]  # accents and case ignored
    assert ids("q=MARCHE%20solidaire") == [march["id"]]
    assert ids("q=100%25") == []
    assert ids("q=YoonRisen&category=mobilisation") == [march["id"]]


def test_updated_since_returns_changes_and_tombstones(client, editor) -> None:
    first = create(client, editor)
    second = create(client, editor)
    stamp = client.get(f"/api/events/{second['id']}").json()["updated_at"]
    client.delete(f"/api/events/{first['id']}", headers=editor)
    changed = _all_pages(client, "/api/events", {"updated_since": stamp, "limit": "1"})
    by_id = {e["id"]: e for e in changed}
    assert by_id[first["id"]]["deleted"] is True
    assert by_id[second["id"]]["uid"] == second["uid"]
    assert [e["updated_at"] for e in changed] == sorted(e["updated_at"] for e in changed)


def test_weekly_occurrences_keep_local_time_across_dst_and_skip_exdate(client, editor) -> None:
    made = create(
        client,
        editor,
        start="2027-03-18T18:30:00",
        end="2027-03-18T20:00:00",
        recurrence={"rrule": "FREQ=WEEKLY;UNTIL=20271104", "exdates": ["2027-04-01T18:30:00"]},
    )
    items = _all_pages(
        client, "/api/occurrences", {"from": "2027-03-01", "to": "2027-12-01", "limit": "7"}
    )
    starts = [o["start"] for o in items]
    assert starts[0] == "2027-03-18T18:30:00+01:00"
    assert "2027-03-25T18:30:00+01:00" in starts
    assert "2027-04-01T18:30:00+02:00" not in starts  # the EXDATE
    assert "2027-04-08T18:30:00+02:00" in starts  # summer time, same wall-clock time
    assert starts[-1] == "2027-11-04T18:30:00+01:00"  # winter time again, UNTIL inclusive
    assert all(s.endswith(("T18:30:00+01:00", "T18:30:00+02:00")) for s in starts)
    assert len(starts) == len(set(starts)) == 33
    assert all(o["end"].split("T")[1].startswith("20:00") for o in items)
    assert {o["event_id"] for o in items} == {made["id"]}
    assert all(o["recurring"] for o in items)


def test_occurrences_of_all_day_and_overseas_events(client, editor) -> None:
    create(
        client,
        editor,
        start="2027-07-01",
        end="2027-07-03",
        all_day=True,
        recurrence={"rrule": "FREQ=MONTHLY;COUNT=2"},
    )
    create(
        client,
        editor,
        start="2027-07-02T09:00:00",
        end="2027-07-02T11:00:00",
        timezone="Indian/Mayotte",
    )
    items = client.get("/api/occurrences?from=2027-07-01&to=2027-09-01").json()["items"]
    assert [(o["start"], o["end"]) for o in items] == [
        ("2027-07-01", "2027-07-03"),
        ("2027-07-02T09:00:00+03:00", "2027-07-02T11:00:00+03:00"),
        ("2027-08-01", "2027-08-03"),
    ]


def test_default_occurrence_window_starts_now(client, editor) -> None:
    create(client, editor, start="2020-01-01T10:00:00", end=None)
    assert client.get("/api/occurrences").json()["items"] == []


@pytest.mark.parametrize("horizon_days", [30])
def test_open_ended_rule_is_expanded_past_the_stored_horizon(
    database_url: str, tokens: dict[str, str], horizon_days: int
) -> None:
    settings = make_settings(database_url, occurrence_horizon_days=horizon_days)
    migrate(settings.database_url)
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    with TestClient(create_app(settings)) as client:
        made = create(
            client,
            headers,
            start="2027-01-07T14:00:00",
            end="2027-01-07T17:00:00",
            recurrence={"rrule": "FREQ=WEEKLY"},
        )
        far = _all_pages(
            client, "/api/occurrences", {"from": "2029-01-01", "to": "2029-03-01", "limit": "3"}
        )
        assert [o["start"][:10] for o in far] == [
            "2029-01-04",
            "2029-01-11",
            "2029-01-18",
            "2029-01-25",
            "2029-02-01",
            "2029-02-08",
            "2029-02-15",
            "2029-02-22",
        ]
        listed = client.get("/api/events?from=2029-01-01&to=2029-03-01").json()["items"]
        assert [e["id"] for e in listed] == [made["id"]]


def test_cancelled_events_stay_listed_with_their_status(client, editor) -> None:
    made = create(client, editor, status="cancelled")
    (item,) = client.get("/api/occurrences?from=2027-05-01&to=2027-06-01").json()["items"]
    assert item["event_id"] == made["id"]
    assert item["status"] == "cancelled"


def test_occurrence_window_is_capped(client) -> None:
    response = client.get("/api/occurrences?from=2027-01-01&to=2035-01-01")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "to"


def _weekly_and_three_in_may(client, editor):  # type: ignore[no-untyped-def]
    """A weekly series from Thursday 1 April 2027 (12 dates) and three single events in May."""
    weekly = create(
        client,
        editor,
        start="2027-04-01T18:00:00",
        end="2027-04-01T20:00:00",
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=12"},
    )
    singles = [
        create(client, editor, start=f"2027-05-{day:02d}T12:00:00", end=None) for day in (3, 10, 20)
    ]
    return weekly, singles


def test_window_lists_each_event_once_at_its_first_occurrence_in_it(client, editor) -> None:
    weekly, singles = _weekly_and_three_in_may(client, editor)
    listed = _all_pages(
        client, "/api/events", {"from": "2027-05-01", "to": "2027-06-01", "limit": "1"}
    )
    assert [e["id"] for e in listed] == [
        singles[0]["id"],  # 3 May, noon
        weekly["id"],  # first in the window: Thursday 6 May
        singles[1]["id"],
        singles[2]["id"],
    ]
    # Its last date is Thursday 17 June, 18:00-20:00.
    only_from = client.get("/api/events", params={"from": "2027-06-17T19:00:00"}).json()["items"]
    assert [e["id"] for e in only_from] == [weekly["id"]]
    after = client.get("/api/events", params={"from": "2027-06-17T20:00:00"}).json()["items"]
    assert after == []
    only_to = client.get("/api/events", params={"to": "2027-04-01T18:00:01"}).json()["items"]
    assert [e["id"] for e in only_to] == [weekly["id"]]


def test_occurrences_once_give_each_series_one_place_page_after_page(client, editor) -> None:
    weekly, singles = _weekly_and_three_in_may(client, editor)
    window = {"from": "2027-05-01", "to": "2027-06-01", "limit": "1"}
    every = _all_pages(client, "/api/occurrences", window)
    assert [o["event_id"] for o in every].count(weekly["id"]) == 4  # 6, 13, 20 and 27 May
    once = _all_pages(client, "/api/occurrences", {**window, "once": "true"})
    assert [(o["event_id"], o["start"][:10]) for o in once] == [
        (singles[0]["id"], "2027-05-03"),
        (weekly["id"], "2027-05-06"),
        (singles[1]["id"], "2027-05-10"),
        (singles[2]["id"], "2027-05-20"),
    ]
    refused = client.get("/api/occurrences", params={**window, "once": "perhaps"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"field": "once", "message": "must be true or false"}]
    # A cursor of the listing without ``once`` is not one of this listing.
    first = client.get("/api/occurrences", params=window).json()["next_cursor"]
    mixed = client.get("/api/occurrences", params={**window, "once": "1", "cursor": first})
    assert mixed.status_code == 400
