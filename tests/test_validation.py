"""What the API refuses, how it says so (problem+json naming each field), and that a refused
request writes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.factories import create, event_payload, everything

PROBLEMS = {
    400: ("bad-request", "Bad request"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Validation failed"),
}
LOCATION = event_payload()["location"]
BAD_URLS = ["javascript:alert(1)", "ftp://x", "not a url"]


def assert_problem(response: Any, status: int, fields: set[str] | None = None) -> dict[str, Any]:
    """The response is a problem+json of ``status`` whose ``errors`` name exactly ``fields``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    slug, title = PROBLEMS[status]
    assert body["type"] == f"https://calendar-service.example/problems/{slug}"
    assert body["title"] == title
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if fields is not None:
        assert {error["field"] for error in body["errors"]} == fields, body
        assert all(error["message"] for error in body["errors"])
    return body


def refused_post(
    client: Any, editor: dict[str, str], status: int, fields: set[str] | None, **request: Any
) -> dict[str, Any]:
    """POST /api/events, expect a problem, and check the store did not change."""
    create(client, editor)  # something already stored, so that a change would show
    before = everything(client, editor)
    headers = {**editor, **request.pop("headers", {})}
    response = client.post("/api/events", headers=headers, **request)
    body = assert_problem(response, status, fields)
    assert everything(client, editor) == before
    return body


def field_detail(body: dict[str, Any]) -> None:
    count = len(body["errors"])
    assert body["detail"] == f"{count} field{'s' if count > 1 else ''} to correct"


# --- POST /api/events: one field at a time ---------------------------------------------------


def test_end_before_start(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(start="2027-05-06T18:30:00", end="2027-05-06T17:00:00")
    body = refused_post(client, editor, 422, {"end"}, json=payload)
    field_detail(body)
    assert "before the start" in body["errors"][0]["message"]


def test_unknown_time_zone(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(timezone="Europe/Atlantis")
    body = refused_post(client, editor, 422, {"timezone"}, json=payload)
    assert "Europe/Atlantis" in body["errors"][0]["message"]


def test_local_time_in_the_spring_forward_gap(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(
        timezone="Europe/Paris", start="2027-03-28T02:30:00", end="2027-03-28T04:00:00"
    )
    body = refused_post(client, editor, 422, {"start"}, json=payload)
    assert "does not exist" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("rrule", "start", "words"),
    [
        ("FREQ=SOMETIMES", "2027-05-06T18:30:00", "SOMETIMES"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270601", "2027-05-06T18:30:00", "COUNT or UNTIL"),
        ("FREQ=WEEKLY;BYDAY=XX", "2027-05-06T18:30:00", "XX"),
        # 2027-05-04 is a Tuesday; the rule only gives Thursdays
        ("FREQ=WEEKLY;BYDAY=TH", "2027-05-04T18:30:00", "2027-05-06"),
    ],
    ids=["unknown-freq", "count-and-until", "bad-byday", "start-not-on-rule"],
)
def test_invalid_rrule(client, editor, rrule, start, words) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(start=start, end=None, recurrence={"rrule": rrule})
    body = refused_post(client, editor, 422, {"recurrence.rrule"}, json=payload)
    assert words in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("coordinates", "field"),
    [
        ({"lat": 91}, "location.lat"),
        ({"lat": -91}, "location.lat"),
        ({"lon": 181}, "location.lon"),
        ({"lon": -181}, "location.lon"),
    ],
)
def test_coordinates_out_of_range(client, editor, coordinates, field) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(location={**LOCATION, **coordinates})
    refused_post(client, editor, 422, {field}, json=payload)


def test_unknown_category(client, editor) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {"category"}, json=event_payload(category="party"))
    assert "concert" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "limit"), [("title", 300), ("summary", 300), ("description", 20_000)]
)
def test_over_long_text(client, editor, field, limit) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(**{field: "x" * (limit + 1)})
    body = refused_post(client, editor, 422, {field}, json=payload)
    assert str(limit) in body["errors"][0]["message"]


def test_text_at_the_limit_is_accepted(client, editor) -> None:  # type: ignore[no-untyped-def]
    made = create(client, editor, title={"fr": "t" * 300}, description="d" * 20_000)
    assert made["title"] == {"fr": "t" * 300}
    assert made["description"] == {"fr": "d" * 20_000}


def _url_payload(field: str, url: str) -> dict[str, Any]:
    if field == "organizer.url":
        return event_payload(organizer={"name": "YoonRisen", "url": url})
    if field == "image.url":
        return event_payload(image={"url": url, "alt": "Affiche du concert"})
    return event_payload(**{field: url})


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    "field", ["url", "registration_url", "online_url", "organizer.url", "image.url"]
)
def test_non_http_url(client, editor, field, url) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {field}, json=_url_payload(field, url))
    assert "http" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unknown_field": "x"}, "unknown_field"),
        ({"location": {**LOCATION, "floor": 2}}, "location.floor"),
        ({"partners": [{"name": "ALIMA", "logo": "x"}]}, "partners[0].logo"),
    ],
    ids=["top-level", "location.floor", "in-a-list"],
)
def test_unknown_field(client, editor, overrides, field) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {field}, json=event_payload(**overrides))
    assert body["errors"][0]["message"] == "unknown field"


@pytest.mark.parametrize(("field", "value"), [("id", 7), ("sequence", 3), ("created_at", "x")])
def test_read_only_field(client, editor, field, value) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {field}, json=event_payload(**{field: value}))
    assert "read-only" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", 123),
        ("start", "tomorrow evening"),
        ("start", 42),
        ("start", 42.5),
        ("all_day", "yes"),
        ("tags", "x"),
        ("all_day", "maybe"),
        ("location", "Paris"),
        ("partners", {"name": "ALIMA"}),
    ],
)
def test_wrong_type(client, editor, field, value) -> None:  # type: ignore[no-untyped-def]
    refused_post(client, editor, 422, {field}, json=event_payload(**{field: value}))


@pytest.mark.parametrize("lat", ["48.8", True, [48.8]])
def test_coordinates_must_be_numbers(client, editor, lat) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(location={"name": "La Bellevilloise", "lat": lat, "lon": 2.39})
    refused_post(client, editor, 422, {"location.lat"}, json=payload)


def test_all_day_with_a_datetime(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(all_day=True, start="2027-06-12T10:00:00", end=None)
    body = refused_post(client, editor, 422, {"start"}, json=payload)
    assert "date" in body["errors"][0]["message"]


def test_timed_event_with_a_date_only(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(start="2027-06-12", end=None)
    body = refused_post(client, editor, 422, {"start"}, json=payload)
    assert "all_day" in body["errors"][0]["message"]


@pytest.mark.parametrize("mode", ["online", "mixed"])
def test_online_attendance_without_online_url(client, editor, mode) -> None:  # type: ignore[no-untyped-def]
    refused_post(client, editor, 422, {"online_url"}, json=event_payload(attendance_mode=mode))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": {"fr": "Concert", "de": "Konzert"}}, "title"),
        ({"description": {"de": "Beschreibung"}}, "description"),
        ({"image": {"url": "https://example.org/a.jpg", "alt": {"de": "Bild"}}}, "image.alt"),
    ],
)
def test_unknown_language_in_a_text_map(client, editor, overrides, field) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {field}, json=event_payload(**overrides))
    assert "'de'" in body["errors"][0]["message"]


def test_missing_title(client, editor) -> None:  # type: ignore[no-untyped-def]
    refused_post(client, editor, 422, {"title"}, json=event_payload(title=None))


def test_title_without_the_default_language(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(title={"en": "Solidarity concert"})
    body = refused_post(client, editor, 422, {"title"}, json=payload)
    assert "(fr)" in body["errors"][0]["message"]


def test_several_field_errors_are_listed_together(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(
        category="party",
        url="javascript:alert(1)",
        location={**LOCATION, "lat": 91},
        title={"fr": "Concert", "de": "Konzert"},
    )
    body = refused_post(
        client, editor, 422, {"category", "url", "location.lat", "title"}, json=payload
    )
    assert body["detail"] == "4 fields to correct"


def test_several_consistency_errors_are_listed_together(client, editor) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(
        title={"en": "Solidarity concert"},
        end="2027-05-06T17:00:00",
        attendance_mode="online",
        recurrence={"rrule": "FREQ=SOMETIMES"},
    )
    body = refused_post(
        client,
        editor,
        422,
        {"title", "end", "online_url", "recurrence.rrule"},
        json=payload,
    )
    assert body["detail"] == "4 fields to correct"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "Concert\x00"}, "title"),
        ({"title": {"fr": "Con\x1bcert"}}, "title"),
        ({"description": "Avant\x07après"}, "description"),
        ({"location": {**LOCATION, "name": "Salle\x7f"}}, "location.name"),
        ({"organizer": {"name": "Yoon\x0bRisen"}}, "organizer.name"),
    ],
    ids=["nul", "escape", "bell", "delete", "vertical-tab"],
)
def test_control_characters(client, editor, overrides, field) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 422, {field}, json=event_payload(**overrides))
    assert "control characters" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"start": "0001-01-01T00:00:00"},
            id="year-1",
        ),
        pytest.param(
            {"start": "9999-12-31", "all_day": True},
            id="year-9999-all-day",
        ),
    ],
)
def test_start_out_of_the_calendar_range(client, editor, overrides) -> None:  # type: ignore[no-untyped-def]
    payload = event_payload(end=None, **overrides)
    refused_post(client, editor, 422, {"start"}, json=payload)


# --- the body itself ---------------------------------------------------------------------------

JSON = {"content-type": "application/json"}


def test_malformed_json(client, editor) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 400, None, content=b'{"title": ', headers=JSON)
    assert "not valid JSON" in body["detail"]


@pytest.mark.parametrize("content", [b"", b"  \n "], ids=["empty", "blank"])
def test_empty_body(client, editor, content) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 400, None, content=content, headers=JSON)
    assert "empty" in body["detail"]


def test_json_array_body(client, editor) -> None:  # type: ignore[no-untyped-def]
    refused_post(client, editor, 422, {"(body)"}, json=[event_payload()])


@pytest.mark.parametrize(
    ("request_kwargs", "named"),
    [
        (
            {"content": json.dumps(event_payload()), "headers": {"content-type": "text/plain"}},
            "text/plain",
        ),
        (
            {"data": {"title": "Concert", "start": "2027-05-06T18:30:00"}},
            "application/x-www-form-urlencoded",
        ),
        ({"content": json.dumps(event_payload()).encode()}, "Content-Type is missing"),
    ],
    ids=["text-plain", "form", "no-content-type"],
)
def test_wrong_content_type(client, editor, request_kwargs, named) -> None:  # type: ignore[no-untyped-def]
    body = refused_post(client, editor, 415, None, **request_kwargs)
    assert named in body["detail"]


def _padded(size: int) -> bytes:
    """A valid event document padded with trailing spaces to exactly ``size`` bytes."""
    document = json.dumps(event_payload()).encode()
    assert len(document) < size
    return document + b" " * (size - len(document))


def test_body_over_the_limit(client, editor) -> None:  # type: ignore[no-untyped-def]
    limit = client.app.state.settings.max_body_bytes
    assert limit == 1_000_000
    body = refused_post(client, editor, 413, None, content=_padded(1_100_000), headers=JSON)
    assert str(limit) in body["detail"]


def test_streamed_body_over_the_limit(client, editor) -> None:  # type: ignore[no-untyped-def]
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"title": "'
        for _ in range(1_100):
            yield b"x" * 1_000
        yield b'"}'

    create(client, editor)
    before = everything(client, editor)
    response = client.post("/api/events", content=chunks(), headers={**editor, **JSON})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert everything(client, editor) == before


def test_body_at_the_limit_is_accepted(client, editor) -> None:  # type: ignore[no-untyped-def]
    limit = client.app.state.settings.max_body_bytes
    response = client.post("/api/events", content=_padded(limit), headers={**editor, **JSON})
    assert response.status_code == 201, response.text


# --- PATCH -------------------------------------------------------------------------------------

MERGE = {"content-type": "application/merge-patch+json"}


def refused_patch(
    client: Any,
    editor: dict[str, str],
    status: int,
    fields: set[str] | None,
    *,
    content: bytes,
    content_type: str | None = "application/merge-patch+json",
) -> dict[str, Any]:
    event = create(client, editor)
    url = f"/api/events/{event['id']}"
    before, stored = client.get(url).json(), everything(client, editor)
    headers = {**editor, **({"content-type": content_type} if content_type else {})}
    response = client.patch(url, content=content, headers=headers)
    body = assert_problem(response, status, fields)
    assert client.get(url).json() == before
    assert everything(client, editor) == stored
    return body


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"end": "2027-05-06T17:00:00"}, "end"),
        ({"start": "2027-05-07T18:30:00"}, "end"),
        ({"timezone": "Nowhere/Else"}, "timezone"),
        ({"uid": "other"}, "uid"),
        ({"id": 99}, "id"),
        ({"sequence": 9}, "sequence"),
        ({"start": "2027-03-28T02:30:00", "end": "2027-03-28T04:00:00"}, "start"),
        ({"recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=XX"}}, "recurrence.rrule"),
        ({"location": {"lat": 91}}, "location.lat"),
        ({"location": {"floor": 2}}, "location.floor"),
        ({"category": "party"}, "category"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"organizer": {"url": "ftp://x"}}, "organizer.url"),
        ({"attendance_mode": "online"}, "online_url"),
        ({"title": {"fr": None}}, "title"),
        ({"title": {"de": "Konzert"}}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "Concert\x00"}, "title"),
        ({"all_day": True}, "start"),
        ({"tags": "x"}, "tags"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_patch_refused(client, editor, patch, field) -> None:  # type: ignore[no-untyped-def]
    body = refused_patch(client, editor, 422, None, content=json.dumps(patch).encode())
    assert field in {error["field"] for error in body["errors"]}


def test_patch_errors_are_listed_together(client, editor) -> None:  # type: ignore[no-untyped-def]
    patch = {"category": "party", "url": "ftp://x", "location": {"lat": 91}}
    refused_patch(
        client, editor, 422, {"category", "url", "location.lat"}, content=json.dumps(patch).encode()
    )


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"title": ', "application/merge-patch+json", 400),
        (b"", "application/merge-patch+json", 400),
        (b"[]", "application/merge-patch+json", 422),
        (b'"Concert"', "application/json", 422),
        (b'{"price": "Gratuit"}', "text/plain", 415),
        (b"price=Gratuit", "application/x-www-form-urlencoded", 415),
        (b'{"price": "Gratuit"}', None, 415),
    ],
    ids=["malformed", "empty", "array", "string", "text-plain", "form", "no-content-type"],
)
def test_patch_unreadable_body(client, editor, content, content_type, status) -> None:  # type: ignore[no-untyped-def]
    refused_patch(client, editor, status, None, content=content, content_type=content_type)


def test_patch_body_over_the_limit(client, editor) -> None:  # type: ignore[no-untyped-def]
    content = b'{"price": "' + b"x" * 1_100_000 + b'"}'
    refused_patch(client, editor, 413, None, content=content)


def test_patch_with_the_same_uid_is_accepted(client, editor) -> None:  # type: ignore[no-untyped-def]
    event = create(client, editor)
    response = client.patch(
        f"/api/events/{event['id']}",
        json={"uid": event["uid"], "price": "Gratuit"},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    assert response.json()["price"] == {"fr": "Gratuit"}


# --- hostile text is data ----------------------------------------------------------------------

HOSTILE_TITLE = {
    "fr": "<script>alert(1)</script> *|UNSUB|* \"guillemets\" 'apostrophes' & {{ name }} 🎉",
    "en": "</title><img src=x onerror=alert(1)> ${jndi:ldap://x} 👩‍👩‍👧 ‮reversed",
}
HOSTILE_DESCRIPTION = "Ligne 1\nLigne 2\r\n\n<b>gras</b> & **markdown** `code`\t<!-- -->"
# Line breaks of every kind are kept as plain "\n" (CRLF from a Windows paste included).
STORED_DESCRIPTION = HOSTILE_DESCRIPTION.replace("\r\n", "\n")


def test_hostile_text_round_trips_verbatim(client, editor) -> None:  # type: ignore[no-untyped-def]
    made = create(
        client,
        editor,
        title=HOSTILE_TITLE,
        description=HOSTILE_DESCRIPTION,
        location={**LOCATION, "name": "<Salle> \"A\" & 'B'"},
    )
    assert made["title"] == HOSTILE_TITLE
    assert made["description"] == {"fr": STORED_DESCRIPTION}
    assert made["location"]["name"] == "<Salle> \"A\" & 'B'"

    response = client.get(f"/api/events/{made['id']}")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["title"] == HOSTILE_TITLE
    assert response.json()["description"] == {"fr": STORED_DESCRIPTION}
    assert "<script>alert(1)</script>" in response.text  # JSON data, not escaped HTML
    assert "&lt;" not in response.text

    single = client.get(f"/api/events/{made['id']}", params={"lang": "en"}).json()
    assert single["title"] == HOSTILE_TITLE["en"]
    listed = client.get("/api/events").json()["items"]
    assert [item["title"] for item in listed] == [HOSTILE_TITLE]


def test_hostile_text_round_trips_through_patch(client, editor) -> None:  # type: ignore[no-untyped-def]
    event = create(client, editor)
    response = client.patch(
        f"/api/events/{event['id']}",
        json={"title": {"fr": HOSTILE_TITLE["fr"]}, "description": HOSTILE_DESCRIPTION},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    stored = client.get(f"/api/events/{event['id']}").json()
    assert stored["title"] == {**event["title"], "fr": HOSTILE_TITLE["fr"]}
    assert stored["description"] == {"fr": STORED_DESCRIPTION}


# --- query parameters --------------------------------------------------------------------------

BAD_QUERIES = [
    ({"from": "notadate"}, "from"),
    ({"to": "2027-13-45"}, "to"),
    ({"limit": "0"}, "limit"),
    ({"limit": "100000"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"category": "unknown"}, "category"),
    ({"category": "concert,unknown"}, "category"),
    ({"status": "maybe"}, "status"),
    ({"lang": "de"}, "lang"),
    ({"from": "2027-06-01", "to": "2027-05-01"}, "to"),
    ({"from": "2027-06-01", "to": "2027-06-01"}, "to"),
]


@pytest.mark.parametrize("path", ["/api/events", "/api/occurrences"])
@pytest.mark.parametrize(("params", "field"), BAD_QUERIES)
def test_bad_query_parameter(client, editor, path, params, field) -> None:  # type: ignore[no-untyped-def]
    create(client, editor)
    assert client.get(path).status_code == 200
    response = client.get(path, params=params)
    assert_problem(response, 400, {field})


@pytest.mark.parametrize("path", ["/api/events", "/api/occurrences"])
def test_several_bad_query_parameters(client, path) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, params={"from": "notadate", "limit": "0", "lang": "de"})
    body = assert_problem(response, 400, {"from", "limit", "lang"})
    assert body["detail"] == "some query parameters are not valid"


@pytest.mark.parametrize("path", ["/api/events", "/api/occurrences"])
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        base64.urlsafe_b64encode(b"s:abc:1").decode(),
        base64.urlsafe_b64encode(b"x:1:1").decode(),
    ],
)
def test_bad_cursor(client, editor, path, cursor) -> None:  # type: ignore[no-untyped-def]
    create(client, editor)
    response = client.get(path, params={"cursor": cursor})
    body = assert_problem(response, 400)
    assert body["detail"].startswith("cursor ")


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/events", "s:99999999999999999999999:1"),
        ("/api/occurrences", "o:1:99999999999999999999"),
    ],
)
def test_forged_cursor_out_of_range(client, editor, path, raw) -> None:  # type: ignore[no-untyped-def]
    create(client, editor)
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    response = client.get(path, params={"cursor": cursor})
    body = assert_problem(response, 400)
    assert body["detail"].startswith("cursor ")


@pytest.mark.parametrize("path", ["/api/events", "/api/occurrences"])
def test_date_parameter_out_of_range(client, path) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, params={"from": "0001-01-01"})
    assert_problem(response, 400, {"from"})
