"""Test data: valid event documents, changed by keyword."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count(1)


def event_payload(**overrides: Any) -> dict[str, Any]:
    """A valid event document; keyword arguments replace (or, with None, remove) fields."""
    n = next(_counter)
    data: dict[str, Any] = {
        "title": {"fr": f"Concert solidaire n°{n}", "en": f"Solidarity concert no. {n}"},
        "summary": "Un concert au profit d'ALIMA.",
        "description": "Avec **YoonRisen**. [Programme](https://example.org/programme)",
        "category": "concert",
        "tags": ["musique", "solidarite"],
        "start": "2027-05-06T18:30:00",
        "end": "2027-05-06T22:00:00",
        "location": {
            "name": "La Bellevilloise",
            "address": "19-21 rue Boyer",
            "postal_code": "75020",
            "city": "Paris",
            "lat": 48.8686,
            "lon": 2.3933,
        },
        "organizer": {"name": "YoonRisen", "url": "https://example.org/yoonrisen"},
        "partners": [{"name": "ALIMA", "role": "beneficiary", "url": "https://alima.ngo"}],
        "price": "Participation libre",
        "url": "https://example.org/concert",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def create(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST an event and return its JSON, failing loudly when the API refuses it."""
    response = client.post("/api/events", json=event_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def everything(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every event and tombstone in the store, in any state, through the API's sync listing."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {
            "updated_since": "1970-01-01T00:00:00Z",
            "state": "draft,published,pending",
            "limit": "500",
        }
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/events", params=params, headers=headers).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items
