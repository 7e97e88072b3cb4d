"""Prometheus /metrics: private by default, counts by route template, cache hits and misses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.metrics import UNMATCHED
from calendar_service.settings import Settings
from calendar_service.web.telemetry import route_template
from tests.factories import create

TOKEN = "metrics-token-of-the-test-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def watched(migrated: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    """A client of an app whose /metrics answers the bearer of ``TOKEN``."""
    settings = migrated.model_copy(update={"metrics_token": TOKEN})
    with TestClient(create_app(settings)) as client:
        yield client


Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(client: TestClient) -> Scrape:
    """Every sample of a scrape, by name and labels."""
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(scrape: Scrape, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_not_public_without_the_setting(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Authorization": "Bearer anything-at-all-here"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_metrics_need_the_token(watched: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-of-the-same-size-0123"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ):
        response = watched.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert watched.get("/metrics", headers=SCRAPE).status_code == 200


def test_requests_are_counted_by_route_template(
    watched: TestClient, editor: dict[str, str]
) -> None:
    made = create(watched, editor)
    before = samples(watched)
    for _ in range(3):
        assert watched.get(f"/api/events/{made['id']}").status_code == 200
    assert watched.get(f"/events/{made['slug']}").status_code == 200
    assert watched.get("/no/such/page").status_code == 404
    after = samples(watched)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    one = {"method": "GET", "route": "/api/events/{key}", "status": "200"}
    assert moved("calendar_http_requests_total", **one) == 3
    assert moved("calendar_http_request_duration_seconds_count", route="/api/events/{key}") == 3
    page = {"method": "GET", "route": "/events/{key}", "status": "200"}
    assert moved("calendar_http_requests_total", **page) == 1
    unmatched = {"method": "GET", "route": UNMATCHED, "status": "404"}
    assert moved("calendar_http_requests_total", **unmatched) == 1
    # The scrape itself is the one request in flight.
    assert value(after, "calendar_http_requests_in_flight") == 1
    templates = {route_template(route) for route in watched.app.routes} | {UNMATCHED}
    # The routes counted during this test (other tests of the process add their own routes).
    routes = {
        dict(labels)["route"]
        for key, labels in after
        if "route" in dict(labels) and after[key, labels] != before.get((key, labels))
    }
    assert routes and routes <= templates
    assert not any(made["slug"] in route or str(made["id"]) in route for route in routes)


def test_a_feed_asked_twice_is_one_miss_then_one_hit(
    watched: TestClient, editor: dict[str, str]
) -> None:
    create(watched, editor)
    before = samples(watched)
    first = watched.get("/feeds/agenda.ics")
    second = watched.get("/feeds/agenda.ics")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    after = samples(watched)
    for name in ("calendar_cache_misses_total", "calendar_cache_hits_total"):
        assert value(after, name, cache="rendered") - value(before, name, cache="rendered") == 1


def test_newsletter_blocks_are_built_once_then_found(
    watched: TestClient, editor: dict[str, str]
) -> None:
    create(watched, editor, start="2027-05-06T18:30:00")
    create(watched, editor, start="2027-05-07T18:30:00", end="2027-05-07T22:00:00")
    window = "from=2027-05-01&to=2027-05-31"
    before = samples(watched)
    assert watched.get(f"/newsletter/agenda.html?{window}").status_code == 200
    middle = samples(watched)
    # Another query is another digest, made of the same event blocks.
    assert watched.get(f"/newsletter/agenda.html?{window}&lang=fr").status_code == 200
    after = samples(watched)
    assert (
        value(middle, "calendar_cache_misses_total", cache="blocks")
        - value(before, "calendar_cache_misses_total", cache="blocks")
        == 2
    )
    assert (
        value(after, "calendar_cache_hits_total", cache="blocks")
        - value(middle, "calendar_cache_hits_total", cache="blocks")
        == 2
    )
