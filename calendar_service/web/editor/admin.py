"""The administrators' pages: editors' accounts (create, disable, enable) and API tokens
(create, shown once; revoke). Every page needs the admin role; editors get 403.

Disabling an account and revoking a token each ask for a confirmation on a page of their own,
so that they work without JavaScript; a token's secret is shown once, on the page answering
the form that created it, never in a URL.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from calendar_service.dates import from_epoch, zone
from calendar_service.db import accounts
from calendar_service.db import tokens as token_store
from calendar_service.db.accounts import Session, User
from calendar_service.db.connection import Storage
from calendar_service.digits import is_number
from calendar_service.errors import Conflict, NotFound, ServiceError, ValidationFailed
from calendar_service.settings import Settings
from calendar_service.web.editor.common import editor_refusal, editor_ui, render_editor, with_lang
from calendar_service.web.editor.sessions import read_form, require_session

USERS = "/editor/users"
TOKENS = "/editor/tokens"
MAX_TOKEN_NAME = 100

WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "users_title": "Comptes",
        "users_lead": (
            "Les personnes qui publient l'agenda. Un compte désactivé ne peut plus se "
            "connecter\u00a0; ses sessions sont fermées."
        ),
        "users_caption": "Comptes existants",
        "email": "Adresse e-mail",
        "role": "Rôle",
        "role_editor": "Éditeur ou éditrice",
        "role_admin": "Administrateur ou administratrice",
        "role_editor_help": "publie et modifie les événements, traite les propositions",
        "role_admin_help": "en plus, gère les comptes et les jetons d'API",
        "created": "Créé le",
        "state": "État",
        "active": "Actif",
        "disabled_since": "Désactivé le {when}",
        "actions": "Action",
        "you": "(vous)",
        "disable": "Désactiver",
        "disable_label": "Désactiver le compte {email}",
        "enable": "Réactiver",
        "enable_label": "Réactiver le compte {email}",
        "new_user": "Créer un compte",
        "password": "Mot de passe initial",
        "password_help": (
            "Au moins {n} caractères. Transmettez-le à la personne, qui le changera ensuite."
        ),
        "password_again": "Mot de passe initial, une seconde fois",
        "create_user": "Créer le compte",
        "need_email": "Indiquez une adresse e-mail.",
        "bad_email": "Ce n'est pas une adresse e-mail valide.",
        "duplicate": "Il existe déjà un compte pour cette adresse.",
        "need_role": "Choisissez un rôle.",
        "too_short": "Le mot de passe doit avoir au moins {n} caractères.",
        "too_long": "Le mot de passe est trop long.",
        "mismatch": "Les deux saisies du mot de passe diffèrent.",
        "user_created": "Compte créé pour {email}.",
        "user_disabled": "Compte de {email} désactivé\u00a0; ses sessions sont fermées.",
        "user_enabled": "Compte de {email} réactivé.",
        "no_user": "Il n'y a pas de compte n°{id}.",
        "not_yourself": (
            "Vous ne pouvez pas désactiver votre propre compte\u00a0: demandez-le à un autre "
            "administrateur ou une autre administratrice."
        ),
        "confirm_disable": "Désactiver le compte {email}\u00a0?",
        "confirm_disable_text": (
            "Cette personne ne pourra plus se connecter et ses sessions ouvertes seront "
            "fermées tout de suite. Vous pourrez réactiver le compte ensuite."
        ),
        "confirm_disable_yes": "Oui, désactiver le compte",
        "confirm_no": "Non, revenir à la liste",
        "tokens_title": "Jetons d'API",
        "tokens_lead": (
            "Les jetons permettent à d'autres logiciels d'écrire dans l'agenda par l'API "
            "(en-tête «\u00a0Authorization: Bearer …\u00a0»). Un jeton révoqué cesse de "
            "marcher aussitôt."
        ),
        "tokens_caption": "Jetons",
        "none_tokens": "Aucun jeton pour l'instant.",
        "name": "Nom",
        "name_help": (
            "Qui s'en sert, par exemple «\u00a0Site de la mairie\u00a0» ({n} caractères au plus)."
        ),
        "prefix": "Début du jeton",
        "revoked_on": "Révoqué le {when}",
        "revoke": "Révoquer",
        "revoke_label": "Révoquer le jeton {name}",
        "new_token": "Créer un jeton",
        "create_token": "Créer le jeton",
        "need_name": "Indiquez un nom.",
        "long_name": "Le nom doit faire au plus {n} caractères.",
        "token_created": "Jeton «\u00a0{name}\u00a0» créé.",
        "secret": "Le jeton",
        "secret_once": (
            "Copiez-le maintenant et gardez-le en lieu sûr\u00a0: il ne sera plus jamais affiché. "
            "S'il est perdu, révoquez-le et créez-en un autre."
        ),
        "token_revoked": "Jeton «\u00a0{name}\u00a0» révoqué.",
        "no_token": "Il n'y a pas de jeton n°{id} en service.",
        "confirm_revoke": "Révoquer le jeton {name}\u00a0?",
        "confirm_revoke_text": (
            "Les logiciels qui s'en servent ne pourront plus écrire dans l'agenda, dès "
            "maintenant. Cela ne peut pas être annulé\u00a0: il faudra créer un autre jeton."
        ),
        "confirm_revoke_yes": "Oui, révoquer le jeton",
    },
    "en": {
        "users_title": "Accounts",
        "users_lead": (
            "The people who publish the calendar. A disabled account can no longer sign in; "
            "its sessions are ended."
        ),
        "users_caption": "Existing accounts",
        "email": "E-mail address",
        "role": "Role",
        "role_editor": "Editor",
        "role_admin": "Administrator",
        "role_editor_help": "publishes and edits events, handles proposals",
        "role_admin_help": "also manages accounts and API tokens",
        "created": "Created on",
        "state": "State",
        "active": "Active",
        "disabled_since": "Disabled on {when}",
        "actions": "Action",
        "you": "(you)",
        "disable": "Disable",
        "disable_label": "Disable the account {email}",
        "enable": "Enable",
        "enable_label": "Enable the account {email} again",
        "new_user": "Create an account",
        "password": "Initial password",
        "password_help": "At least {n} characters. Give it to the person, who will change it.",
        "password_again": "Initial password, once more",
        "create_user": "Create the account",
        "need_email": "Enter an e-mail address.",
        "bad_email": "This is not a valid e-mail address.",
        "duplicate": "There is already an account for this address.",
        "need_role": "Choose a role.",
        "too_short": "The password must have at least {n} characters.",
        "too_long": "The password is too long.",
        "mismatch": "The two entries of the password differ.",
        "user_created": "Account created for {email}.",
        "user_disabled": "The account of {email} is disabled; its sessions are ended.",
        "user_enabled": "The account of {email} is enabled again.",
        "no_user": "There is no account no. {id}.",
        "not_yourself": "You cannot disable your own account: ask another administrator.",
        "confirm_disable": "Disable the account {email}?",
        "confirm_disable_text": (
            "This person will no longer be able to sign in, and their open sessions end at "
            "once. You can enable the account again later."
        ),
        "confirm_disable_yes": "Yes, disable the account",
        "confirm_no": "No, back to the list",
        "tokens_title": "API tokens",
        "tokens_lead": (
            "Tokens let other software write to the calendar through the API "
            "(header “Authorization: Bearer …”). A revoked token stops working at once."
        ),
        "tokens_caption": "Tokens",
        "none_tokens": "No token yet.",
        "name": "Name",
        "name_help": "Who uses it, for example “Town hall website” (at most {n} characters).",
        "prefix": "Token starts with",
        "revoked_on": "Revoked on {when}",
        "revoke": "Revoke",
        "revoke_label": "Revoke the token {name}",
        "new_token": "Create a token",
        "create_token": "Create the token",
        "need_name": "Enter a name.",
        "long_name": "The name must be at most {n} characters.",
        "token_created": "Token “{name}” created.",
        "secret": "The token",
        "secret_once": (
            "Copy it now and keep it somewhere safe: it will never be shown again. If it is "
            "lost, revoke it and create another one."
        ),
        "token_revoked": "Token “{name}” revoked.",
        "no_token": "There is no token no. {id} in use.",
        "confirm_revoke": "Revoke the token {name}?",
        "confirm_revoke_text": (
            "The software using it will no longer be able to write to the calendar, from now "
            "on. This cannot be undone: another token will have to be created."
        ),
        "confirm_revoke_yes": "Yes, revoke the token",
    },
}


def _stamp(us: int | None, settings: Settings, ui: str) -> dict[str, str] | None:
    """A stored instant as the page shows it, in the service's zone, and as ISO 8601."""
    if us is None:
        return None
    moment = from_epoch(us // 1_000_000, zone(settings.default_timezone))
    shown = moment.strftime("%d/%m/%Y %H:%M" if ui == "fr" else "%Y-%m-%d %H:%M")
    return {"shown": shown, "iso": moment.isoformat()}


def _redirect(request: Request, path: str) -> RedirectResponse:
    _, lang_query = editor_ui(request)
    return RedirectResponse(with_lang(path, lang_query), status_code=303)


def _int_query(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if is_number(value) and len(value) < 12 else None


# --- accounts -------------------------------------------------------------------------------


def _user_view(account: User, settings: Settings, ui: str) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "role": account.role,
        "created": _stamp(account.created_us, settings, ui),
        "disabled": _stamp(account.disabled_us, settings, ui),
    }


async def _users_page(
    request: Request,
    session: Session,
    user: User,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    ui, _ = editor_ui(request)
    settings: Settings = request.app.state.settings
    w = WORDS[ui]
    found = await accounts.list_users(request.app.state.storage)
    return render_editor(
        request,
        "pages/editor_users.html",
        session,
        user,
        {
            "w": w,
            "accounts": [_user_view(a, settings, ui) for a in found],
            "roles": token_store.ROLES,
            "form": form or {"role": "editor"},
            "errors": errors or {},
            "message": message,
            "notice": notice,
            "password_help": w["password_help"].format(n=accounts.MIN_PASSWORD_LENGTH),
            "min_password": accounts.MIN_PASSWORD_LENGTH,
        },
        status=status,
    )


async def _users_notice(request: Request, w: dict[str, str]) -> str | None:
    """The confirmation named by the query after a redirect (``?created=<id>`` ...)."""
    storage: Storage = request.app.state.storage
    for done in ("created", "disabled", "enabled"):
        user_id = _int_query(request, done)
        if user_id is not None:
            account = await accounts.get_user(storage, user_id=user_id)
            return w[f"user_{done}"].format(email=account.email) if account else None
    return None


async def users_page(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    ui, _ = editor_ui(request)
    notice = await _users_notice(request, WORDS[ui])
    return await _users_page(request, session, user, notice=notice)


def _new_user_problems(form: dict[str, str], w: dict[str, str]) -> dict[str, str]:
    """The errors of the new account form, by field (the database checks duplicates)."""
    errors = {}
    email, password = form["email"], form["password"]
    if not email:
        errors["email"] = w["need_email"]
    else:
        try:
            accounts.normalise_email(email)
        except ValidationFailed:
            errors["email"] = w["bad_email"]
    if form["role"] not in token_store.ROLES:
        errors["role"] = w["need_role"]
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        errors["password"] = w["too_short"].format(n=accounts.MIN_PASSWORD_LENGTH)
    elif accounts.password_problem(password):
        errors["password"] = w["too_long"]
    elif password != form["password_again"]:
        errors["password_again"] = w["mismatch"]
    return errors


async def create_user(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    try:
        sent = await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    form = {
        "email": sent.get("email", "").strip()[:254],
        "role": sent.get("role", ""),
        "password": sent.get("password", ""),
        "password_again": sent.get("password_again", ""),
    }
    # Passwords are never sent back to the page.
    kept = {"email": form["email"], "role": form["role"]}
    errors = _new_user_problems(form, w)
    if errors:
        return await _users_page(request, session, user, form=kept, errors=errors, status=400)
    try:
        created = await accounts.create_user(
            request.app.state.storage,
            email=form["email"],
            password=form["password"],
            role=form["role"],  # type: ignore[arg-type]
        )
    except Conflict:
        errors = {"email": w["duplicate"]}
        return await _users_page(request, session, user, form=kept, errors=errors, status=400)
    return _redirect(request, f"{USERS}?created={created.id}")


async def _account(request: Request, w: dict[str, str]) -> User | Response:
    """The account named in the path, or the page saying there is none (404)."""
    user_id: int = request.path_params["user_id"]
    account = await accounts.get_user(request.app.state.storage, user_id=user_id)
    if account is None:
        return editor_refusal(request, NotFound(w["no_user"].format(id=user_id)))
    return account


async def confirm_disable(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    ui, lang_query = editor_ui(request)
    w = WORDS[ui]
    account = await _account(request, w)
    if isinstance(account, Response):
        return account
    if account.id == user.id:
        return await _users_page(request, session, user, message=w["not_yourself"], status=400)
    return render_editor(
        request,
        "pages/editor_confirm_admin.html",
        session,
        user,
        {
            "w": w,
            "heading": w["confirm_disable"].format(email=account.email),
            "explanation": w["confirm_disable_text"],
            "action": f"{USERS}/{account.id}/disable{lang_query}",
            "yes": w["confirm_disable_yes"],
            "back": f"{USERS}{lang_query}",
        },
    )


async def disable_user(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    try:
        await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    account = await _account(request, w)
    if isinstance(account, Response):
        return account
    if account.id == user.id:
        return await _users_page(request, session, user, message=w["not_yourself"], status=400)
    await accounts.set_disabled(request.app.state.storage, user_id=account.id, disabled=True)
    return _redirect(request, f"{USERS}?disabled={account.id}")


async def enable_user(request: Request) -> Response:
    session, _ = await require_session(request, "admin")
    try:
        await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    account = await _account(request, WORDS[ui])
    if isinstance(account, Response):
        return account
    await accounts.set_disabled(request.app.state.storage, user_id=account.id, disabled=False)
    return _redirect(request, f"{USERS}?enabled={account.id}")


# --- API tokens -----------------------------------------------------------------------------


def _token_view(token: token_store.Token, settings: Settings, ui: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "prefix": token.prefix,
        "created": _stamp(token.created_us, settings, ui),
        "revoked": _stamp(token.revoked_us, settings, ui),
    }


async def _tokens_page(
    request: Request,
    session: Session,
    user: User,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    ui, _ = editor_ui(request)
    settings: Settings = request.app.state.settings
    w = WORDS[ui]
    found = await token_store.list_tokens(request.app.state.storage)
    return render_editor(
        request,
        "pages/editor_tokens.html",
        session,
        user,
        {
            "w": w,
            "tokens": [_token_view(t, settings, ui) for t in found],
            "roles": token_store.ROLES,
            "form": form or {"role": "editor"},
            "errors": errors or {},
            "notice": notice,
            "secret": secret,
            "name_help": w["name_help"].format(n=MAX_TOKEN_NAME),
            "max_name": MAX_TOKEN_NAME,
        },
        status=status,
    )


async def _find_token(storage: Storage, token_id: int) -> token_store.Token | None:
    return next((t for t in await token_store.list_tokens(storage) if t.id == token_id), None)


async def tokens_page(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    ui, _ = editor_ui(request)
    notice = None
    revoked_id = _int_query(request, "revoked")
    if revoked_id is not None:
        token = await _find_token(request.app.state.storage, revoked_id)
        notice = WORDS[ui]["token_revoked"].format(name=token.name) if token else None
    return await _tokens_page(request, session, user, notice=notice)


async def create_token(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    try:
        sent = await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    w = WORDS[ui]
    form = {"name": sent.get("name", "").strip(), "role": sent.get("role", "")}
    errors = {}
    if not form["name"]:
        errors["name"] = w["need_name"]
    elif len(form["name"]) > MAX_TOKEN_NAME:
        errors["name"] = w["long_name"].format(n=MAX_TOKEN_NAME)
    if form["role"] not in token_store.ROLES:
        errors["role"] = w["need_role"]
    if errors:
        return await _tokens_page(request, session, user, form=form, errors=errors, status=400)
    token, secret = await token_store.create_token(
        request.app.state.storage,
        name=form["name"],
        role=form["role"],  # type: ignore[arg-type]
    )
    notice = w["token_created"].format(name=token.name)
    # The secret is on this page only: answering the POST, not after a redirect to a URL.
    return await _tokens_page(request, session, user, notice=notice, secret=secret, status=201)


async def _live_token(request: Request, w: dict[str, str]) -> token_store.Token | Response:
    token_id: int = request.path_params["token_id"]
    token = await _find_token(request.app.state.storage, token_id)
    if token is None or token.revoked_us is not None:
        return editor_refusal(request, NotFound(w["no_token"].format(id=token_id)))
    return token


async def confirm_revoke(request: Request) -> Response:
    session, user = await require_session(request, "admin")
    ui, lang_query = editor_ui(request)
    w = WORDS[ui]
    token = await _live_token(request, w)
    if isinstance(token, Response):
        return token
    return render_editor(
        request,
        "pages/editor_confirm_admin.html",
        session,
        user,
        {
            "w": w,
            "heading": w["confirm_revoke"].format(name=token.name),
            "explanation": w["confirm_revoke_text"],
            "action": f"{TOKENS}/{token.id}/revoke{lang_query}",
            "yes": w["confirm_revoke_yes"],
            "back": f"{TOKENS}{lang_query}",
        },
    )


async def revoke_token(request: Request) -> Response:
    session, _ = await require_session(request, "admin")
    try:
        await read_form(request, secret=session.csrf_secret, purpose="session")
    except ServiceError as exc:
        return editor_refusal(request, exc)
    ui, _ = editor_ui(request)
    token = await _live_token(request, WORDS[ui])
    if isinstance(token, Response):
        return token
    await token_store.revoke_token(request.app.state.storage, token_id=token.id)
    return _redirect(request, f"{TOKENS}?revoked={token.id}")


routes = [
    Route(USERS, users_page, methods=["GET"]),
    Route(USERS, create_user, methods=["POST"]),
    Route(USERS + "/{user_id:int}/disable", confirm_disable, methods=["GET"]),
    Route(USERS + "/{user_id:int}/disable", disable_user, methods=["POST"]),
    Route(USERS + "/{user_id:int}/enable", enable_user, methods=["POST"]),
    Route(TOKENS, tokens_page, methods=["GET"]),
    Route(TOKENS, create_token, methods=["POST"]),
    Route(TOKENS + "/{token_id:int}/revoke", confirm_revoke, methods=["GET"]),
    Route(TOKENS + "/{token_id:int}/revoke", revoke_token, methods=["POST"]),
]
