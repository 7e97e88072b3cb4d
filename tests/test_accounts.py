"""Accounts: argon2 hashes, password rules, and `calendar-service user`."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from calendar_service.cli import main
from calendar_service.db import accounts
from calendar_service.errors import Conflict, ValidationFailed
from calendar_service.settings import Settings
from tests.accounts import CHEAP, PASSWORD, make_user
from tests.conftest import run_on


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


def _user(database_url: str, *args: str, stdin: str = ""):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--database-url", database_url, "user", *args], input=stdin)


def _hash_of(settings: Settings, email: str) -> str:
    import sqlalchemy as sa

    from calendar_service.db.tables import users

    async def read(storage):  # type: ignore[no-untyped-def]
        return await storage.fetch_val(
            sa.select(users.c.password_hash).where(users.c.email == email)
        )

    return run_on(settings, read)  # type: ignore[no-any-return]


def test_cli_creates_an_account_from_standard_input(database_url: str) -> None:
    created = _user(
        database_url,
        "create",
        "--email",
        " Ada@Example.ORG ",
        "--role",
        "admin",
        stdin=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert "admin account" in created.output and "ada@example.org" in created.output
    listed = _user(database_url, "list")
    assert listed.exit_code == 0
    assert listed.output.split() == ["1", "admin", "active", "ada@example.org"]
    assert PASSWORD not in listed.output


def test_cli_refuses_a_duplicate_email(database_url: str) -> None:
    assert _user(database_url, "create", "--email", "a@example.org", stdin=PASSWORD).exit_code == 0
    again = _user(database_url, "create", "--email", "A@example.org", stdin=PASSWORD)
    assert again.exit_code == 1
    assert "already an account for a@example.org" in again.output


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("a@example.org", "short", "at least 12 characters"),
        ("a@example.org", "", "at least 12 characters"),
        ("not-an-address", PASSWORD, "is not an e-mail address"),
    ],
)
def test_cli_explains_what_is_wrong(
    database_url: str, email: str, password: str, message: str
) -> None:
    result = _user(database_url, "create", "--email", email, stdin=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert _user(database_url, "list").output == ""


def test_cli_refuses_an_unknown_role(database_url: str) -> None:
    result = _user(
        database_url, "create", "--email", "a@example.org", "--role", "root", stdin=PASSWORD
    )
    assert result.exit_code == 2
    assert "editor" in result.output and "admin" in result.output


def test_passwords_are_stored_as_argon2id_hashes(migrated: Settings) -> None:
    make_user(migrated)
    stored = _hash_of(migrated, "ada@example.org")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored

    async def check(storage, password):  # type: ignore[no-untyped-def]
        return await accounts.check_password(storage, email="ADA@example.org", password=password)

    assert run_on(migrated, lambda s: check(s, PASSWORD)) is not None
    assert run_on(migrated, lambda s: check(s, PASSWORD + "x")) is None
    assert run_on(migrated, lambda s: check(s, "")) is None


def test_a_hash_with_old_parameters_is_made_again_at_sign_in(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(migrated)
    old = _hash_of(migrated, "ada@example.org")
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(accounts, "hasher", stronger)
    found = run_on(
        migrated, lambda s: accounts.check_password(s, email="ada@example.org", password=PASSWORD)
    )
    assert found is not None
    new = _hash_of(migrated, "ada@example.org")
    assert new != old and not stronger.check_needs_rehash(new)


def test_create_user_refuses_bad_input(migrated: Settings) -> None:
    make_user(migrated)
    with pytest.raises(Conflict):
        make_user(migrated, "ADA@example.org")
    with pytest.raises(ValidationFailed, match="12 characters"):
        make_user(migrated, "bob@example.org", password="x" * 11)
    with pytest.raises(ValidationFailed):
        make_user(migrated, "bob at example.org")
