"""E-mails about proposals: to the editors when one arrives, to the proposer when an editor
accepts or refuses it. Sent only when ``smtp_host`` is set.

Messages are built by pure functions (plain text, in the reader's language); sending happens
after the response, from a Starlette ``BackgroundTask``, in a thread: a failure is logged and
never reaches the person who sent the form. Any text a user typed goes into a header only
after control characters (CR and LF first) are removed, so it cannot add headers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from starlette.background import BackgroundTask

from calendar_service.db.events import StoredEvent
from calendar_service.phrases import inner_quotes
from calendar_service.render.newsletter import pick_with_language
from calendar_service.settings import Settings

logger = logging.getLogger(__name__)

TIMEOUT_S = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
SUBJECT_LENGTH = 150

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "received_subject": "Nouvelle proposition\u00a0: {title}",
        "received_body": (
            "Bonjour,\n\n"
            "Une proposition d'événement attend une relecture\u00a0: «\u00a0{title}\u00a0».\n"
            "Proposée par\u00a0: {who}\n"
            "{message}"
            "\nPour l'accepter, la modifier ou la refuser\u00a0: {queue}\n"
        ),
        "nobody": "(anonyme)",
        "their_word": "Son message\u00a0: {message}\n",
        "accepted_subject": "Votre proposition est publiée\u00a0: {title}",
        "accepted_body": (
            "Bonjour,\n\n"
            "Merci pour votre proposition «\u00a0{title}\u00a0»\u00a0: l'équipe l'a relue et "
            "publiée.\n"
            "Elle est en ligne ici\u00a0: {link}\n\n"
            "— {organisation}\n"
        ),
        "refused_subject": "Votre proposition\u00a0: {title}",
        "refused_body": (
            "Bonjour,\n\n"
            "Merci pour votre proposition «\u00a0{title}\u00a0». L'équipe a décidé de ne pas la "
            "publier.\n"
            "{reply}"
            "\n— {organisation}\n"
        ),
        "their_reply": "\nSon message\u00a0:\n{reply}\n",
    },
    "en": {
        "received_subject": "New proposal: {title}",
        "received_body": (
            "Hello,\n\n"
            "A proposed event is waiting for review: “{title}”.\n"
            "Proposed by: {who}\n"
            "{message}"
            "\nTo accept, edit or refuse it: {queue}\n"
        ),
        "nobody": "(anonymous)",
        "their_word": "Their message: {message}\n",
        "accepted_subject": "Your proposal is published: {title}",
        "accepted_body": (
            "Hello,\n\n"
            "Thank you for proposing “{title}”: the team reviewed and published it.\n"
            "It is online here: {link}\n\n"
            "— {organisation}\n"
        ),
        "refused_subject": "Your proposal: {title}",
        "refused_body": (
            "Hello,\n\n"
            "Thank you for proposing “{title}”. The team decided not to publish it.\n"
            "{reply}"
            "\n— {organisation}\n"
        ),
        "their_reply": "\nTheir message:\n{reply}\n",
    },
}


def header_text(text: str, *, limit: int = SUBJECT_LENGTH) -> str:
    """``text`` fit for a header: control characters (CR, LF...) become spaces; shortened."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["fr"])


def event_title(event: StoredEvent, lang: str, default_language: str) -> str:
    """The event's title in ``lang``, else in the default language, ready to be quoted."""
    title, _ = pick_with_language(event.document.get("title"), lang, default_language)
    return inner_quotes(title, lang)


def _message(settings: Settings, to: Sequence[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = header_text(settings.mail_from, limit=320)
    message["To"] = ", ".join(header_text(address, limit=320) for address in to)
    message["Subject"] = header_text(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def proposal_received(
    settings: Settings,
    *,
    event: StoredEvent,
    name: str | None,
    email: str | None,
    message: str | None,
    editors: Sequence[str],
) -> EmailMessage | None:
    """To the editors: a proposal waits in the queue (``None`` when there is no one to tell)."""
    if not editors:
        return None
    w = _words(settings.default_language)
    title = event_title(event, settings.default_language, settings.default_language)
    who = " ".join(x for x in (name, f"<{email}>" if email else None) if x)
    who = header_text(who, limit=600) or w["nobody"]
    body = w["received_body"].format(
        title=title,
        who=who,
        message=w["their_word"].format(message=message) if message else "",
        queue=f"{settings.base_url}/editor/proposals",
    )
    return _message(settings, editors, w["received_subject"].format(title=title), body)


def proposal_accepted(
    settings: Settings, *, event: StoredEvent, to: str, lang: str
) -> EmailMessage:
    """To the proposer: their event is published, with its public page."""
    w = _words(lang)
    title = event_title(event, lang, settings.default_language)
    query = "" if lang == settings.default_language else f"?lang={lang}"
    body = w["accepted_body"].format(
        title=title,
        link=f"{settings.base_url}/events/{event.slug}{query}",
        organisation=settings.organisation_name,
    )
    return _message(settings, [to], w["accepted_subject"].format(title=title), body)


def proposal_refused(
    settings: Settings, *, event: StoredEvent, to: str, reply: str | None, lang: str
) -> EmailMessage:
    """To the proposer: their event will not be published, with the editor's word."""
    w = _words(lang)
    title = event_title(event, lang, settings.default_language)
    body = w["refused_body"].format(
        title=title,
        reply=w["their_reply"].format(reply=reply) if reply else "",
        organisation=settings.organisation_name,
    )
    return _message(settings, [to], w["refused_subject"].format(title=title), body)


def _deliver(settings: Settings, messages: Sequence[EmailMessage]) -> None:
    """Send ``messages`` over one SMTP connection (blocking: run in a thread)."""
    assert settings.smtp_host is not None
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=TIMEOUT_S,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        for message in messages:
            smtp.send_message(message)


async def send(settings: Settings, messages: Sequence[EmailMessage]) -> None:
    """Send ``messages``; a failure is logged, never raised."""
    if not messages or settings.smtp_host is None:
        return
    try:
        await asyncio.to_thread(_deliver, settings, messages)
    except (OSError, smtplib.SMTPException):
        logger.exception(
            "could not send %d e-mail(s) through %s", len(messages), settings.smtp_host
        )


def sending(settings: Settings, messages: Sequence[EmailMessage | None]) -> BackgroundTask | None:
    """A task sending ``messages`` after the response, or ``None`` when there is nothing to
    send or no SMTP server."""
    kept = [m for m in messages if m is not None]
    if not kept or settings.smtp_host is None:
        return None
    return BackgroundTask(send, settings, kept)
