"""The editors' event pages: the list (search, filters, upcoming first), the form that creates
and edits an event (the whole model, translations and recurrence included), a preview in the
widget, the newsletter block and a calendar, the actions (publish, cancel, postpone, delete...)
each behind a confirmation, and the event's history.

Every page works without JavaScript; every form carries the session's CSRF token; every write
goes through ``editing`` (validation, derived data, history, caches) as the API's do.
"""

from __future__ import annotations

import calendar as month_calendar
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from calendar_service import editing
from calendar_service.dates import epoch, from_epoch, utc_now, zone
from calendar_service.db import events as store
from calendar_service.db import history, worklist
from calendar_service.db.accounts import Session, User
from calendar_service.db.connection import Storage
from calendar_service.digests import Entry, upcoming_times
from calendar_service.digits import is_number
from calendar_service.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceError,
    ValidationFailed,
)
from calendar_service.media.images import ImageRefused, ImageTypeRefused
from calendar_service.media.uploads import keep_from_url, keep_upload
from calendar_service.models import EventIn
from calendar_service.normalise import parse_event
from calendar_service.phrases import date_phrase, inner_quotes
from calendar_service.recurrence_text import WEEKDAYS, recurrence_phrase, weekday_name
from calendar_service.render.ical import RenderContext, render_vevent
from calendar_service.render.newsletter import when_phrase
from calendar_service.render.pages import occurrence_item, status_label
from calendar_service.settings import Settings
from calendar_service.vocabulary import (
    ACCESS_FEATURES,
    CATEGORIES,
    PARTNER_ROLES,
    STATUSES,
)
from calendar_service.web.editor.common import (
    NO_STORE,
    editor_refusal,
    editor_ui,
    render_editor,
    with_lang,
)
from calendar_service.web.editor.event_form import (
    EXTRA_PARTNER_ROWS,
    MAX_PARTNER_ROWS,
    MESSAGES,
    FormErrors,
    document_from_form,
    form_from_document,
    place_errors,
)
from calendar_service.web.editor.event_words import LANGUAGE_LABELS, WORDS
from calendar_service.web.editor.sessions import read_form, read_form_with_file, require_session
from calendar_service.web.html import PAGE_CSP, render_page
from calendar_service.web.public.embed import WORDS as EMBED_WORDS

PAGE_SIZE = 50
# The form previews a chosen picture before it is sent (a blob: URL of the browser's own).
FORM_HEADERS = {
    "Content-Security-Policy": PAGE_CSP.replace("img-src 'self'", "img-src 'self' blob:")
}
# The list counts this many events past its page's first at most ("more than" beyond).
COUNT_CAP = 1_000
STATES = ("draft", "published", "pending")
PERIODS = ("upcoming", "past", "all")
# A frame of our own pages only (the previews), never of another site's.
SELF_FRAMED = {
    **{k: v for k, v in NO_STORE.items() if k != "X-Frame-Options"},
    "Content-Security-Policy": PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
    "X-Frame-Options": "SAMEORIGIN",
}
BLOCK_HEADERS = {
    **SELF_FRAMED,
    "Content-Security-Policy": "default-src 'none'; img-src https: http:; style-src "
    "'unsafe-inline'; frame-ancestors 'self'",
}

# What each action changes, and when it is offered.
ACTIONS: dict[str, dict[str, str]] = {
    "publish": {"state": "published"},
    "unpublish": {"state": "draft"},
    "cancel": {"status": "cancelled"},
    "postpone": {"status": "postponed"},
    "restore": {"status": "scheduled"},
    "delete": {},
}
# The actions whose confirmation asks for a note on the status (why, what next).
NOTED_ACTIONS = ("cancel", "postpone", "restore")
COMMON_ZONES = (
    "Europe/Paris",
    "Indian/Mayotte",
    "Indian/Reunion",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Miquelon",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/London",
    "UTC",
)


def _actor(user: User) -> str:
    return user.email


def offered_actions(event: store.StoredEvent) -> list[str]:
    """The actions that make sense for the event as it is now."""
    state, status = event.state, event.document.get("status", "scheduled")
    if state == "pending":
        return ["delete"]  # accepted or refused in the proposals queue
    found = []
    if state == "draft":
        found.append("publish")
    if state == "published":
        found.append("unpublish")
    if status != "cancelled":
        found.append("cancel")
    if status not in ("postponed", "cancelled"):
        found.append("postpone")
    if status in ("cancelled", "postponed"):
        found.append("restore")
    found.append("delete")
    return found


def _title(event: store.StoredEvent, lang: str, default: str) -> str:
    titles = event.document.get("title") or {}
    return str(titles.get(lang) or titles.get(default) or next(iter(titles.values()), event.slug))


def _stamp(us: int, settings: Settings, lang: str) -> str:
    moment = datetime.fromtimestamp(us / 1_000_000, zone(settings.default_timezone))
    return str(format_datetime(moment, "d MMM y HH:mm", locale=lang))


async def _event_or_404(storage: Storage, raw: str) -> store.StoredEvent:
    if not is_number(raw):
        raise NotFound(f"no event {raw!r}")
    event = await store.get_event(storage, key=raw)
    if event is None or event.deleted_us is not None:
        raise NotFound(f"no event {raw!r}")
    return event


# --- the list ---------------------------------------------------------------------------------


@dataclass
class ListChoices:
    q: str
    state: str
    status: str
    period: str
    first: date | None
    last: date | None
    page: int

    @classmethod
    def read(cls, request: Request) -> ListChoices:
        query = request.query_params

        def choice(name: str, allowed: tuple[str, ...] | list[str], default: str) -> str:
            value = query.get(name, default)
            return value if value in allowed else default

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(query.get(name, ""))
            except ValueError:
                return None

        page = query.get("page", "1")
        return cls(
            q=query.get("q", "").strip()[:200],
            state=choice("state", ["", *STATES], ""),
            status=choice("status", ["", *STATUSES], ""),
            period=choice("period", PERIODS, "all"),
            first=day("from"),
            last=day("to"),
            page=int(page) if is_number(page) and 0 < int(page) < 10_000 else 1,
        )

    def query(self, **changes: Any) -> str:
        values = {
            "q": self.q,
            "state": self.state,
            "status": self.status,
            "period": self.period if self.period != "all" else "",
            "from": self.first.isoformat() if self.first else "",
            "to": self.last.isoformat() if self.last else "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v})


async def _listed(
    storage: Storage, choices: ListChoices, settings: Settings
) -> tuple[list[tuple[store.StoredEvent, int | None]], int]:
    """A page of the list for ``choices`` (see ``db.worklist.editors_page``)."""
    tz = zone(settings.default_timezone)

    def midnight(day: date | None) -> int | None:
        return None if day is None else epoch(datetime.combine(day, datetime.min.time(), tz))

    return await worklist.editors_page(
        storage,
        states=[choices.state] if choices.state else list(STATES),
        statuses=[choices.status] if choices.status else [],
        q=choices.q,
        period=choices.period,
        from_ts=midnight(choices.first),
        to_ts=midnight(choices.last + timedelta(days=1) if choices.last else None),
        page=choices.page,
        page_size=PAGE_SIZE,
        count_cap=COUNT_CAP,
    )


def _row(
    event: store.StoredEvent, next_ts: int | None, settings: Settings, ui: str
) -> dict[str, Any]:
    doc = event.document
    default = settings.default_language
    tz_name = doc["timezone"]
    past = next_ts is None and event.start_ts < epoch(utc_now())
    when_ts = next_ts if next_ts is not None else event.start_ts
    start = from_epoch(when_ts, zone(tz_name))
    shown = start.date() if doc["all_day"] else start.replace(tzinfo=None)
    return {
        "id": event.id,
        "title": _title(event, ui, default),
        "title_lang": ui if ui in doc["title"] else default,
        "when": date_phrase(shown, None, all_day=doc["all_day"], lang=ui),
        "datetime": start.date().isoformat() if doc["all_day"] else start.isoformat(),
        "past": past,
        "repeats": recurrence_phrase(doc, ui),
        "state": event.state,
        "status": doc["status"],
        "status_label": STATUSES[doc["status"]][ui],
        "updated": _stamp(event.updated_us, settings, ui),
    }


async def event_list(request: Request) -> Response:
    session, user = await require_session(request)
    settings: Settings = request.app.state.settings
    ui, lang_query = editor_ui(request)
    choices = ListChoices.read(request)
    found, total = await _listed(request.app.state.storage, choices, settings)
    more = total > (choices.page - 1) * PAGE_SIZE + COUNT_CAP
    shown = total - 1 if more else total
    pages = max(1, math.ceil(total / PAGE_SIZE))
    extra = {"lang": ui} if lang_query else {}
    return render_editor(
        request,
        "pages/editor_events.html",
        session,
        user,
        {
            "w": WORDS[ui],
            "choices": choices,
            "rows": [_row(e, n, settings, ui) for e, n in found],
            "total": shown,
            "more": more,
            "page": choices.page,
            "pages": pages,
            "pages_shown": max(1, math.ceil(shown / PAGE_SIZE)),
            "previous_url": "/editor/events?" + choices.query(page=choices.page - 1, **extra)
            if choices.page > 1
            else None,
            "next_url": "/editor/events?" + choices.query(page=choices.page + 1, **extra)
            if choices.page < pages
            else None,
            "states": STATES,
            "statuses": {k: v[ui] for k, v in STATUSES.items()},
            "periods": PERIODS,
            "message": _done_message(request, ui),
        },
    )


def _done_message(request: Request, ui: str) -> str | None:
    done = request.query_params.get("done", "")
    key = f"done_{done}" if done in ACTIONS else done if done in ("saved", "created") else ""
    return WORDS[ui].get(key) if key else None


# --- the form ---------------------------------------------------------------------------------


def _form_context(
    request: Request,
    *,
    form: dict[str, str],
    errors: FormErrors,
    event: store.StoredEvent | None,
    stale: bool = False,
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    ui, _ = editor_ui(request)
    languages = list(settings.languages)
    # Rows up to the last one filled in (typed, or stored), then two empty ones.
    filled = [
        int(key.split(".")[1])
        for key, value in form.items()
        if key.startswith("partners.")
        and is_number(key.split(".")[1])
        and value.strip()
        and not key.endswith(".role")
    ]
    partner_rows = max(filled, default=-1) + 1
    if event is not None:
        partner_rows = max(partner_rows, len(event.document.get("partners") or []))
    partner_rows = min(partner_rows + EXTRA_PARTNER_ROWS, MAX_PARTNER_ROWS + EXTRA_PARTNER_ROWS)
    context: dict[str, Any] = {
        "w": WORDS[ui],
        "form": form,
        "errors": errors,
        "stale": stale,
        "event": event,
        "languages": languages,
        "default_language": settings.default_language,
        "language_labels": LANGUAGE_LABELS[ui],
        "categories": {k: v[ui] for k, v in CATEGORIES.items()},
        "statuses": {k: v[ui] for k, v in STATUSES.items()},
        "partner_roles": {k: v[ui] for k, v in PARTNER_ROLES.items()},
        "access_features": {k: v[ui] for k, v in ACCESS_FEATURES.items()},
        "weekdays": [(code, weekday_name(code, ui)) for code in WEEKDAYS],
        "zones": COMMON_ZONES,
        "partner_rows": partner_rows,
        # A proposal is accepted or refused in the queue (which tells the proposer), not here.
        "states": ["pending"] if event is not None and event.state == "pending" else STATES[:2],
        "message": _done_message(request, ui),
    }
    if event is not None:
        context.update(
            {
                "title": _title(event, ui, settings.default_language),
                "repeats": recurrence_phrase(event.document, ui),
                "actions": offered_actions(event),
                "version": event.etag_version,
            }
        )
    return context


async def _history_rows(
    storage: Storage, event: store.StoredEvent, settings: Settings, ui: str
) -> list[dict[str, Any]]:
    return [
        {
            "at": _stamp(entry.at_us, settings, ui),
            "actor": entry.actor,
            "action": WORDS[ui].get(f"act_{entry.action}", entry.action),
            "changes": entry.changes,
        }
        for entry in await history.for_event(storage, event_id=event.id)
    ]


async def _form_page(
    request: Request,
    session: Session,
    user: User,
    *,
    form: dict[str, str],
    errors: FormErrors,
    event: store.StoredEvent | None,
    stale: bool = False,
    status: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    ui, _ = editor_ui(request)
    context = _form_context(request, form=form, errors=errors, event=event, stale=stale)
    if event is not None:
        context["history"] = await _history_rows(request.app.state.storage, event, settings, ui)
    return render_editor(
        request,
        "pages/editor_event.html",
        session,
        user,
        context,
        status=status,
        headers=FORM_HEADERS,
    )


async def new_event_page(request: Request) -> Response:
    session, user = await require_session(request)
    settings: Settings = request.app.state.settings
    ui, _ = editor_ui(request)
    form = {
        "state": "draft",
        "category": "autre",
        "status": "scheduled",
        "timezone": settings.default_timezone,
        "attendance_mode": "in_person",
        "location.country": "FR",
        "repeat": "none",
        "repeat.interval": "1",
        "repeat.end": "never",
    }
    return await _form_page(request, session, user, form=form, errors=FormErrors(ui), event=None)


async def edit_event_page(request: Request) -> Response:
    session, user = await require_session(request)
    ui, _ = editor_ui(request)
    event = await _event_or_404(request.app.state.storage, request.path_params["event_id"])
    form = form_from_document(event.document, slug=event.slug, state=event.state)
    return await _form_page(request, session, user, form=form, errors=FormErrors(ui), event=event)


async def _checked(
    request: Request, form: dict[str, str], settings: Settings, ui: str, upload: bytes | None
) -> tuple[dict[str, Any], EventIn | None, FormErrors]:
    """The document the form describes, the event it validates to (``None`` with errors),
    and every error: the form's own first, then the shared validation's for the other
    fields. A picture sent with the form is kept first and becomes the event's; an uploaded
    picture is checked and its crops made (before any transaction)."""
    state = request.app.state
    picture_error: tuple[str, str] | None = None
    if upload is not None:
        try:
            record, _ = await keep_upload(
                state.media,
                state.image_work,
                upload,
                max_bytes=settings.media_max_bytes,
                max_pixels=settings.media_max_pixels,
            )
        except ServiceError as exc:
            picture_error = ("image.file", _picture_error(exc))
        else:
            form["image.media"] = record.id
            for key in ("image.url", "image.width", "image.height", "image.remove"):
                form.pop(key, None)
    elif form.get("image.host") and form.get("image.url", "").strip():
        try:
            record, _ = await keep_from_url(
                state.media,
                state.image_work,
                form["image.url"].strip(),
                max_bytes=settings.media_max_bytes,
                max_pixels=settings.media_max_pixels,
                allow_local=settings.media_fetch_local,
            )
        except ValidationFailed as exc:
            picture_error = ("image.url", MESSAGES[ui]["picture_fetch"] + f" ({exc.detail})")
        except ServiceError as exc:
            picture_error = ("image.url", _picture_error(exc))
        else:
            form["image.media"] = record.id
            for key in ("image.url", "image.width", "image.height", "image.host"):
                form.pop(key, None)
    if form.get("image.remove"):
        for key in [k for k in form if k.startswith("image.")]:
            form.pop(key)
    parsed = document_from_form(form, languages=settings.languages, lang=ui)
    if picture_error:
        parsed.errors.add(*picture_error)
    event = None
    try:
        document = await editing.with_picture(state, parsed.document)
        event = parse_event(document, settings)
        parsed.document = document
    except ValidationFailed as exc:
        place_errors(parsed.errors, exc.errors or [], settings.default_language)
    if not parsed.document.get("title", {}).get(settings.default_language):
        parsed.errors.add(f"title.{settings.default_language}", "title_default")
    return parsed.document, None if parsed.errors else event, parsed.errors


def _picture_error(exc: ServiceError) -> str:
    """The form's message key for a picture that was refused."""
    if isinstance(exc, ImageTypeRefused):
        return "picture_type"
    if isinstance(exc, PayloadTooLarge):
        return "picture_large"
    if isinstance(exc, ImageRefused) and "too large" in exc.detail:
        return "picture_pixels"
    return "picture_damaged"


async def _read_event_form(
    request: Request, session: Session
) -> tuple[dict[str, str], bytes | None]:
    settings: Settings = request.app.state.settings
    return await read_form_with_file(
        request,
        secret=session.csrf_secret,
        purpose="session",
        file_field="image.file",
        max_file_bytes=settings.media_max_bytes,
    )


async def create_event(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        form, upload = await _read_event_form(request, session)
    except ServiceError as exc:
        return editor_refusal(request, exc)
    settings: Settings = request.app.state.settings
    ui, lang_query = editor_ui(request)
    _, event, errors = await _checked(request, form, settings, ui, upload)
    stored = None
    if event is not None:
        try:
            stored = await editing.store_new_event(
                request.app.state, event=event, actor=_actor(user)
            )
        except Conflict as exc:
            errors.add("slug", str(exc), translate=True)
    if stored is None:
        return await _form_page(
            request, session, user, form=form, errors=errors, event=None, status=400
        )
    return _after_save(stored, form, lang_query, "created")


def _after_save(
    stored: store.StoredEvent, form: dict[str, str], lang_query: str, done: str
) -> Response:
    if form.get("then") == "preview":
        target = with_lang(f"/editor/events/{stored.id}/preview", lang_query)
    else:
        target = with_lang(f"/editor/events/{stored.id}?done={done}", lang_query)
    return RedirectResponse(target, status_code=303)


async def save_event(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        form, upload = await _read_event_form(request, session)
    except ServiceError as exc:
        return editor_refusal(request, exc)
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    ui, lang_query = editor_ui(request)
    event = await _event_or_404(storage, request.path_params["event_id"])
    if event.state == "pending":
        form = {**form, "state": "pending"}  # decided in the queue, which tells the proposer
    document, checked, errors = await _checked(request, form, settings, ui, upload)
    stored, stale = None, False
    if checked is not None:
        try:
            stored = await editing.change_event(
                request.app.state,
                key=str(event.id),
                document={**document, "uid": event.uid, "slug": document.get("slug") or event.slug},
                actor=_actor(user),
                expected_version=form.get("version") or None,
            )
        except ValidationFailed as exc:
            place_errors(errors, exc.errors or [], settings.default_language)
        except Conflict as exc:
            errors.add("slug", str(exc), translate=True)
        except PreconditionFailed:
            stale = True
    if stored is None:
        current = await _event_or_404(storage, str(event.id))
        return await _form_page(
            request,
            session,
            user,
            form=form,
            errors=errors,
            event=current if not stale else event,
            stale=stale,
            status=409 if stale else 400,
        )
    return _after_save(stored, form, lang_query, "saved")


# --- actions ----------------------------------------------------------------------------------


async def confirm_action(request: Request) -> Response:
    session, user = await require_session(request)
    ui, _ = editor_ui(request)
    settings: Settings = request.app.state.settings
    action = request.path_params["action"]
    event = await _event_or_404(request.app.state.storage, request.path_params["event_id"])
    if action not in ACTIONS or action not in offered_actions(event):
        raise NotFound(f"no action {action!r} for this event")
    w = WORDS[ui]
    label = w[f"action_{action}"]
    notes = []
    if action in NOTED_ACTIONS:
        # Cancelling or postponing proposes the note already written; restoring starts empty.
        current = event.document.get("status_note") or {} if action != "restore" else {}
        names = LANGUAGE_LABELS[ui]
        notes = [
            (
                code,
                w["in_language"].format(label=w["status_note"], language=names.get(code, code)),
                current.get(code, ""),
            )
            for code in settings.languages
        ]
    return render_editor(
        request,
        "pages/editor_confirm.html",
        session,
        user,
        {
            "w": w,
            "event": event,
            "action": action,
            "heading": w["confirm_title"].format(
                action=label, title=inner_quotes(_title(event, ui, settings.default_language), ui)
            ),
            "explanation": w[f"confirm_{action}"],
            "yes": w["confirm_yes"].format(action=label.lower() if ui == "fr" else label),
            "version": event.etag_version,
            "notes": notes,
        },
    )


async def do_action(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        form = await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    _, lang_query = editor_ui(request)
    action = request.path_params["action"]
    event = await _event_or_404(request.app.state.storage, request.path_params["event_id"])
    if action not in ACTIONS or action not in offered_actions(event):
        raise NotFound(f"no action {action!r} for this event")
    try:
        if action == "delete":
            await editing.remove_event(
                request.app.state,
                key=str(event.id),
                actor=_actor(user),
                expected_version=form.get("version") or None,
            )
            return RedirectResponse(
                with_lang("/editor/events?done=delete", lang_query), status_code=303
            )
        changes: dict[str, Any] = dict(ACTIONS[action])
        if action in NOTED_ACTIONS:
            settings: Settings = request.app.state.settings
            # A merge patch: an empty field removes that language's note.
            changes["status_note"] = {
                code: str(form.get(f"status_note.{code}") or "").strip() or None
                for code in settings.languages
            }
        await editing.change_event(
            request.app.state,
            key=str(event.id),
            changes=changes,
            actor=_actor(user),
            expected_version=form.get("version") or None,
        )
    except (PreconditionFailed, ValidationFailed) as exc:
        return editor_refusal(request, exc)
    return RedirectResponse(
        with_lang(f"/editor/events/{event.id}?done={action}", lang_query), status_code=303
    )


# --- preview ----------------------------------------------------------------------------------


def _preview_lang(request: Request, settings: Settings) -> str:
    asked = request.query_params.get("in", "")
    return asked if asked in settings.languages else settings.default_language


def _month_grid(days: set[date], first: date, lang: str) -> dict[str, Any]:
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return {
        "caption": str(format_date(first, "MMMM y", locale=lang)),
        "weekdays": [(weekday_name(code, lang), weekday_name(code, lang)[:3]) for code in WEEKDAYS],
        "weeks": [
            [
                {
                    "day": d.day,
                    "in_month": d.month == first.month,
                    "marked": d in days,
                    "label": str(format_date(d, "full", locale=lang)),
                }
                for d in week
            ]
            for week in weeks
        ],
    }


async def preview_page(request: Request) -> Response:
    session, user = await require_session(request)
    settings: Settings = request.app.state.settings
    ui, lang_query = editor_ui(request)
    state = request.app.state
    event = await _event_or_404(state.storage, request.path_params["event_id"])
    lang = _preview_lang(request, settings)
    times, _ = upcoming_times(
        event, now=utc_now(), days=366, cap=settings.max_occurrences, listed=12
    )
    tz = zone(event.document["timezone"])
    agenda = []
    for start_ts, end_ts in times:
        agenda.append(
            {
                "when": when_phrase(
                    event.document,
                    [(start_ts, end_ts)],
                    lang=lang,
                    default_timezone=settings.default_timezone,
                ),
                "datetime": from_epoch(start_ts, tz).isoformat(),
            }
        )
    days = {from_epoch(s, tz).date() for s, _ in times}
    month = _month_grid(days, min(days).replace(day=1), lang) if days else None
    vevent = render_vevent(event, lang=lang, ctx=RenderContext.from_settings(settings))
    in_query = urlencode({"in": lang})
    return render_editor(
        request,
        "pages/editor_preview.html",
        session,
        user,
        {
            "w": WORDS[ui],
            "event": event,
            "title": _title(event, ui, settings.default_language),
            "lang": lang,
            "languages": settings.languages,
            "language_labels": LANGUAGE_LABELS[ui],
            "widget_url": f"/editor/events/{event.id}/preview/widget?{in_query}",
            "block_url": f"/editor/events/{event.id}/preview/block?{in_query}",
            "agenda": agenda,
            "month": month,
            "vevent": vevent,
            "title_in_lang": _title(event, lang, settings.default_language),
            "status_label": status_label(event.document["status"], lang)
            if event.document["status"] != "scheduled"
            else "",
            "back_url": with_lang(f"/editor/events/{event.id}", lang_query),
        },
    )


async def _previewed(request: Request) -> tuple[Any, store.StoredEvent, str]:
    """What a preview frame shows: the app's state, the event, and the preview's language."""
    await require_session(request)
    state = request.app.state
    event = await _event_or_404(state.storage, request.path_params["event_id"])
    return state, event, _preview_lang(request, state.settings)


async def preview_widget(request: Request) -> Response:
    """The event alone in the iframe widget, as partner sites show it (framed by our page)."""
    state, event, lang = await _previewed(request)
    settings: Settings = state.settings
    times, _ = upcoming_times(
        event, now=utc_now(), days=366, cap=settings.max_occurrences, listed=3
    )
    brand = state.templates.brand
    items = [occurrence_item(event, s, e, lang=lang, brand=brand) for s, e in times]
    ui = lang if lang in EMBED_WORDS else "en"
    context: dict[str, Any] = {
        "ui": ui,
        "lang": lang,
        "w": EMBED_WORDS[ui],
        "title": settings.organisation_name,
        "items": items,
        "layout": "list",
        "theme_url": "/embed/theme.css",
        "subscribe_url": f"{settings.base_url}/feeds/agenda.ics",
    }
    return render_page(request, "pages/embed.html", context, headers=SELF_FRAMED)


async def preview_block(request: Request) -> Response:
    """The event's newsletter block (HTML for e-mail), as pasted in a newsletter."""
    state, event, lang = await _previewed(request)
    settings: Settings = state.settings
    times, more = upcoming_times(
        event, now=utc_now(), days=92, cap=settings.max_occurrences, listed=6
    )
    block = state.blocks.block(
        state.templates,
        Entry(event, times, more),
        lang=lang,
        fmt="html",
        heading=2,
        with_description=True,
    )
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{WORDS.get(lang, WORDS['en'])['preview_block']}</title></head>"
        f"<body>{block}</body></html>"
    )
    return HTMLResponse(page, headers=BLOCK_HEADERS)


routes = [
    Route("/editor/events", event_list, methods=["GET"]),
    Route("/editor/events", create_event, methods=["POST"]),
    Route("/editor/events/new", new_event_page, methods=["GET"]),
    Route("/editor/events/{event_id}", edit_event_page, methods=["GET"]),
    Route("/editor/events/{event_id}", save_event, methods=["POST"]),
    Route("/editor/events/{event_id}/preview", preview_page, methods=["GET"]),
    Route("/editor/events/{event_id}/preview/widget", preview_widget, methods=["GET"]),
    Route("/editor/events/{event_id}/preview/block", preview_block, methods=["GET"]),
    Route("/editor/events/{event_id}/{action}", confirm_action, methods=["GET"]),
    Route("/editor/events/{event_id}/{action}", do_action, methods=["POST"]),
]
