"""Who may write: every write route against every kind of credential, drafts, tokens, CORS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import create, event_payload, everything

ORIGIN = "https://partner.example"
ROUTES = [
    ("POST", "/api/events", 201),
    ("PATCH", "/api/events/{event}", 200),
    ("DELETE", "/api/events/{event}", 204),
    ("GET", "/api/tokens", 200),
    ("POST", "/api/tokens", 201),
    ("DELETE", "/api/tokens/{token}", 204),
]
REFUSED = {
    "none": None,
    "basic": "Basic xyz",
    "bearer-empty": "Bearer ",
    "bearer-blank": "Bearer    ",
    "unknown": "Bearer cal_thisTokenWasNeverIssued0000000000000000000",
}


def snapshot(client: Any, admin: dict[str, str]) -> tuple[Any, Any]:
    """Everything stored: events (with drafts and tombstones) and tokens."""
    tokens = client.get("/api/tokens", headers=admin)
    assert tokens.status_code == 200
    return everything(client, admin), tokens.json()


def send(
    client: Any, method: str, path: str, headers: dict[str, str], event: Any, token: Any
) -> Any:
    """One request to a route, with a body that would be accepted from the right token."""
    url = path.format(event=event["id"], token=token)
    if method == "POST" and path == "/api/events":
        return client.post(url, json=event_payload(), headers=headers)
    if method == "POST":
        return client.post(url, json={"name": "partner site", "role": "editor"}, headers=headers)
    if method == "PATCH":
        return client.patch(
            url,
            content=b'{"price": "Gratuit"}',
            headers={**headers, "content-type": "application/merge-patch+json"},
        )
    return client.request(method, url, headers=headers)


def setup_route(client: Any, editor: dict[str, str], admin: dict[str, str]) -> tuple[Any, Any]:
    """An event to change and a live token to revoke."""
    event = create(client, editor)
    made = client.post("/api/tokens", json={"name": "spare", "role": "editor"}, headers=admin)
    assert made.status_code == 201, made.text
    return event, made.json()["id"]


def assert_problem(response: Any, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"https://calendar-service.example/problems/{slug}"
    assert body["status"] == status
    assert body["detail"]


ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]


@pytest.mark.parametrize("credentials", list(REFUSED), ids=list(REFUSED))
@pytest.mark.parametrize(("method", "path", "success"), ROUTES, ids=ROUTE_IDS)
def test_without_a_valid_token_401(
    client, editor, admin, method, path, success, credentials
) -> None:  # type: ignore[no-untyped-def]
    event, token = setup_route(client, editor, admin)
    before = snapshot(client, admin)
    header = REFUSED[credentials]
    headers = {"Authorization": header} if header is not None else {}
    response = send(client, method, path, headers, event, token)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(client, admin) == before


@pytest.mark.parametrize(("method", "path", "success"), ROUTES, ids=ROUTE_IDS)
def test_revoked_token_401(client, editor, admin, tokens, method, path, success) -> None:  # type: ignore[no-untyped-def]
    event, token = setup_route(client, editor, admin)
    before = snapshot(client, admin)
    headers = {"Authorization": f"Bearer {tokens['revoked']}"}
    response = send(client, method, path, headers, event, token)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(client, admin) == before


@pytest.mark.parametrize(("method", "path", "success"), ROUTES, ids=ROUTE_IDS)
def test_editor(client, editor, admin, method, path, success) -> None:  # type: ignore[no-untyped-def]
    event, token = setup_route(client, editor, admin)
    before = snapshot(client, admin)
    response = send(client, method, path, editor, event, token)
    if path.startswith("/api/tokens"):
        assert_problem(response, 403, "forbidden")
        assert "admin" in response.json()["detail"]
        assert snapshot(client, admin) == before
    else:
        assert response.status_code == success, response.text
        assert snapshot(client, admin) != before


@pytest.mark.parametrize(("method", "path", "success"), ROUTES, ids=ROUTE_IDS)
def test_admin(client, editor, admin, method, path, success) -> None:  # type: ignore[no-untyped-def]
    event, token = setup_route(client, editor, admin)
    before = snapshot(client, admin)
    response = send(client, method, path, admin, event, token)
    assert response.status_code == success, response.text
    assert "www-authenticate" not in response.headers
    if method == "GET":
        assert response.json() == before[1]
    else:
        assert snapshot(client, admin) != before


def test_write_effects(client, editor, admin) -> None:  # type: ignore[no-untyped-def]
    event = create(client, editor)
    url = f"/api/events/{event['id']}"
    response = client.patch(url, json={"price": "Gratuit"}, headers=editor)
    assert response.status_code == 200, response.text
    assert client.get(url).json()["price"] == {"fr": "Gratuit"}
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url).status_code == 410


# --- drafts ------------------------------------------------------------------------------------

WINDOW = {"from": "2027-05-01", "to": "2027-06-01"}


@pytest.mark.parametrize("state", ["draft", "pending"])
def test_unpublished_events_are_invisible_without_a_token(client, editor, state) -> None:  # type: ignore[no-untyped-def]
    published = create(client, editor)
    hidden = create(client, editor, state=state)
    assert hidden["state"] == state

    for key in (hidden["id"], hidden["slug"]):
        response = client.get(f"/api/events/{key}")
        assert_problem(response, 404, "not-found")
    assert client.get(f"/api/events/{published['slug']}").status_code == 200

    listed = [item["id"] for item in client.get("/api/events").json()["items"]]
    assert listed == [published["id"]]
    occurrences = client.get("/api/occurrences", params=WINDOW).json()["items"]
    assert [item["event_id"] for item in occurrences] == [published["id"]]

    response = client.get("/api/events", params={"state": state})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    response = client.get("/api/occurrences", params={"state": state, **WINDOW})
    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("state", ["draft", "pending"])
def test_unpublished_events_are_visible_with_a_token(client, editor, admin, state) -> None:  # type: ignore[no-untyped-def]
    published = create(client, editor)
    hidden = create(client, editor, state=state)

    for headers in (editor, admin):
        for key in (hidden["id"], hidden["slug"]):
            response = client.get(f"/api/events/{key}", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["state"] == state
        listed = client.get("/api/events", params={"state": state}, headers=headers).json()
        assert [item["id"] for item in listed["items"]] == [hidden["id"]]
        both = client.get(
            "/api/events", params={"state": f"published,{state}"}, headers=headers
        ).json()
        assert {item["id"] for item in both["items"]} == {published["id"], hidden["id"]}
        occurrences = client.get(
            "/api/occurrences", params={"state": state, **WINDOW}, headers=headers
        ).json()
        assert [item["event_id"] for item in occurrences["items"]] == [hidden["id"]]


def test_revoked_token_does_not_see_drafts(client, editor, tokens) -> None:  # type: ignore[no-untyped-def]
    hidden = create(client, editor, state="draft")
    revoked = {"Authorization": f"Bearer {tokens['revoked']}"}
    assert_problem(client.get(f"/api/events/{hidden['id']}", headers=revoked), 401, "unauthorized")
    response = client.get("/api/events", params={"state": "draft"}, headers=revoked)
    assert_problem(response, 401, "unauthorized")


# --- tokens made through the API ---------------------------------------------------------------


def test_token_lifecycle(client, editor, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/tokens", json={"name": "partner site", "role": "editor"}, headers=admin
    )
    assert response.status_code == 201, response.text
    made = response.json()
    secret = made["token"]
    assert secret.startswith("cal_")
    assert len(secret) > 40
    assert made["name"] == "partner site"
    assert made["role"] == "editor"
    assert made["revoked_at"] is None
    assert secret.startswith(made["prefix"])
    assert made["prefix"] != secret

    listing = client.get("/api/tokens", headers=admin)
    assert listing.status_code == 200
    assert secret not in listing.text
    mine = [item for item in listing.json()["items"] if item["id"] == made["id"]]
    assert mine == [{key: value for key, value in made.items() if key != "token"}]
    assert all("token" not in item for item in listing.json()["items"])

    bearer = {"Authorization": f"Bearer {secret}"}
    written = client.post("/api/events", json=event_payload(), headers=bearer)
    assert written.status_code == 201, written.text
    assert secret not in written.text
    assert_problem(client.get("/api/tokens", headers=bearer), 403, "forbidden")

    assert client.delete(f"/api/tokens/{made['id']}", headers=admin).status_code == 204
    before = everything(client, editor)
    refused = client.post("/api/events", json=event_payload(), headers=bearer)
    assert_problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == "Bearer"
    assert everything(client, editor) == before

    revoked = [
        item
        for item in client.get("/api/tokens", headers=admin).json()["items"]
        if item["id"] == made["id"]
    ]
    assert revoked[0]["revoked_at"] is not None
    assert_problem(client.delete(f"/api/tokens/{made['id']}", headers=admin), 404, "not-found")


def test_admin_token_made_through_the_api(client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/tokens", json={"name": "second admin", "role": "admin"}, headers=admin
    )
    assert response.status_code == 201, response.text
    bearer = {"Authorization": f"Bearer {response.json()['token']}"}
    assert client.get("/api/tokens", headers=bearer).status_code == 200
    assert client.post("/api/events", json=event_payload(), headers=bearer).status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"role": "editor"}, {"name": "x", "role": "owner"}, {"name": "x", "secret": "mine"}],
    ids=["no-name", "unknown-role", "unknown-field"],
)
def test_invalid_token_request(client, admin, body) -> None:  # type: ignore[no-untyped-def]
    before = client.get("/api/tokens", headers=admin).json()
    assert_problem(client.post("/api/tokens", json=body, headers=admin), 422, "validation")
    assert client.get("/api/tokens", headers=admin).json() == before


# --- CORS: public reads only -------------------------------------------------------------------


def preflight_accepted(response: Any, method: str) -> bool:
    """Whether a browser would go on with the real request after this preflight."""
    allowed = [
        m.strip() for m in response.headers.get("access-control-allow-methods", "").split(",")
    ]
    return (
        200 <= response.status_code < 300
        and response.headers.get("access-control-allow-origin") in ("*", ORIGIN)
        and (method in allowed or "*" in allowed)
    )


def test_cors_reads(client, editor) -> None:  # type: ignore[no-untyped-def]
    event = create(client, editor)
    for path in ("/api/events", f"/api/events/{event['id']}", "/api/occurrences"):
        response = client.get(path, headers={"Origin": ORIGIN})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    response = client.options(
        "/api/events", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight_accepted(response, "GET")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/events"),
        ("PATCH", "/api/events/1"),
        ("DELETE", "/api/events/1"),
        ("POST", "/api/tokens"),
    ],
)
def test_cors_preflight_for_writes_is_refused(client, editor, method, path) -> None:  # type: ignore[no-untyped-def]
    create(client, editor)
    for request_headers in (None, "authorization, content-type"):
        headers = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
        if request_headers:
            headers["Access-Control-Request-Headers"] = request_headers
        response = client.options(path, headers=headers)
        assert not preflight_accepted(response, method), response.headers


def test_cors_writes_get_no_cors_headers(client, editor) -> None:  # type: ignore[no-untyped-def]
    headers = {**editor, "Origin": ORIGIN}
    response = client.post("/api/events", json=event_payload(), headers=headers)
    assert response.status_code == 201, response.text
    assert "access-control-allow-origin" not in response.headers
    url = f"/api/events/{response.json()['id']}"
    response = client.patch(url, json={"price": "Gratuit"}, headers=headers)
    assert response.status_code == 200, response.text
    assert "access-control-allow-origin" not in response.headers
    response = client.delete(url, headers=headers)
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    refused = client.post("/api/events", json=event_payload(), headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert "access-control-allow-origin" not in refused.headers
