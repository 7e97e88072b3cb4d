"""The editors' moderation queue: the proposals waiting, oldest first, each to edit, accept
(published) or refuse (removed, with a word to the proposer); below, the last decisions.

Deciding locks the event and checks it is still a pending proposal, so that two editors
deciding at once, or a decision on an event edited meanwhile, give a message, not a crash.
Proposers who left an e-mail address are told of the decision (when SMTP is set).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from calendar_service import editing, mail
from calendar_service.dates import from_epoch, zone
from calendar_service.db import proposals as proposal_store
from calendar_service.db.accounts import Session, User
from calendar_service.db.connection import Storage
from calendar_service.db.proposals import Proposal
from calendar_service.errors import Conflict, NotFound, ServiceError
from calendar_service.phrases import date_phrase
from calendar_service.render.newsletter import pick_with_language, place_lines
from calendar_service.settings import Settings
from calendar_service.web.editor.common import editor_refusal, editor_ui, render_editor, with_lang
from calendar_service.web.editor.sessions import read_form, require_session

PATH = "/editor/proposals"
MAX_REPLY = 2_000

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Propositions",
        "lead": (
            "Les événements proposés par le public attendent ici, les plus anciens d'abord. "
            "Ils ne sont visibles nulle part tant qu'ils ne sont pas acceptés."
        ),
        "waiting": "En attente ({n})",
        "none_waiting": "Aucune proposition en attente.",
        "when": "Date",
        "where": "Lieu",
        "online": "En ligne",
        "proposed_by": "Proposé par",
        "anonymous": "(anonyme)",
        "their_message": "Son message",
        "sent": "Reçu le",
        "edit": "Modifier",
        "edit_label": "Modifier «\u00a0{title}\u00a0»",
        "accept": "Accepter et publier",
        "accept_label": "Accepter et publier «\u00a0{title}\u00a0»",
        "refuse": "Refuser",
        "refuse_label": "Refuser «\u00a0{title}\u00a0»",
        "reply": "Message à la personne qui propose (facultatif)",
        "reply_no_email": "Message (facultatif\u00a0; elle n'a pas laissé d'adresse e-mail)",
        "reply_too_long": "Le message doit faire au plus {n} caractères.",
        "decided": "Dernières décisions",
        "none_decided": "Aucune décision pour l'instant.",
        "accepted": "Acceptée",
        "refused": "Refusée",
        "decided_by": "par {who}, le {when}",
        "their_reply": "Réponse",
        "done_accepted": "Proposition acceptée\u00a0: l'événement est publié.",
        "done_refused": "Proposition refusée\u00a0: l'événement est retiré.",
        "not_pending": (
            "Cette proposition n'attend plus de décision\u00a0: elle a déjà été acceptée, refusée "
            "ou retirée entre-temps."
        ),
        "not_found": "Il n'y a pas de proposition pour cet événement.",
        "invalid": "Cet événement ne peut pas être publié tel quel\u00a0: {detail}",
    },
    "en": {
        "title": "Proposals",
        "lead": (
            "Events proposed by the public wait here, oldest first. They are shown nowhere "
            "until they are accepted."
        ),
        "waiting": "Waiting ({n})",
        "none_waiting": "No proposal is waiting.",
        "when": "Date",
        "where": "Place",
        "online": "Online",
        "proposed_by": "Proposed by",
        "anonymous": "(anonymous)",
        "their_message": "Their message",
        "sent": "Received on",
        "edit": "Edit",
        "edit_label": "Edit “{title}”",
        "accept": "Accept and publish",
        "accept_label": "Accept and publish “{title}”",
        "refuse": "Refuse",
        "refuse_label": "Refuse “{title}”",
        "reply": "Message to the person proposing (optional)",
        "reply_no_email": "Message (optional; they left no e-mail address)",
        "reply_too_long": "The message must be at most {n} characters.",
        "decided": "Latest decisions",
        "none_decided": "No decision yet.",
        "accepted": "Accepted",
        "refused": "Refused",
        "decided_by": "by {who}, on {when}",
        "their_reply": "Reply",
        "done_accepted": "Proposal accepted: the event is published.",
        "done_refused": "Proposal refused: the event is removed.",
        "not_pending": (
            "This proposal no longer waits for a decision: it was already accepted, refused "
            "or removed meanwhile."
        ),
        "not_found": "There is no proposal for this event.",
        "invalid": "This event cannot be published as it is: {detail}",
    },
}


def _moment(value: Any) -> date | datetime:
    text = str(value)
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def _stamp(us: int | None, settings: Settings, ui: str) -> tuple[str, str]:
    """A stored instant as the page shows it, in the service's zone, and as ISO 8601."""
    if us is None:
        return "", ""
    moment = from_epoch(us // 1_000_000, zone(settings.default_timezone))
    shown = moment.strftime("%d/%m/%Y %H:%M" if ui == "fr" else "%Y-%m-%d %H:%M")
    return shown, moment.isoformat()


def proposal_view(proposal: Proposal, settings: Settings, ui: str) -> dict[str, Any]:
    """What the queue shows of a proposal (every text escaped by the template)."""
    doc = proposal.event.document
    title, title_lang = pick_with_language(doc.get("title"), ui, settings.default_language)
    end = doc.get("end")
    when = date_phrase(
        _moment(doc["start"]),
        _moment(end) if end is not None else None,
        all_day=bool(doc.get("all_day")),
        lang=ui,
    )
    sent, sent_iso = _stamp(proposal.created_us, settings, ui)
    decided, decided_iso = _stamp(proposal.decided_us, settings, ui)
    return {
        "id": proposal.event.id,
        # Where an accepted proposal is seen by the public (while it is published).
        "public": f"/events/{proposal.event.slug}"
        if proposal.event.state == "published" and proposal.event.deleted_us is None
        else None,
        "title": title,
        "title_lang": title_lang,
        "when": when,
        "place": place_lines(doc),
        "online_url": doc.get("online_url"),
        "name": proposal.name,
        "email": proposal.email,
        "message": proposal.message,
        "sent": sent,
        "sent_iso": sent_iso,
        "decision": proposal.decision,
        "decided_by": proposal.decided_by,
        "decided": decided,
        "decided_iso": decided_iso,
        "reply": proposal.reply,
    }


async def _queue_page(
    request: Request,
    session: Session,
    user: User,
    *,
    message: str | None = None,
    notice: str | None = None,
    replies: dict[int, str] | None = None,
    errors: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    ui, _ = editor_ui(request)
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    waiting = await proposal_store.pending_proposals(storage)
    decided = await proposal_store.decided_proposals(storage)
    return render_editor(
        request,
        "pages/editor_proposals.html",
        session,
        user,
        {
            "w": WORDS[ui],
            "waiting": [proposal_view(p, settings, ui) for p in waiting],
            "decided": [proposal_view(p, settings, ui) for p in decided],
            "message": message,
            "notice": notice,
            "replies": replies or {},
            "errors": errors or {},
            "max_reply": MAX_REPLY,
        },
        status=status,
    )


async def queue(request: Request) -> Response:
    session, user = await require_session(request)
    ui, _ = editor_ui(request)
    done = request.query_params.get("done")
    notice = WORDS[ui][f"done_{done}"] if done in ("accepted", "refused") else None
    return await _queue_page(request, session, user, notice=notice)


async def _waiting(storage: Storage, event_id: int) -> Proposal:
    """The proposal of ``event_id``, locked, still waiting for a decision; otherwise 404 or
    409 (already decided, published or removed meanwhile)."""
    current = await editing.locked_event(storage, str(event_id))
    proposal = await proposal_store.get_proposal(storage, event_id=event_id)
    if proposal is None:
        raise NotFound(f"no proposal for event {event_id}")
    if current.state != "pending" or proposal["decision"] is not None:
        raise Conflict(f"the proposal of event {event_id} no longer waits for a decision")
    return Proposal(
        event=current,
        **{k: proposal[k] for k in proposal_store.PROPOSAL_COLUMNS},
    )


def _problem(error: ServiceError, w: dict[str, str]) -> str:
    """An editor's words for a refused decision."""
    if isinstance(error, NotFound):
        return w["not_found"]
    if error.status in (409, 410):
        return w["not_pending"]
    return w["invalid"].format(detail=error.detail)


def _done(request: Request, decision: str) -> RedirectResponse:
    _, lang_query = editor_ui(request)
    target = with_lang(f"{PATH}?done={decision}", lang_query)
    return RedirectResponse(target, status_code=303)


async def accept(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    event_id: int = request.path_params["event_id"]
    state = request.app.state
    try:
        async with state.storage.transaction():
            proposal = await _waiting(state.storage, event_id)
            stored = await editing.change_event(
                state,
                key=str(event_id),
                changes={"state": "published"},
                actor=user.email,
                action="accepted",
            )
            await proposal_store.record_decision(
                state.storage, event_id=event_id, decision="accepted", by=user.email
            )
    except ServiceError as exc:
        message = _problem(exc, WORDS[ui])
        return await _queue_page(request, session, user, message=message, status=exc.status)
    response = _done(request, "accepted")
    settings: Settings = state.settings
    if proposal.email:
        told = mail.proposal_accepted(
            settings,
            event=stored,
            to=proposal.email,
            lang=proposal.lang or settings.default_language,
        )
        response.background = mail.sending(settings, [told])
    return response


async def refuse(request: Request) -> Response:
    session, user = await require_session(request)
    try:
        form = await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    event_id: int = request.path_params["event_id"]
    reply = form.get("reply", "").strip()
    if len(reply) > MAX_REPLY:
        return await _queue_page(
            request,
            session,
            user,
            replies={event_id: reply},
            errors={event_id: w["reply_too_long"].format(n=MAX_REPLY)},
            status=400,
        )
    state = request.app.state
    try:
        async with state.storage.transaction():
            proposal = await _waiting(state.storage, event_id)
            await editing.remove_event(state, key=str(event_id), actor=user.email, action="refused")
            await proposal_store.record_decision(
                state.storage,
                event_id=event_id,
                decision="refused",
                by=user.email,
                reply=reply or None,
            )
    except ServiceError as exc:
        return await _queue_page(
            request, session, user, message=_problem(exc, w), status=exc.status
        )
    response = _done(request, "refused")
    settings: Settings = state.settings
    if proposal.email:
        told = mail.proposal_refused(
            settings,
            event=proposal.event,
            to=proposal.email,
            reply=reply or None,
            lang=proposal.lang or settings.default_language,
        )
        response.background = mail.sending(settings, [told])
    return response


routes = [
    Route(PATH, queue, methods=["GET"]),
    Route(PATH + "/{event_id:int}/accept", accept, methods=["POST"]),
    Route(PATH + "/{event_id:int}/refuse", refuse, methods=["POST"]),
]
