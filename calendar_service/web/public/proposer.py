"""The public proposal form: anyone proposes an event without an account; it waits, pending,
for an editor (see ``web/api/proposals.py``, whose defences and code path it shares).

The page has no session, so its CSRF token signs a random value kept in a cookie sent back to
``/proposer`` only (a signed double submit, as on the sign-in form); forms from another site
are refused. Errors are shown next to their fields, with everything typed kept.
"""

from __future__ import annotations

import contextlib
import math
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message

from calendar_service.db import limits
from calendar_service.db.proposals import HOUR_US
from calendar_service.errors import (
    PayloadTooLarge,
    ServiceError,
    TooManyRequests,
    ValidationFailed,
)
from calendar_service.media.images import ImageTypeRefused
from calendar_service.media.uploads import keep_upload
from calendar_service.settings import Settings
from calendar_service.vocabulary import CATEGORIES
from calendar_service.web.api.proposals import (
    HONEYPOT,
    check_proposal,
    client_address,
    count_proposal,
    editors_told,
    submit_proposal,
)
from calendar_service.web.editor.common import NO_STORE, editor_refusal, editor_ui, with_lang
from calendar_service.web.editor.sessions import (
    CSRF_FIELD,
    csrf_token,
    login_nonce,
    read_form_with_file,
    set_login_nonce,
)
from calendar_service.web.html import render_page
from calendar_service.web.inputs import read_body

PATH = "/proposer"
PURPOSE = "proposal"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_FIELDS = (
    "title_fr",
    "title_en",
    "summary",
    "description",
    "category",
    "date",
    "start_time",
    "end_time",
    "place_name",
    "address",
    "postal_code",
    "city",
    "online_url",
    "organizer_name",
    "organizer_url",
    "price",
    "picture",  # the file: never kept as text, named here for its error's place
    "picture_alt",
    "proposer_name",
    "proposer_email",
    "proposer_message",
)
# The form field showing the errors of each field of a proposal's document.
FIELD_OF = {
    "title": "title_fr",
    "title.fr": "title_fr",
    "title.en": "title_en",
    "summary": "summary",
    "description": "description",
    "category": "category",
    "start": "start_time",
    "end": "end_time",
    "all_day": "date",
    "location.name": "place_name",
    "location.address": "address",
    "location.postal_code": "postal_code",
    "location.city": "city",
    "online_url": "online_url",
    "organizer": "organizer_name",
    "organizer.name": "organizer_name",
    "organizer.url": "organizer_url",
    "price": "price",
    "proposer.name": "proposer_name",
    "proposer.email": "proposer_email",
    "proposer.message": "proposer_message",
}

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Proposer un événement",
        "lead": (
            "Votre association organise un événement\u00a0? Décrivez-le ici\u00a0: l'équipe le "
            "relira avant de le publier dans l'agenda. Pas besoin de compte."
        ),
        "required_note": "Les champs marqués d'un astérisque (*) sont obligatoires.",
        "required": "obligatoire",
        "errors_title": "Quelques points à corriger",
        "colon": "\u00a0: ",
        "event": "L'événement",
        "title_fr": "Titre en français",
        "title_en": "Titre en anglais",
        "optional_help": "Facultatif.",
        "summary": "Résumé en une phrase",
        "description": "Description",
        "description_help": "Programme, intervenants, informations pratiques.",
        "category": "Catégorie",
        "when": "Date et heures",
        "zone_help": "Fuseau horaire\u00a0: {zone}.",
        "date": "Date",
        "all_day": "Toute la journée (sans horaire)",
        "start_time": "Heure de début",
        "end_time": "Heure de fin",
        "end_help": "Facultatif. Après minuit, l'heure de fin est celle du lendemain.",
        "where": "Lieu",
        "where_help": "Un lieu, un lien pour suivre en ligne, ou les deux.",
        "place_name": "Nom du lieu",
        "address": "Adresse",
        "postal_code": "Code postal",
        "city": "Ville",
        "online_url": "Lien pour suivre en ligne",
        "url_help": "Une adresse commençant par https://",
        "organizer": "Organisation",
        "organizer_name": "Nom de l'organisateur",
        "organizer_url": "Site web de l'organisateur",
        "price": "Prix",
        "price_help": (
            "Par exemple «\u00a0Gratuit\u00a0» "
            "ou «\u00a05\u00a0€\u00a0; 3\u00a0€ tarif réduit\u00a0»."
        ),
        "picture": "Affiche ou photo",
        "picture_help": "Facultatif. JPEG, PNG, WebP ou HEIC (photo de téléphone), 8 Mo au plus. "
        "Sa position GPS et ses autres métadonnées sont effacées.",
        "picture_alt": "Ce que montre l'image",
        "picture_alt_help": "Pour les personnes qui ne la voient pas : par exemple « Affiche du "
        "concert : une chanteuse sur fond orange ».",
        "need_picture_alt": "Décrivez l'image pour les personnes qui ne la voient pas.",
        "picture_limited": "Trop d'images ont été envoyées depuis votre connexion ; réessayez "
        "dans une heure, ou envoyez la proposition sans image.",
        "picture_type": "Envoyez une image JPEG, PNG, WebP ou HEIC ; SVG et GIF ne sont pas "
        "acceptés.",
        "picture_large": "Cette image dépasse {size} Mo : choisissez une image plus légère.",
        "picture_damaged": "Cette image est abîmée, incomplète ou trop grande : choisissez-en "
        "une autre.",
        "you": "Vous",
        "you_help": "Vus seulement par l'équipe, jamais publiés.",
        "proposer_name": "Votre nom",
        "proposer_email": "Votre adresse e-mail",
        "email_help": "Pour vous prévenir de la publication, ou vous poser une question.",
        "proposer_message": "Un mot pour l'équipe",
        "honeypot": "Laissez ce champ vide",
        "send": "Envoyer la proposition",
        "need_title": "Indiquez le titre de l'événement en français.",
        "bad_title": "Le titre doit faire au plus 300 caractères, sans caractère spécial.",
        "need_date": "Indiquez la date, par exemple 2027-05-14.",
        "bad_date": "Cette date n'est pas valide\u00a0; écrivez-la par exemple 2027-05-14.",
        "need_start": "Indiquez l'heure de début, ou cochez «\u00a0Toute la journée\u00a0».",
        "bad_time": "Cette heure n'est pas valide\u00a0; écrivez-la par exemple 18:30.",
        "bad_moment": (
            "Cette date et cette heure ne sont pas possibles (année trop lointaine, ou heure "
            "sautée au changement d'heure)."
        ),
        "bad_url": "Indiquez une adresse web complète, commençant par https://",
        "bad_email": "Indiquez une adresse e-mail valide, comme nom@exemple.fr.",
        "need_organizer": "Indiquez le nom de l'organisateur de ce site web.",
        "bad_text": "Ce texte est trop long ou contient des caractères non permis.",
        "bad_field": "Vérifiez ce champ.",
        "limited": (
            "Trop de propositions ont été envoyées depuis votre connexion. "
            "Réessayez dans {minutes} min\u00a0; ce que vous avez écrit est conservé ci-dessous."
        ),
        "too_large": (
            "Votre proposition dépasse la taille permise ({size} Ko). Raccourcissez la "
            "description, puis envoyez-la de nouveau."
        ),
        "thanks_title": "Merci pour votre proposition",
        "thanks": (
            "Elle a bien été reçue. L'équipe la relira avant de la publier\u00a0; si vous avez "
            "donné votre adresse e-mail, vous serez prévenu·e."
        ),
        "another": "Proposer un autre événement",
        "back_home": "Retour à l'agenda",
    },
    "en": {
        "title": "Propose an event",
        "lead": (
            "Is your association organising an event? Describe it here: the team will review "
            "it before publishing it in the calendar. No account needed."
        ),
        "required_note": "Fields marked with an asterisk (*) are required.",
        "required": "required",
        "errors_title": "A few things to correct",
        "colon": ": ",
        "event": "The event",
        "title_fr": "Title in French",
        "title_en": "Title in English",
        "optional_help": "Optional.",
        "summary": "One-sentence summary",
        "description": "Description",
        "description_help": "Programme, speakers, practical information.",
        "category": "Category",
        "when": "Date and times",
        "zone_help": "Time zone: {zone}.",
        "date": "Date",
        "all_day": "All day (no times)",
        "start_time": "Start time",
        "end_time": "End time",
        "end_help": "Optional. After midnight, the end time is on the next day.",
        "where": "Place",
        "where_help": "A place, a link to follow online, or both.",
        "place_name": "Name of the place",
        "address": "Street address",
        "postal_code": "Postal code",
        "city": "Town or city",
        "online_url": "Link to follow online",
        "url_help": "An address starting with https://",
        "organizer": "Organiser",
        "organizer_name": "Organiser's name",
        "organizer_url": "Organiser's website",
        "price": "Price",
        "price_help": "For example “Free” or “€5; €3 concessions”.",
        "picture": "Poster or photo",
        "picture_help": "Optional. JPEG, PNG, WebP or HEIC (phone photo), 8 MB at most. Its GPS "
        "position and other metadata are removed.",
        "picture_alt": "What the picture shows",
        "picture_alt_help": "For people who cannot see it: for example “Concert poster: a singer "
        "on an orange background”.",
        "need_picture_alt": "Describe the picture for people who cannot see it.",
        "picture_limited": "Too many pictures were sent from your connection; try again in an "
        "hour, or send the proposal without a picture.",
        "picture_type": "Send a JPEG, PNG, WebP or HEIC picture; SVG and GIF are not accepted.",
        "picture_large": "This picture is over {size} MB: choose a lighter one.",
        "picture_damaged": "This picture is damaged, incomplete or too large: choose another.",
        "you": "You",
        "you_help": "Seen by the team only, never published.",
        "proposer_name": "Your name",
        "proposer_email": "Your e-mail address",
        "email_help": "To tell you when it is published, or to ask you a question.",
        "proposer_message": "A word to the team",
        "honeypot": "Leave this field empty",
        "send": "Send the proposal",
        "need_title": "Enter the event's title in French.",
        "bad_title": "The title must be at most 300 characters, without special characters.",
        "need_date": "Enter the date, for example 2027-05-14.",
        "bad_date": "This date is not valid; write it for example 2027-05-14.",
        "need_start": "Enter the start time, or tick “All day”.",
        "bad_time": "This time is not valid; write it for example 18:30.",
        "bad_moment": (
            "This date and time are not possible (a year too far off, or an hour skipped when "
            "the clocks change)."
        ),
        "bad_url": "Enter a full web address, starting with https://",
        "bad_email": "Enter a valid e-mail address, such as name@example.org.",
        "need_organizer": "Enter the name of the organiser of this website.",
        "bad_text": "This text is too long or contains characters that are not allowed.",
        "bad_field": "Check this field.",
        "limited": (
            "Too many proposals were sent from your connection. Try again in {minutes} min; "
            "what you wrote is kept below."
        ),
        "too_large": (
            "Your proposal is over the allowed size ({size} KB). Shorten the description, "
            "then send it again."
        ),
        "thanks_title": "Thank you for your proposal",
        "thanks": (
            "It was received. The team will review it before publishing it; if you gave your "
            "e-mail address, you will be told."
        ),
        "another": "Propose another event",
        "back_home": "Back to the calendar",
    },
}
# The message shown next to a form field the model refused: when it is empty, then otherwise.
NEEDED = {"title_fr": "need_title", "organizer_name": "need_organizer"}
MESSAGE_OF = {
    "title_fr": "bad_title",
    "title_en": "bad_title",
    "start_time": "bad_moment",
    "end_time": "bad_time",
    "date": "bad_date",
    "online_url": "bad_url",
    "organizer_url": "bad_url",
    "organizer_name": "bad_text",
    "proposer_email": "bad_email",
    "summary": "bad_text",
    "description": "bad_text",
    "place_name": "bad_text",
    "address": "bad_text",
    "postal_code": "bad_text",
    "city": "bad_text",
    "price": "bad_text",
    "proposer_name": "bad_text",
    "proposer_message": "bad_text",
}


def _page(
    request: Request,
    *,
    nonce: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    others: list[str] | None = None,
    message: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    ui, lang_query = editor_ui(request)
    settings: Settings = request.app.state.settings
    w = WORDS[ui]
    errors = errors or {}
    response = render_page(
        request,
        "pages/proposer.html",
        {
            "ui": ui,
            "w": w,
            "lang_query": lang_query,
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_token(settings, nonce, purpose=PURPOSE),
            "honeypot": HONEYPOT,
            "categories": [(key, labels[ui]) for key, labels in CATEGORIES.items()],
            "zone_help": w["zone_help"].format(zone=settings.default_timezone),
            "values": {"category": "autre", **(values or {})},
            # In the form's order, as the summary at the top lists them.
            "errors": {name: errors[name] for name in TEXT_FIELDS if name in errors},
            "others": others or [],
            "message": message,
        },
        status=status,
        headers={**NO_STORE, **(headers or {})},
    )
    set_login_nonce(response, settings, nonce, path=PATH)
    return response


async def proposer_page(request: Request) -> Response:
    nonce, _ = login_nonce(request)
    return _page(request, nonce=nonce)


def _moments(values: dict[str, str], w: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The proposal's start, end and all_day from the form's date and times; errors by field.

    An end time before the start time is on the next day (a concert from 22:00 to 02:00).
    """
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(values["date"]) if values["date"] else None
        if day is None:
            errors["date"] = w["need_date"]
    except ValueError:
        day, errors["date"] = None, w["bad_date"]
    if values.get("all_day"):
        return ({"start": day.isoformat(), "all_day": True} if day else {}), errors
    found: dict[str, time | None] = {}
    for field in ("start_time", "end_time"):
        try:
            found[field] = time.fromisoformat(values[field]) if values[field] else None
        except ValueError:
            found[field], errors[field] = None, w["bad_time"]
    start, end = found["start_time"], found["end_time"]
    if start is None and "start_time" not in errors:
        errors["start_time"] = w["need_start"]
    if day is None or start is None:
        return {}, errors
    begins = datetime.combine(day, start)
    moments: dict[str, Any] = {"start": begins.isoformat()}
    if end is not None:
        ends = datetime.combine(day, end)
        moments["end"] = (ends if ends >= begins else ends + timedelta(days=1)).isoformat()
    return moments, errors


def _document(values: dict[str, str]) -> dict[str, Any]:
    """The proposal as ``POST /api/proposals`` takes it, from the form's fields (empty fields
    left out), without its dates."""

    def kept(**fields: Any) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if v not in ("", None, {})}

    location = kept(
        name=values["place_name"],
        address=values["address"],
        postal_code=values["postal_code"],
        city=values["city"],
    )
    online = values["online_url"]
    mode = "mixed" if online and location else "online" if online else "in_person"
    return kept(
        title=kept(fr=values["title_fr"], en=values["title_en"]),
        summary=values["summary"],
        description=values["description"],
        category=values["category"] or "autre",
        location=location or None,
        online_url=online,
        attendance_mode=mode,
        organizer=kept(name=values["organizer_name"], url=values["organizer_url"]) or None,
        price=values["price"],
        proposer=kept(
            name=values["proposer_name"],
            email=values["proposer_email"],
            message=values["proposer_message"],
        )
        or None,
    )


def _field_errors(
    failed: ValidationFailed, values: dict[str, str], w: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The refused proposal's errors by form field, and those no field shows."""
    errors: dict[str, str] = {}
    others: list[str] = []
    for item in failed.errors:
        path = item["field"]
        while path and path not in FIELD_OF:
            path = path.rpartition(".")[0]
        field = FIELD_OF.get(path)
        if field in ("start_time", "end_time") and values["all_day"]:
            field = "date"
        if field is None:
            others.append(f"{item['field']}: {item['message']}")
        elif field not in errors:
            empty = not values.get(field) and field in NEEDED
            errors[field] = w[NEEDED[field] if empty else MESSAGE_OF.get(field, "bad_field")]
    return errors, others


async def _read_within(request: Request, max_bytes: int) -> Request:
    """The request with its body read, refused past ``max_bytes`` (declared or streamed)
    before anything is parsed."""
    body = await read_body(request, max_bytes=max_bytes, types=FORM_TYPES)

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


async def propose(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    ui, lang_query = editor_ui(request)
    w = WORDS[ui]
    nonce, new = login_nonce(request)
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
    most = settings.max_proposal_bytes + (settings.proposal_media_max_bytes if multipart else 0)
    try:
        read = await _read_within(request, most)
        form, picture = await read_form_with_file(
            read,
            secret=None if new else nonce,
            purpose=PURPOSE,
            file_field="picture",
            max_file_bytes=settings.proposal_media_max_bytes,
        )
    except PayloadTooLarge:
        size = math.floor(settings.max_proposal_bytes / 1000)
        message = w["too_large"].format(size=size)
        if multipart:  # most likely the picture
            megabytes = math.floor(settings.proposal_media_max_bytes / 1_000_000)
            message = w["picture_large"].format(size=megabytes) + " " + message
        with contextlib.suppress(TooManyRequests):
            await count_proposal(request)  # refused, but sent: it counts
        return _page(request, nonce=nonce, message=message, status=413)
    except ServiceError as exc:
        return editor_refusal(request, exc)  # not sent from our form: not a proposal
    values = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    values["all_day"] = "1" if form.get("all_day") else ""
    try:
        # Every proposal sent counts towards the hourly limit before it is checked, refused
        # ones and robots' too.
        await count_proposal(request)
    except TooManyRequests as exc:
        message = w["limited"].format(minutes=math.ceil(exc.retry_after / 60))
        headers = {"Retry-After": str(exc.retry_after)}
        return _page(
            request, nonce=nonce, values=values, message=message, status=429, headers=headers
        )
    thanks = RedirectResponse(with_lang(f"{PATH}/merci", lang_query), status_code=303)
    if form.get(HONEYPOT):
        # A robot filled the hidden field: thank it, and keep nothing.
        return thanks
    moments, errors = _moments(values, w)
    document = {**_document(values), **moments}
    if picture is not None:
        image, problem = await _picture(request, picture, values["picture_alt"], w)
        if problem:
            errors[problem[0]] = problem[1]
        else:
            document["image"] = image
    others: list[str] = []
    try:
        if errors:
            # Check the rest too, so that every mistake is shown at once.
            check_proposal({**document, **_placeholder(values)}, settings, every=True)
        else:
            stored, proposer = await submit_proposal(request, document, every=True, lang=ui)
            thanks.background = await editors_told(request, stored, proposer)
            return thanks
    except ValidationFailed as exc:
        found, others = _field_errors(exc, values, w)
        errors = {**found, **errors}
    return _page(request, nonce=nonce, values=values, errors=errors, others=others, status=400)


async def _picture(
    request: Request, data: bytes, alt: str, w: dict[str, str]
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    """The proposal's picture, kept, or the field and message saying why not: it needs its
    alt text, counts towards its own hourly limit per address (in the database, before the
    work), and is kept as an editor's upload is, under its own size limit."""
    settings: Settings = request.app.state.settings
    state = request.app.state
    if not alt:
        return None, ("picture_alt", w["need_picture_alt"])
    key = f"proposal-picture:{client_address(request)}"
    limit = limits.Limit(key, settings.proposal_pictures_per_hour, HOUR_US)
    taken = await limits.take(state.storage, [limit])
    if taken.retry_after is not None:
        return None, ("picture", w["picture_limited"])
    try:
        record, _ = await keep_upload(
            state.media,
            state.image_work,
            data,
            max_bytes=settings.proposal_media_max_bytes,
            max_pixels=settings.media_max_pixels,
        )
    except ImageTypeRefused:
        return None, ("picture", w["picture_type"])
    except PayloadTooLarge:
        size = math.floor(settings.proposal_media_max_bytes / 1_000_000)
        return None, ("picture", w["picture_large"].format(size=size))
    except ServiceError:
        return None, ("picture", w["picture_damaged"])
    return {"media": record.id, "alt": {settings.default_language: alt}}, None


def _placeholder(values: dict[str, str]) -> dict[str, Any]:
    """Valid dates standing for the form's faulty ones while the other fields are checked."""
    if values["all_day"]:
        return {"start": "2030-01-01", "end": None, "all_day": True}
    return {"start": "2030-01-01T12:00:00", "end": None}


async def thanks_page(request: Request) -> Response:
    ui, lang_query = editor_ui(request)
    return render_page(
        request,
        "pages/proposer_thanks.html",
        {"ui": ui, "w": WORDS[ui], "lang_query": lang_query},
    )


routes = [
    Route(PATH, proposer_page, methods=["GET"]),
    Route(PATH, propose, methods=["POST"]),
    Route(f"{PATH}/merci", thanks_page, methods=["GET"]),
]
