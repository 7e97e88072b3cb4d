"""Shared by the account tests: cheap argon2 parameters, creating users, signing in."""

from __future__ import annotations

import re
from typing import Any

from argon2 import PasswordHasher

from calendar_service.db import accounts
from calendar_service.settings import Settings
from tests.conftest import run_on

PASSWORD = "une phrase assez longue"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def make_user(
    settings: Settings,
    email: str = "ada@example.org",
    *,
    role: str = "editor",
    password: str = PASSWORD,
) -> accounts.User:
    return run_on(  # type: ignore[no-any-return]
        settings,
        lambda s: accounts.create_user(s, email=email, password=password, role=role),  # type: ignore[arg-type]
    )


def csrf_of(response: Any) -> str:
    found = CSRF.search(response.text)
    assert found, response.text[:500]
    return found.group(1)


def sign_in(
    client: Any, email: str = "ada@example.org", password: str = PASSWORD, **extra: str
) -> Any:
    """Open the sign-in page, then send its form."""
    token = csrf_of(client.get("/editor/login"))
    return client.post(
        "/editor/login",
        data={"csrf_token": token, "email": email, "password": password, **extra},
        follow_redirects=False,
    )
