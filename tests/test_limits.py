"""Limits counted in the database hold under concurrent bursts, on both databases, across two
apps (two processes' worth of state) sharing one database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.db import accounts
from calendar_service.db.proposals import count_proposals
from calendar_service.settings import Settings
from calendar_service.web.editor import signin as editor_auth
from tests.accounts import CHEAP, PASSWORD, csrf_of, make_user
from tests.conftest import make_settings, run_on
from tests.factories import event_payload

BURST = 30


@pytest.fixture(autouse=True)
def cheap_and_slow_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Cheap hashes, no waiting after failures, and every password check recorded and made
    slow: the window in which concurrent attempts could all pass a check-then-count limit."""
    monkeypatch.setattr(accounts, "hasher", CHEAP)

    async def no_wait(failures: int) -> None:
        return None

    monkeypatch.setattr(editor_auth, "slow_down", no_wait)
    checked: list[str] = []
    original = accounts.check_password

    async def recorded(storage: Any, *, email: str, password: str) -> Any:
        checked.append(password)
        await asyncio.sleep(0.05)
        return await original(storage, email=email, password=password)

    monkeypatch.setattr(accounts, "check_password", recorded)
    return checked


def _attempt(client: TestClient, token: str, email: str, password: str) -> int:
    response = client.post(
        "/editor/login",
        data={"csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )
    return response.status_code


def _burst_of_sign_ins(settings: Settings, guess: Callable[[int], tuple[str, str]]) -> list[int]:
    """``BURST`` sign-ins at once, shared between two apps on one database; their statuses."""
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        clients = [
            (one, csrf_of(one.get("/editor/login"))),
            (two, csrf_of(two.get("/editor/login"))),
        ]

        def attempt(i: int) -> int:
            client, token = clients[i % 2]
            return _attempt(client, token, *guess(i))

        with ThreadPoolExecutor(BURST) as pool:
            return list(pool.map(attempt, range(BURST)))


def test_a_burst_of_sign_ins_checks_no_more_passwords_than_the_limit(
    migrated: Settings, tokens: dict[str, str], cheap_and_slow_checks: list[str]
) -> None:
    make_user(migrated)

    def guess(i: int) -> tuple[str, str]:
        # The right password comes last: a limit that counts after checking lets it in.
        return "ada@example.org", PASSWORD if i == BURST - 1 else f"mauvais mot de passe {i}"

    statuses = _burst_of_sign_ins(migrated, guess)
    assert len(cheap_and_slow_checks) == editor_auth.ACCOUNT_LIMIT
    assert statuses.count(429) == BURST - editor_auth.ACCOUNT_LIMIT
    assert sorted(set(statuses)) in ([400, 429], [303, 400, 429])
    if 303 in statuses:  # the right password was among the five checked
        assert PASSWORD in cheap_and_slow_checks


def test_the_address_limit_holds_across_accounts(
    migrated: Settings, tokens: dict[str, str], cheap_and_slow_checks: list[str]
) -> None:
    statuses = _burst_of_sign_ins(
        migrated, lambda i: (f"personne{i}@example.org", "un essai au hasard")
    )
    assert len(cheap_and_slow_checks) == editor_auth.ADDRESS_LIMIT
    assert statuses.count(429) == BURST - editor_auth.ADDRESS_LIMIT


def test_a_burst_of_proposals_stores_no_more_than_the_limit(
    migrated: Settings, tokens: dict[str, str]
) -> None:
    settings = make_settings(migrated.database_url, proposals_per_hour=5)
    payload = {**event_payload(), "proposer": {"name": "Jeanne"}}
    for name in ("url", "organizer", "partners"):
        payload.pop(name, None)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:

        def propose(i: int) -> int:
            client = (one, two)[i % 2]
            return client.post("/api/proposals", json=payload).status_code

        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(propose, range(20)))
    assert sorted(statuses) == [202] * 5 + [429] * 15
    kept, counted = run_on(settings, count_proposals)
    assert (kept, counted) == (5, 5)


def test_refused_proposals_in_a_burst_use_the_limit_up(
    migrated: Settings, tokens: dict[str, str]
) -> None:
    settings = make_settings(migrated.database_url, proposals_per_hour=5)
    with TestClient(create_app(settings)) as client:

        def propose(i: int) -> int:
            # An impossible rule: refused, and counted before it is checked.
            bad = {
                **event_payload(),
                "recurrence": {"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"},
            }
            return client.post("/api/proposals", json=bad).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(propose, range(12)))
        assert sorted(statuses) == [422] * 5 + [429] * 7
        assert client.post("/api/proposals", json=event_payload()).status_code == 429
