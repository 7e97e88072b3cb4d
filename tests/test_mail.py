"""E-mails about proposals, received by a real local SMTP server (aiosmtpd): who gets them,
what they say, no header injection, and a failing server never breaks a request."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

from calendar_service import mail
from calendar_service.app import create_app
from calendar_service.db import accounts
from calendar_service.db.events import StoredEvent
from calendar_service.settings import Settings
from tests.accounts import CHEAP, make_user
from tests.conftest import make_settings, run_on
from tests.test_proposals import PROPOSER, proposal

HOSTILE_TITLE = "Fête\r\nBcc: evil@example.org"


@dataclass
class Received:
    """One message as the SMTP server got it."""

    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """What our local SMTP server received, and its port."""

    port: int
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on a free local port, collecting what it receives."""
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def mailing(settings: Settings, inbox: Inbox, **overrides: object) -> Settings:
    """``settings`` sending e-mail to ``inbox``."""
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox.port,
        "smtp_security": "none",
        "mail_from": "agenda@example.org",
        **overrides,
    }
    return make_settings(settings.database_url, **values)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hasher", CHEAP)


def _event(title: str) -> StoredEvent:
    return StoredEvent(
        id=7,
        uid="x@example.org",
        slug="fete",
        state="published",
        sequence=0,
        version=1,
        created_us=0,
        updated_us=0,
        published_us=None,
        deleted_us=None,
        start_ts=0,
        document={"title": {"fr": title}},
    )


def test_a_title_cannot_add_headers() -> None:
    settings = Settings(base_url="https://agenda.example.org")
    made = mail.proposal_received(
        settings,
        event=_event(HOSTILE_TITLE),
        name="Eve\nBcc: evil@example.org",
        email="eve@example.org",
        message="Bonjour\r\nBcc: evil@example.org",
        editors=["ada@example.org"],
    )
    assert made is not None
    headers = made.as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\rBcc:" not in headers
    assert made["Subject"] == "Nouvelle proposition : Fête Bcc: evil@example.org"
    assert made.get_all("To") == ["ada@example.org"]
    for message in (
        mail.proposal_accepted(settings, event=_event(HOSTILE_TITLE), to="a@b.org", lang="en"),
        mail.proposal_refused(
            settings, event=_event(HOSTILE_TITLE), to="a@b.org", reply=None, lang="fr"
        ),
    ):
        assert b"\nBcc:" not in message.as_bytes().split(b"\n\n", 1)[0]


def test_the_proposer_is_written_to_in_their_language() -> None:
    settings = Settings(base_url="https://agenda.example.org")
    english = mail.proposal_accepted(settings, event=_event("Fête"), to="a@b.org", lang="en")
    assert english["Subject"] == "Your proposal is published: Fête"
    assert "https://agenda.example.org/events/fete?lang=en" in english.get_content()
    french = mail.proposal_refused(
        settings, event=_event("Fête"), to="a@b.org", reply="Trop loin.", lang="fr"
    )
    assert french["Subject"] == "Votre proposition : Fête"
    assert "Trop loin." in french.get_content()


def test_editors_are_told_of_a_proposal(migrated: Settings, tokens, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
    settings = mailing(migrated, inbox)
    make_user(settings, "ada@example.org")
    make_user(settings, "grace@example.org", role="admin")
    gone = make_user(settings, "old@example.org")
    run_on(settings, lambda s: accounts.set_disabled(s, user_id=gone.id, disabled=True))
    with TestClient(create_app(settings)) as client:
        data = proposal(title={"fr": HOSTILE_TITLE})
        assert client.post("/api/proposals", json=data).status_code == 202
    [received] = inbox.messages
    assert received.sender == "agenda@example.org"
    assert sorted(received.recipients) == ["ada@example.org", "grace@example.org"]
    message = received.message
    assert message["Subject"] == "Nouvelle proposition : Fête Bcc: evil@example.org"
    assert "Bcc" not in message and "evil@example.org" not in received.recipients
    body = message.get_content()
    assert "http://testserver/editor/proposals" in body
    assert PROPOSER["email"] in body and PROPOSER["message"] in body


def test_no_smtp_host_no_e_mail(migrated: Settings, tokens, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
    make_user(migrated)
    with TestClient(create_app(migrated)) as client:
        assert client.post("/api/proposals", json=proposal()).status_code == 202
    quiet = mailing(migrated, inbox, notify_editors=False)
    with TestClient(create_app(quiet)) as client:
        assert client.post("/api/proposals", json=proposal()).status_code == 202
    assert inbox.messages == []


def test_a_failing_server_is_logged_and_the_proposal_kept(  # type: ignore[no-untyped-def]
    migrated: Settings, tokens, editor, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(migrated)
    broken = make_settings(
        migrated.database_url, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none"
    )
    with TestClient(create_app(broken)) as client, caplog.at_level(logging.ERROR):
        assert client.post("/api/proposals", json=proposal()).status_code == 202
        pending = client.get("/api/events", params={"state": "pending"}, headers=editor)
        assert len(pending.json()["items"]) == 1
    assert any("could not send 1 e-mail" in r.getMessage() for r in caplog.records)
