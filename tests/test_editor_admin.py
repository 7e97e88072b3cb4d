"""The administrators' pages: accounts (create, disable with a confirmation, enable) and API
tokens (created and shown once, revoked with a confirmation); editors are refused."""

from __future__ import annotations

from typing import Any

import pytest

from calendar_service.db import accounts
from calendar_service.db import tokens as token_store
from calendar_service.settings import Settings
from tests.accounts import CHEAP, PASSWORD, csrf_of, make_user, sign_in
from tests.conftest import run_on
from tests.factories import event_payload
from tests.htmltree import parse

ROOT = "root@example.org"
NEW_PASSWORD = "le mot de passe du nouveau compte"
HOSTILE = "<script>alert(1)</script> *|MC|* \"quoted\" 'single'"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


@pytest.fixture
def root(migrated: Settings) -> accounts.User:
    return make_user(migrated, ROOT, role="admin")


@pytest.fixture
def ada(migrated: Settings) -> accounts.User:
    return make_user(migrated)


@pytest.fixture
def as_root(client: Any, root: accounts.User) -> Any:
    assert sign_in(client, ROOT).status_code == 303
    return client


def page_csrf(client: Any, path: str = "/editor/users") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page)


def post(client: Any, path: str, **fields: str) -> Any:
    """Send a form of the admin pages, with the session's CSRF token."""
    data = {"csrf_token": page_csrf(client, "/editor"), **fields}
    return client.post(path, data=data, follow_redirects=False)


def new_user(client: Any, **fields: str) -> Any:
    values = {
        "email": "bob@example.org",
        "role": "editor",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **fields,
    }
    return post(client, "/editor/users", **values)


def sessions_of(settings: Settings, user_id: int) -> int:
    return run_on(settings, lambda s: accounts.count_sessions(s, user_id=user_id))  # type: ignore[no-any-return]


def token_id(settings: Settings, name: str) -> int:
    found = run_on(settings, token_store.list_tokens)
    return next(t.id for t in found if t.name == name)  # type: ignore[no-any-return]


def test_editors_get_403_on_every_admin_page(client, migrated, ada, root) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client).status_code == 303
    token = token_id(migrated, "editor")
    for path in ("/editor/users", "/editor/tokens", f"/editor/users/{root.id}/disable"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/editor/tokens/{token}/revoke").status_code == 403
    forms = {
        "/editor/users": {
            "email": "eve@example.org",
            "role": "admin",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        f"/editor/users/{root.id}/disable": {},
        f"/editor/users/{root.id}/enable": {},
        "/editor/tokens": {"name": "Eve's token", "role": "admin"},
        f"/editor/tokens/{token}/revoke": {},
    }
    for path, fields in forms.items():
        assert post(client, path, **fields).status_code == 403, path
    assert [u.email for u in run_on(migrated, accounts.list_users)] == ["ada@example.org", ROOT]
    assert sessions_of(migrated, root.id) == 0
    assert all(t.revoked_us is None for t in run_on(migrated, token_store.list_tokens)[:2])
    assert len(run_on(migrated, token_store.list_tokens)) == 3


def test_the_accounts_page_lists_and_speaks_both_languages(as_root, ada) -> None:  # type: ignore[no-untyped-def]
    page = as_root.get("/editor/users")
    assert page.headers["cache-control"] == "no-store"
    tree = parse(page.text)
    assert [h.text() for h in tree.all("h1")] == ["Comptes"]
    assert [h.text() for h in tree.all("h2")] == ["Créer un compte"]
    assert tree.all("caption")[0].text() == "Comptes existants"
    assert all(th.attrs.get("scope") in ("col", "row") for th in tree.all("th"))
    rows = {th.text() for th in tree.all("th") if th.attrs.get("scope") == "row"}
    assert rows == {"ada@example.org", f"{ROOT} (vous)"}
    assert "Désactiver" in page.text and "Actif" in page.text
    labels = {label.attrs["for"] for label in tree.all("label")}
    assert {"email", "role-editor", "role-admin", "password", "password_again"} <= labels
    assert tree.all("legend")[0].text() == "Rôle"
    english = parse(as_root.get("/editor/users?lang=en").text)
    assert english.all("h1")[0].text() == "Accounts"
    forms = [f.attrs["action"] for f in english.all("form")]
    assert "/editor/users?lang=en" in forms


def test_an_admin_creates_an_account_that_can_sign_in(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    response = new_user(as_root, email="  Bob@Example.org ")
    assert response.status_code == 303
    created = run_on(migrated, lambda s: accounts.find_user(s, email="bob@example.org"))
    assert created.role == "editor"
    assert response.headers["location"] == f"/editor/users?created={created.id}"
    listed = as_root.get(response.headers["location"])
    assert parse(listed.text).by_class("notice")[0].text() == "Compte créé pour bob@example.org."
    as_root.cookies.clear()
    assert sign_in(as_root, "bob@example.org", NEW_PASSWORD).status_code == 303
    assert as_root.get("/editor").status_code == 200
    assert as_root.get("/editor/users").status_code == 403


def test_a_new_admin_account_keeps_the_language(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": page_csrf(as_root),
        "email": "claire@example.org",
        "role": "admin",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    response = as_root.post("/editor/users?lang=en", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("&lang=en")
    page = as_root.get(response.headers["location"])
    assert "Account created for claire@example.org." in page.text
    made = run_on(migrated, lambda s: accounts.find_user(s, email="claire@example.org"))
    assert made.role == "admin"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "ada@example.org"}, "email", "Il existe déjà un compte pour cette adresse."),
        ({"email": "pas une adresse"}, "email", "Ce n'est pas une adresse e-mail valide."),
        ({"email": ""}, "email", "Indiquez une adresse e-mail."),
        ({"role": "superuser"}, "role", "Choisissez un rôle."),
        (
            {"password": "court", "password_again": "court"},
            "password",
            "Le mot de passe doit avoir au moins 12 caractères.",
        ),
        (
            {"password_again": NEW_PASSWORD + "!"},
            "password_again",
            "Les deux saisies du mot de passe diffèrent.",
        ),
    ],
)
def test_account_errors_are_shown_by_their_field(
    as_root, migrated, ada, fields, field, message
) -> None:  # type: ignore[no-untyped-def]
    response = new_user(as_root, **fields)
    assert response.status_code == 400
    tree = parse(response.text)
    assert tree.by_id(f"{field}-error").text() == message
    if field != "role":
        assert tree.by_id(field).attrs["aria-invalid"] == "true"
        assert f"{field}-error" in tree.by_id(field).attrs["aria-describedby"]
    assert tree.by_id("email").attrs.get("value", "") == fields.get("email", "bob@example.org")
    assert NEW_PASSWORD not in response.text
    assert all(
        i.attrs.get("value") is None for i in tree.all("input") if i.attrs.get("type") == "password"
    )
    emails = [u.email for u in run_on(migrated, accounts.list_users)]
    assert emails == ["ada@example.org", ROOT]


def test_disabling_asks_first_then_ends_the_sessions(client, migrated, root, ada) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client).status_code == 303
    ada_cookie = client.cookies.get("calendar_session")
    client.cookies.clear()
    assert sign_in(client, ROOT).status_code == 303
    confirm = client.get(f"/editor/users/{ada.id}/disable")
    assert confirm.status_code == 200
    tree = parse(confirm.text)
    assert tree.all("h1")[0].text() == "Désactiver le compte ada@example.org\u00a0?"
    assert tree.all("form")[-1].attrs["action"] == f"/editor/users/{ada.id}/disable"
    assert sessions_of(migrated, ada.id) == 1  # asking changed nothing
    response = client.post(
        f"/editor/users/{ada.id}/disable",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/editor/users?disabled={ada.id}"
    listed = client.get(response.headers["location"])
    assert "Compte de ada@example.org désactivé" in listed.text
    assert "Réactiver" in listed.text
    assert sessions_of(migrated, ada.id) == 0
    root_cookie = client.cookies.get("calendar_session")
    client.cookies.clear()
    client.cookies.set("calendar_session", ada_cookie)
    assert client.get("/editor").status_code == 401
    client.cookies.clear()
    assert sign_in(client).status_code == 400
    client.cookies.set("calendar_session", root_cookie)
    enabled = post(client, f"/editor/users/{ada.id}/enable")
    assert enabled.status_code == 303
    assert "Compte de ada@example.org réactivé." in client.get(enabled.headers["location"]).text
    client.cookies.clear()
    assert sign_in(client).status_code == 303


def test_an_admin_cannot_disable_themself(as_root, migrated, root) -> None:  # type: ignore[no-untyped-def]
    message = "Vous ne pouvez pas désactiver votre propre compte"
    asked = as_root.get(f"/editor/users/{root.id}/disable")
    assert asked.status_code == 400
    assert message in parse(asked.text).by_class("warning")[0].text()
    response = post(as_root, f"/editor/users/{root.id}/disable")
    assert response.status_code == 400
    assert message in parse(response.text).by_class("warning")[0].text()
    assert sessions_of(migrated, root.id) == 1
    assert as_root.get("/editor/users").status_code == 200
    assert f'action="/editor/users/{root.id}/disable' not in as_root.get("/editor/users").text


def test_unknown_accounts_and_tokens_are_404(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    assert as_root.get("/editor/users/999999/disable").status_code == 404
    assert post(as_root, "/editor/users/999999/disable").status_code == 404
    assert post(as_root, "/editor/users/999999/enable").status_code == 404
    assert as_root.get("/editor/tokens/999999/revoke").status_code == 404
    revoked = token_id(migrated, "old")
    assert post(as_root, f"/editor/tokens/{revoked}/revoke").status_code == 404
    assert as_root.get("/editor/users/abc/disable").status_code == 404


def test_a_token_is_shown_once_and_works_until_revoked(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    response = post(as_root, "/editor/tokens", name="  Site de la mairie ", role="editor")
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert "location" not in response.headers
    tree = parse(response.text)
    secret = tree.by_id("secret").attrs["value"]
    assert secret.startswith("cal_")
    assert "il ne sera plus jamais affiché" in tree.by_id("secret-help").text()
    assert tree.by_id("secret").attrs["aria-describedby"] == "secret-help"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert as_root.post("/api/events", json=event_payload(), headers=bearer).status_code == 201
    listed = as_root.get("/editor/tokens")
    assert secret not in listed.text
    rows = {th.text() for th in parse(listed.text).all("th") if th.attrs.get("scope") == "row"}
    assert "Site de la mairie" in rows
    made = token_id(migrated, "Site de la mairie")
    assert secret[:10] in listed.text  # the prefix, to recognise it
    confirm = as_root.get(f"/editor/tokens/{made}/revoke")
    assert parse(confirm.text).all("h1")[0].text() == "Révoquer le jeton Site de la mairie\u00a0?"
    assert as_root.post("/api/events", json=event_payload(), headers=bearer).status_code == 201
    revoked = as_root.post(
        f"/editor/tokens/{made}/revoke",
        data={"csrf_token": csrf_of(confirm)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/editor/tokens?revoked={made}"
    notice = parse(as_root.get(revoked.headers["location"]).text).by_class("notice")[0].text()
    assert notice == "Jeton «\u00a0Site de la mairie\u00a0» révoqué."
    refused = as_root.post("/api/events", json=event_payload(), headers=bearer)
    assert refused.status_code == 401


def test_token_form_errors_are_shown_by_their_field(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    empty = post(as_root, "/editor/tokens", name="   ", role="editor")
    assert empty.status_code == 400
    assert parse(empty.text).by_id("name-error").text() == "Indiquez un nom."
    assert parse(empty.text).by_id("name").attrs["aria-invalid"] == "true"
    long = post(as_root, "/editor/tokens", name="x" * 101, role="nobody")
    assert long.status_code == 400
    tree = parse(long.text)
    assert tree.by_id("name-error").text() == "Le nom doit faire au plus 100 caractères."
    assert tree.by_id("name").attrs["value"] == "x" * 101
    assert tree.by_id("role-error").text() == "Choisissez un rôle."
    assert len(run_on(migrated, token_store.list_tokens)) == 3


def test_hostile_token_names_are_inert(as_root, migrated) -> None:  # type: ignore[no-untyped-def]
    response = post(as_root, "/editor/tokens", name=HOSTILE, role="admin")
    assert response.status_code == 201
    for page in (response, as_root.get("/editor/tokens")):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "&#34;quoted&#34;" in page.text or "&quot;quoted&quot;" in page.text
        rows = [th.text() for th in parse(page.text).all("th") if th.attrs.get("scope") == "row"]
        assert HOSTILE in rows
    made = token_id(migrated, HOSTILE)
    confirm = as_root.get(f"/editor/tokens/{made}/revoke")
    assert "<script>alert(1)</script>" not in confirm.text
    assert parse(confirm.text).all("h1")[0].text() == f"Révoquer le jeton {HOSTILE}\u00a0?"
    assert PASSWORD not in confirm.text
