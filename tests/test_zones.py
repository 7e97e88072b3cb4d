"""The time zones the service accepts: every one of them is read right, in a feed, by the
suite's independent parsers; the others are refused wherever a zone enters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db.connection import migrate
from calendar_service.db.tokens import create_token
from calendar_service.zones import accepted_equivalent, accepted_zones, check_zone
from tests.conftest import make_settings, run_on
from tests.factories import event_payload
from tests.icalcheck import all_parsers_agree, structural_problems

REFUSED = [
    "Factory",
    "localtime",
    "posixrules",
    "posix/Europe/Paris",
    "right/Europe/Paris",
    "US/Eastern",
    "EST5EDT",
    "Etc/GMT+5",
    "GMT",
    "Europe/Kiev",
    "../../etc/passwd",
    "Europe/Paris ",
    "",
]


def test_the_overseas_zones_and_utc_are_accepted() -> None:
    for name in (
        "Europe/Paris",
        "Indian/Mayotte",
        "Indian/Reunion",
        "America/Cayenne",
        "America/Guadeloupe",
        "America/Martinique",
        "America/Miquelon",
        "Pacific/Noumea",
        "Pacific/Tahiti",
        "Pacific/Wallis",
        "UTC",
    ):
        assert check_zone(name) == name


@pytest.mark.parametrize("name", REFUSED)
def test_names_calendars_do_not_share_are_refused(name: str) -> None:
    assert name not in accepted_zones()
    with pytest.raises(ValueError, match="time zone"):
        check_zone(name)


def test_a_refusal_names_the_zone_to_use() -> None:
    with pytest.raises(ValueError, match="'America/New_York'"):
        check_zone("US/Eastern")
    assert accepted_equivalent("posix/Europe/Paris") == "Europe/Paris"
    assert accepted_equivalent("Europe/Kiev") == "Europe/Kyiv"
    assert accepted_equivalent("Factory") is None


def test_the_api_refuses_them_naming_the_field(client: TestClient, editor: dict[str, str]) -> None:
    for name in REFUSED:
        if name != name.strip():
            continue  # the API trims text fields: "Europe/Paris " is Europe/Paris
        response = client.post("/api/events", json=event_payload(timezone=name), headers=editor)
        assert response.status_code == 422, (name, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["timezone"]
    proposal = client.post("/api/proposals", json=event_payload(timezone="Factory"))
    assert proposal.status_code == 422
    assert [e["field"] for e in proposal.json()["errors"]] == ["timezone"]


def test_every_accepted_zone_is_read_right_by_every_parser(tmp_path: Path) -> None:
    """One weekly event in each accepted zone, across both clock changes of 2027: the feed's
    occurrences, read by four independent parsers, are the instants the API gives."""
    url = f"sqlite:///{tmp_path / 'zones.db'}"
    settings = make_settings(url)
    migrate(url)
    _, secret = run_on(settings, lambda s: create_token(s, name="z", role="editor"))
    editor = {"Authorization": f"Bearer {secret}"}
    zones = sorted(accepted_zones())
    with TestClient(create_app(settings)) as client:
        for name in zones:
            payload = event_payload(
                title=name,
                timezone=name,
                start="2027-03-04T18:30:00",
                end="2027-03-04T20:00:00",
                recurrence={"rrule": "FREQ=WEEKLY;COUNT=40"},
                location=None,
            )
            made = client.post("/api/events", json=payload, headers=editor)
            assert made.status_code == 201, (name, made.text)
        feed = client.get("/feeds/agenda.ics").content
        expected = set()
        cursor = None
        while True:
            params = {"from": "2027-01-01", "to": "2028-01-01", "limit": "500"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/occurrences", params=params).json()
            for item in page["items"]:
                # The wall time stays 18:30 in each zone, both sides of its clock changes.
                assert item["start"][11:16] == "18:30", item
                start = datetime.fromisoformat(item["start"]).astimezone(UTC)
                expected.add((item["uid"], start.strftime("%Y%m%dT%H%M%SZ")))
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert structural_problems(feed) == []
    found = all_parsers_agree(feed, date(2027, 1, 1), date(2028, 1, 1))
    for parser, occurrences in found.items():
        read = {(uid, start.replace("-", "").replace(":", "")) for uid, start, _, _ in occurrences}
        assert read == expected, parser
    assert len(expected) == 40 * len(zones)
