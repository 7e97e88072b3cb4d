"""Signing in to the editor pages: cookies, failures slowed and limited, safe redirects,
sign-out, password change, and the matrix of anonymous users and forged forms."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db import accounts, proposals, tables
from calendar_service.db.tables import users
from calendar_service.db.tokens import create_token, list_tokens
from calendar_service.settings import Settings
from calendar_service.web.editor import signin as editor_auth
from tests.accounts import CHEAP, PASSWORD, csrf_of, make_user, sign_in
from tests.conftest import make_settings, run_on
from tests.factories import event_payload
from tests.htmltree import parse

NEW_PASSWORD = "un autre mot de passe bien long"
HTML = {"accept": "text/html"}


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Cheap hashes, and the slowing-down recorded instead of waited for."""
    monkeypatch.setattr(accounts, "hasher", CHEAP)
    waits: list[int] = []

    async def record(failures: int) -> None:
        waits.append(failures)

    monkeypatch.setattr(editor_auth, "slow_down", record)
    return waits


@pytest.fixture
def ada(migrated: Settings) -> accounts.User:
    return make_user(migrated)


def session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if "calendar_session=" in c]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def sessions_of(settings: Settings, user: accounts.User) -> int:
    return run_on(settings, lambda s: accounts.count_sessions(s, user_id=user.id))  # type: ignore[no-any-return]


def editor_csrf(client: Any) -> str:
    page = client.get("/editor")
    assert page.status_code == 200, page.text
    return csrf_of(page)


def test_sign_in_sets_a_safe_session_cookie(client, ada) -> None:  # type: ignore[no-untyped-def]
    response = sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/editor"
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "Max-Age=1209600" in cookie
    assert "Secure" not in cookie
    page = client.get("/editor")
    assert page.status_code == 200
    assert "Bonjour, ada@example.org" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_cookie_is_secure_over_https(migrated: Settings, ada) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(migrated.database_url, base_url="https://calendar.example.org")
    with TestClient(create_app(settings), base_url="https://calendar.example.org") as client:
        login = client.get("/editor/login")
        assert "Secure" in login.headers["set-cookie"]
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        response = sign_in(client)
        assert response.status_code == 303
        assert "Secure" in session_cookie(response)
        assert client.get("/editor").status_code == 200


def test_sign_in_page_speaks_both_languages(client) -> None:  # type: ignore[no-untyped-def]
    french = parse(client.get("/editor/login").text)
    assert french.all("h1")[0].text() == "Connexion"
    english = client.get("/editor/login?lang=en")
    tree = parse(english.text)
    assert tree.all("h1")[0].text() == "Sign in"
    labels = {label.attrs["for"]: label.text() for label in tree.all("label")}
    assert labels == {"email": "E-mail address", "password": "Password"}
    assert tree.all("form")[0].attrs["action"] == "/editor/login?lang=en"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, ada, waits) -> None:  # type: ignore[no-untyped-def]
    wrong = sign_in(client, password="pas le bon mot de passe")
    unknown = sign_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 400
    message = parse(wrong.text).by_class("warning")[0].text()
    assert message == "Adresse e-mail ou mot de passe incorrect."
    assert parse(unknown.text).by_class("warning")[0].text() == message
    assert "calendar_session=" not in wrong.headers.get("set-cookie", "")
    assert parse(wrong.text).by_id("email").attrs["value"] == "ada@example.org"
    assert "pas le bon mot de passe" not in wrong.text
    assert waits == [1, 1]


def test_empty_fields_are_named(client) -> None:  # type: ignore[no-untyped-def]
    response = sign_in(client, email="", password="")
    assert response.status_code == 400
    tree = parse(response.text)
    assert tree.by_id("email").attrs["aria-invalid"] == "true"
    assert tree.by_id("email-error").text() == "Indiquez votre adresse e-mail."
    assert tree.by_id("password-error").text() == "Indiquez votre mot de passe."


def test_a_disabled_account_cannot_sign_in(client, migrated, ada) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client).status_code == 303
    run_on(migrated, lambda s: accounts.set_disabled(s, user_id=ada.id, disabled=True))
    assert client.get("/editor").status_code == 401
    refused = sign_in(client)
    assert refused.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in refused.text


def test_failures_are_slowed_then_limited_per_account(client, ada, waits) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        assert sign_in(client, password="mauvais mot de passe").status_code == 400
    assert waits == [1, 2, 3, 4, 5]
    limited = sign_in(client)  # the right password, now refused
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 900
    assert "Trop de tentatives" in limited.text
    assert "calendar_session=" not in limited.headers.get("set-cookie", "")
    assert client.get("/editor").status_code == 401
    # Another account from another address is not concerned.
    make_user(client.app.state.settings, "bob@example.org")
    assert sign_in(client, "bob@example.org").status_code == 303


def test_failures_are_limited_per_address(client, migrated, ada) -> None:  # type: ignore[no-untyped-def]
    for n in range(20):
        assert sign_in(client, f"guess{n}@example.org", "mauvais mot de passe").status_code == 400
    limited = sign_in(client)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert sessions_of(migrated, ada) == 0


def test_a_successful_sign_in_forgets_the_account_failures(client, ada) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        sign_in(client, password="mauvais mot de passe")
    assert sign_in(client).status_code == 303
    for _ in range(4):
        assert sign_in(client, password="mauvais mot de passe").status_code == 400
    assert sign_in(client).status_code == 303


@pytest.mark.parametrize(
    ("asked", "went"),
    [
        ("/editor/password", "/editor/password"),
        ("//evil.example", "/editor"),
        ("https://evil.example/editor", "/editor"),
        ("/\\evil.example", "/editor"),
        ("evil.example", "/editor"),
    ],
)
def test_next_stays_on_this_site(client, ada, asked, went) -> None:  # type: ignore[no-untyped-def]
    form = parse(client.get("/editor/login", params={"next": asked}).text)
    hidden = [i for i in form.all("input") if i.attrs.get("name") == "next"]
    assert hidden[0].attrs["value"] == went
    response = sign_in(client, next=asked)
    assert response.status_code == 303
    assert response.headers["location"] == went


def test_anonymous_browsers_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/editor", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/login?next=%2Feditor"


def test_sign_out_ends_the_session(client, migrated, ada) -> None:  # type: ignore[no-untyped-def]
    sign_in(client)
    token = client.cookies.get("calendar_session")
    response = client.post(
        "/editor/logout", data={"csrf_token": editor_csrf(client)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/editor/login"
    assert 'calendar_session=""' in response.headers["set-cookie"]
    assert sessions_of(migrated, ada) == 0
    client.cookies.set("calendar_session", token)
    assert client.get("/editor").status_code == 401


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"current_password": "pas le bon", "new_password": NEW_PASSWORD},
            "current_password",
            "Ce n'est pas votre mot de passe actuel.",
        ),
        (
            {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "!"},
            "new_password_again",
            "Les deux saisies du nouveau mot de passe diffèrent.",
        ),
        (
            {"new_password": "court", "new_password_again": "court"},
            "new_password",
            "Le mot de passe doit avoir au moins 12 caractères.",
        ),
    ],
)
def test_password_change_names_the_wrong_field(client, ada, fields, field, message) -> None:  # type: ignore[no-untyped-def]
    sign_in(client)
    data = {
        "csrf_token": editor_csrf(client),
        "current_password": PASSWORD,
        "new_password_again": NEW_PASSWORD,
        **fields,
    }
    response = client.post("/editor/password", data=data)
    assert response.status_code == 400
    tree = parse(response.text)
    assert tree.by_id(field).attrs["aria-invalid"] == "true"
    assert tree.by_id(f"{field}-error").text() == message
    assert NEW_PASSWORD not in response.text and PASSWORD not in response.text
    client.cookies.clear()
    assert sign_in(client).status_code == 303


def test_password_change_ends_the_other_sessions(client, migrated, ada) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client).status_code == 303
    elsewhere = client.cookies.get("calendar_session")
    client.cookies.clear()
    sign_in(client)
    here = client.cookies.get("calendar_session")
    assert sessions_of(migrated, ada) == 2
    response = client.post(
        "/editor/password",
        data={
            "csrf_token": editor_csrf(client),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Mot de passe changé" in response.text
    assert client.get("/editor").status_code == 200
    assert sessions_of(migrated, ada) == 1
    client.cookies.clear()
    client.cookies.set("calendar_session", elsewhere)
    assert client.get("/editor").status_code == 401
    client.cookies.set("calendar_session", here)
    assert client.get("/editor").status_code == 200
    client.cookies.clear()
    assert sign_in(client).status_code == 400
    assert sign_in(client, password=NEW_PASSWORD).status_code == 303


# The matrix: every editor route against anonymous users and forged forms.
GETS = [
    "/editor/events",
    "/editor/events/new",
    "/editor/events/{event_id}",
    "/editor/events/{event_id}/preview",
    "/editor/events/{event_id}/preview/widget",
    "/editor/events/{event_id}/preview/block",
    "/editor/events/{event_id}/flyer.{fmt}",
    "/editor/events/{event_id}/{action}",
    "/editor",
    "/editor/password",
    "/editor/proposals",
    "/editor/users",
    "/editor/users/{user_id:int}/disable",
    "/editor/tokens",
    "/editor/tokens/{token_id:int}/revoke",
]
SIGNED_IN_POSTS = {
    "/editor/events": {
        "title.fr": "Créé par un faussaire",
        "start.date": "2027-01-07",
        "start.time": "18:30",
        "state": "published",
    },
    "/editor/events/{event_id}": {
        "title.fr": "Changé par un faussaire",
        "start.date": "2027-01-07",
        "start.time": "18:30",
    },
    "/editor/events/{event_id}/{action}": {},
    "/editor/logout": {},
    "/editor/password": {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    },
    "/editor/proposals/{event_id:int}/accept": {},
    "/editor/proposals/{event_id:int}/refuse": {"reply": "Non merci"},
    "/editor/users": {
        "email": "eve@example.org",
        "role": "admin",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    },
    "/editor/users/{user_id:int}/disable": {},
    "/editor/users/{user_id:int}/enable": {},
    "/editor/tokens": {"name": "Eve's token", "role": "admin"},
    "/editor/tokens/{token_id:int}/revoke": {},
}
# Pages for administrators only: the forged forms are sent by ada made an admin.
ADMIN_ONLY = ("/editor/users", "/editor/tokens")
FORGERIES: dict[str, tuple[dict[str, str], bool]] = {
    "missing": ({}, False),
    "wrong": ({}, True),
    "other-session": ({}, True),
    "cross-site-origin": ({"origin": "https://evil.example"}, False),
    "cross-site-fetch": ({"sec-fetch-site": "cross-site"}, False),
}


def _proposal_id(client: Any) -> str:
    """The event id of a proposal waiting for an editor, sent for the test."""
    assert client.post("/api/proposals", json=event_payload()).status_code == 202
    waiting = run_on(client.app.state.settings, proposals.pending_proposals)
    return str(waiting[-1].event.id)


def _draft_id(client: Any) -> str:
    """The id of a draft event, written through the API for the test."""
    settings = client.app.state.settings
    _, secret = run_on(settings, lambda s: create_token(s, name="matrix", role="editor"))
    response = client.post(
        "/api/events",
        json={**event_payload(), "state": "draft"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _user_id(client: Any) -> str:
    """The id of ada's account (made for the test when there is none)."""
    settings = client.app.state.settings
    found = run_on(settings, lambda s: accounts.find_user(s, email="ada@example.org"))
    return str((found or make_user(settings)).id)


def _token_id(client: Any) -> str:
    """The id of the live editor token of the ``tokens`` fixture."""
    found = run_on(client.app.state.settings, list_tokens)
    return str(next(t.id for t in found if t.name == "editor" and t.revoked_us is None))


def promote(settings: Settings, user: accounts.User) -> None:
    """Make ``user`` an administrator."""
    change = users.update().where(users.c.id == user.id).values(role="admin")
    run_on(settings, lambda s: s.execute(change))


# Routes with path parameters, and how a test makes a concrete URL for each.
CONCRETE: dict[str, Callable[[Any], str]] = {
    "/editor/users/{user_id:int}/disable": lambda c: f"/editor/users/{_user_id(c)}/disable",
    "/editor/users/{user_id:int}/enable": lambda c: f"/editor/users/{_user_id(c)}/enable",
    "/editor/tokens/{token_id:int}/revoke": lambda c: f"/editor/tokens/{_token_id(c)}/revoke",
    "/editor/events/{event_id}": lambda c: f"/editor/events/{_draft_id(c)}",
    "/editor/events/{event_id}/preview": lambda c: f"/editor/events/{_draft_id(c)}/preview",
    "/editor/events/{event_id}/preview/widget": (
        lambda c: f"/editor/events/{_draft_id(c)}/preview/widget"
    ),
    "/editor/events/{event_id}/preview/block": (
        lambda c: f"/editor/events/{_draft_id(c)}/preview/block"
    ),
    "/editor/events/{event_id}/flyer.{fmt}": lambda c: f"/editor/events/{_draft_id(c)}/flyer.pdf",
    "/editor/events/{event_id}/{action}": lambda c: f"/editor/events/{_draft_id(c)}/publish",
    "/editor/proposals/{event_id:int}/accept": (
        lambda c: f"/editor/proposals/{_proposal_id(c)}/accept"
    ),
    "/editor/proposals/{event_id:int}/refuse": (
        lambda c: f"/editor/proposals/{_proposal_id(c)}/refuse"
    ),
}


def concrete(client: Any, path: str) -> str:
    """A URL for the matrix's ``path``: itself, or one naming a real object."""
    return CONCRETE[path](client) if path in CONCRETE else path


def test_every_editor_route_is_in_the_matrix(client) -> None:  # type: ignore[no-untyped-def]
    declared = {
        (method, route.path)
        for route in client.app.routes
        if getattr(route, "path", "").startswith("/editor")
        for method in route.methods - {"HEAD"}
    }
    tested = {("GET", p) for p in GETS} | {("POST", p) for p in SIGNED_IN_POSTS}
    assert declared == tested | {("GET", "/editor/login"), ("POST", "/editor/login")}


@pytest.mark.parametrize("path", GETS)
def test_anonymous_users_get_no_editor_page(client, path) -> None:  # type: ignore[no-untyped-def]
    url = concrete(client, path)
    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    client.cookies.set("calendar_session", "made-up")
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("path", list(SIGNED_IN_POSTS))
def test_anonymous_users_cannot_post(client, migrated, ada, path) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/editor/login"))
    url = concrete(client, path)
    response = client.post(url, data={"csrf_token": token, **SIGNED_IN_POSTS[path]})
    assert response.status_code == 401
    client.cookies.clear()
    assert sign_in(client).status_code == 303  # the password did not change


def written(settings: Settings) -> tuple[Any, ...]:
    """A fingerprint of what the editor forms write: events and their versions, history,
    accounts, tokens and proposals' decisions."""

    async def read(storage: Any) -> tuple[Any, ...]:
        queries = [
            sa.select(sa.func.count(), sa.func.sum(tables.events.c.version)),
            sa.select(sa.func.count()).select_from(tables.event_history),
            sa.select(sa.func.count(), sa.func.count(tables.users.c.disabled_us)),
            sa.select(sa.func.count(), sa.func.count(tables.tokens.c.revoked_us)),
            sa.select(sa.func.count(tables.proposals.c.decision)),
        ]
        return tuple([tuple(await storage.fetch_one(q)) for q in queries])

    return run_on(settings, read)  # type: ignore[no-any-return]


def _forged(client: Any, kind: str, token: str) -> tuple[dict[str, str], dict[str, str]]:
    headers, sends_token = FORGERIES[kind]
    if kind == "wrong":
        token = "0" * len(token)
    elif kind == "other-session":
        token = token[::-1]
    return ({"csrf_token": token} if sends_token or headers else {}), headers


@pytest.mark.parametrize("kind", list(FORGERIES))
@pytest.mark.parametrize("path", list(SIGNED_IN_POSTS))
def test_forged_editor_forms_are_refused(client, migrated, ada, path, kind) -> None:  # type: ignore[no-untyped-def]
    if path.startswith(ADMIN_ONLY):
        promote(migrated, ada)
    sign_in(client)
    token = editor_csrf(client)
    token_field, headers = _forged(client, kind, token)
    url = concrete(client, path)
    before = written(migrated)
    response = client.post(
        url,
        data={**token_field, **SIGNED_IN_POSTS[path]},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "reload the page" in response.text or "another site" in response.text
    assert written(migrated) == before  # nothing was written
    assert client.get("/editor").status_code == 200  # still signed in
    assert sessions_of(migrated, ada) == 1
    client.cookies.clear()
    assert sign_in(client).status_code == 303  # the password did not change


@pytest.mark.parametrize("kind", [*FORGERIES, "no-cookie"])
def test_forged_sign_in_forms_are_refused(client, migrated, ada, kind) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/editor/login"))
    if kind == "no-cookie":
        client.cookies.clear()
        token_field, headers = {"csrf_token": token}, {}
    else:
        token_field, headers = _forged(client, kind, token)
    response = client.post(
        "/editor/login",
        data={**token_field, "email": "ada@example.org", "password": PASSWORD},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "calendar_session=" not in response.headers.get("set-cookie", "")
    assert sessions_of(migrated, ada) == 0


@pytest.fixture
def https_client(migrated: Settings) -> Iterator[TestClient]:
    settings = make_settings(migrated.database_url, base_url="https://calendar.example.org")
    with TestClient(create_app(settings), base_url="https://calendar.example.org") as client:
        yield client


def test_same_origin_forms_are_accepted(https_client, migrated) -> None:  # type: ignore[no-untyped-def]
    make_user(migrated)
    token = csrf_of(https_client.get("/editor/login"))
    response = https_client.post(
        "/editor/login",
        data={"csrf_token": token, "email": "ada@example.org", "password": PASSWORD},
        headers={"origin": "https://calendar.example.org", "sec-fetch-site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_guessing_the_current_password_is_slowed_then_limited(client, migrated, ada, waits) -> None:  # type: ignore[no-untyped-def]
    sign_in(client)
    data = {"current_password": "not the password at all", "new_password": NEW_PASSWORD}
    data["new_password_again"] = NEW_PASSWORD
    for _ in range(editor_auth.ACCOUNT_LIMIT):
        response = client.post("/editor/password", data={"csrf_token": editor_csrf(client), **data})
        assert response.status_code == 400
    assert waits == list(range(1, editor_auth.ACCOUNT_LIMIT + 1))
    # Now even the right password is refused for a while, and the password did not change.
    data["current_password"] = PASSWORD
    response = client.post("/editor/password", data={"csrf_token": editor_csrf(client), **data})
    assert response.status_code == 429
    assert "Réessayez dans 15 min" in parse(response.text).by_id("current_password-error").text()
    unchanged = run_on(
        migrated,
        lambda s: accounts.check_password(s, email="ada@example.org", password=PASSWORD),
    )
    assert unchanged is not None
