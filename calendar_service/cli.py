"""The ``calendar-service`` command: serve, migrate, tokens, users, demo data, import, export, feeds
check and newsletter digests."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click
import orjson
from pydantic import ValidationError

from calendar_service.db import accounts as account_store
from calendar_service.db import events as store
from calendar_service.db import search
from calendar_service.db import tokens as token_store
from calendar_service.db.connection import Storage, migrate
from calendar_service.digests import GROUPINGS, BlockCache, Grouping, render_digest
from calendar_service.errors import ServiceError
from calendar_service.feedspec import FeedDefinition, FeedFileError, load_feeds
from calendar_service.media.store import DatabaseMediaStore
from calendar_service.render.ical import RenderContext, renderer
from calendar_service.render.newsletter import FORMATS, Brand, Format, NewsletterTemplates
from calendar_service.schedule import schedule_for
from calendar_service.settings import Settings, read_env_file
from calendar_service.web.cached import local_today
from calendar_service.web.inputs import feed_filter
from calendar_service.zones import accepted_equivalent, accepted_zones

T = TypeVar("T")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a clear message and exit 2 when they are not valid."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = [
            f"  CALENDAR_{'_'.join(map(str, e['loc'])).upper() or 'SETTINGS'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise click.ClickException("invalid settings:\n" + "\n".join(lines)) from None


def run_with_storage(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    """Run ``work`` against a connected database (migrated first)."""
    migrate(settings.database_url)

    async def main() -> T:
        storage = Storage(settings.database_url)
        await storage.connect()
        try:
            return await work(storage)
        finally:
            await storage.disconnect()

    return asyncio.run(main())


def prepare_database(settings: Settings) -> int:
    """Migrate, then render again the stored VEVENTs made by another rendering; how many. Events
    stored with a zone calendars do not share are named (on standard error)."""
    context = RenderContext.from_settings(settings)

    async def work(storage: Storage) -> int:
        count = await store.refresh_renderings(
            storage, render_key=context.key, render=renderer(context)
        )
        indexed = await search.fill_missing(storage)
        if indexed:
            click.echo(f"indexed {indexed} events for search", err=True)
        await storage.optimise()
        for event_id, slug, zone_name in await store.events_in_other_zones(
            storage, accepted=accepted_zones()
        ):
            instead = accepted_equivalent(zone_name)
            click.echo(
                f"event {event_id} ({slug}) is in the time zone {zone_name!r}, which calendars do "
                "not share: feeds leave it out until an editor chooses "
                + (repr(instead) if instead else "another zone"),
                err=True,
            )
        return count

    return run_with_storage(settings, work)


def check_feeds(settings: Settings) -> dict[str, FeedDefinition]:
    """The feed definitions, or a clear error naming the file and the field."""
    try:
        return load_feeds(settings.feeds_dir, languages=settings.languages)
    except FeedFileError as exc:
        raise click.ClickException(f"bad feed definition: {exc}") from None


@click.group()
@click.option("--database-url", help="Overrides CALENDAR_DATABASE_URL.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Events and solidarity calendar service. Settings come from the environment and from a
    .env file of the current folder (the environment wins); see .env.example."""
    try:
        read_env_file()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = {"database_url": database_url}


def _settings(ctx: click.Context) -> Settings:
    return load_settings(database_url=ctx.obj.get("database_url"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(min=1),
    show_default=True,
    help="Processes answering on the port (each has its own caches and connections).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Apply migrations, then serve HTTP until SIGTERM or Ctrl-C, which let the requests in
    flight finish (for CALENDAR_SHUTDOWN_SECONDS at most)."""
    import uvicorn

    from calendar_service import metrics
    from calendar_service.logs import logging_config

    settings = _settings(ctx)
    logging.config.dictConfig(logging_config(json=settings.json_logs))
    if "base_url" not in settings.model_fields_set:
        # Outside production (where the setting is required), links follow the address the
        # service listens on: `make run PORT=9000` gives links on :9000.
        os.environ["CALENDAR_BASE_URL"] = listening_url(host, port)
        settings = _settings(ctx)
        logging.getLogger("calendar_service").info(
            "links point to %s (CALENDAR_BASE_URL changes it)", settings.base_url
        )
    check_feeds(settings)
    prepare_database(settings)
    if ctx.obj.get("database_url"):
        # The workers build their settings from the environment (app_from_environment).
        os.environ["CALENDAR_DATABASE_URL"] = settings.database_url
    signal.signal(signal.SIGTERM, _stopped)
    with metrics.shared_between(workers):
        uvicorn.run(
            "calendar_service.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            timeout_graceful_shutdown=settings.shutdown_seconds,
            access_log=False,  # the service logs each request itself (web/telemetry.py)
            log_config=logging_config(json=settings.json_logs),
        )


def listening_url(host: str, port: int) -> str:
    """The URL of the service as seen from this machine: every address (``0.0.0.0``, ``::``)
    is reached at 127.0.0.1; an IPv6 address is bracketed."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _stopped(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM once uvicorn has stopped (it raises the signal again after a graceful
    shutdown), or before it started: a stop that was asked for ends with status 0."""
    raise SystemExit(0)


@main.command("migrate")
@click.pass_context
def migrate_command(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(ctx)
    rendered = prepare_database(settings)
    if rendered:
        click.echo(f"rendered the calendar entries of {rendered} events again", err=True)
    click.echo("database is up to date", err=True)


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, file: Path) -> None:
    """Copy the whole database to FILE, consistently, while the service runs (SQLite: online
    backup; PostgreSQL: pg_dump --format=custom). An older FILE is replaced."""
    from calendar_service.db.backup import BackupError, backup

    settings = _settings(ctx)
    try:
        backup(settings.database_url, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up the database to {file}", err=True)


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds events.")
@click.pass_context
def restore_command(ctx: click.Context, file: Path, force: bool) -> None:
    """Replace the database with the backup FILE, then apply the migrations it lacks. Stop the
    service first; a database holding events is replaced only with --force."""
    from calendar_service.db.backup import BackupError, restore

    settings = _settings(ctx)
    try:
        restore(settings.database_url, file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    prepare_database(settings)
    count = run_with_storage(settings, store.count_events)
    click.echo(
        f"restored {file}: {count} events, deleted ones included; the database is up to date",
        err=True,
    )


@main.group()
def feeds() -> None:
    """The published feeds (feeds/*.toml)."""


@feeds.command("check")
@click.pass_context
def feeds_check(ctx: click.Context) -> None:
    """Validate every feed file; name the file and the field of any mistake."""
    settings = _settings(ctx.find_root())
    for feed in check_feeds(settings).values():
        title = feed.text(feed.title, settings.default_language, settings.default_language)
        click.echo(f"{feed.slug}\t{title}\t/feeds/{feed.slug}.ics")


@main.group()
def media() -> None:
    """Uploaded pictures: remove those no event uses any more."""


@media.command("prune")
@click.option(
    "--older-than-hours",
    type=click.IntRange(0, 24 * 365),
    default=24,
    show_default=True,
    help="Keep pictures uploaded more recently (an editor may be filling in their event).",
)
@click.option("--dry-run", is_flag=True, help="Name them; remove nothing.")
@click.pass_context
def media_prune(ctx: click.Context, older_than_hours: int, dry_run: bool) -> None:
    """Remove the pictures that no event shows (deleted events show none; proposals waiting
    for a decision do), uploaded more than --older-than-hours ago, with their files."""
    settings = _settings(ctx.find_root())

    async def prune(storage: Storage) -> tuple[list[str], int]:
        pictures = DatabaseMediaStore(storage)
        before = store.now_us() - older_than_hours * 3_600_000_000
        unused = await pictures.unused(created_before_us=before)
        return unused, 0 if dry_run else await pictures.delete(unused)

    unused, removed = run_with_storage(settings, prune)
    for media_id in unused:
        click.echo(media_id)
    if dry_run:
        click.echo(f"{len(unused)} picture(s) no event uses (nothing removed)", err=True)
    else:
        click.echo(f"removed {removed} picture(s) no event uses", err=True)


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@click.option("--name", required=True, help="Who or what uses the token.")
@click.option("--role", type=click.Choice(token_store.ROLES), default="editor", show_default=True)
@click.pass_context
def token_create(ctx: click.Context, name: str, role: token_store.Role) -> None:
    """Print a new token, alone on standard output (it is not shown again)."""
    settings = _settings(ctx.find_root())
    created, secret = run_with_storage(
        settings, lambda s: token_store.create_token(s, name=name, role=role)
    )
    click.echo(f"created token {created.id} ({created.role}) for {created.name!r}", err=True)
    click.echo(secret)


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """List tokens (never their secrets)."""
    found = run_with_storage(_settings(ctx.find_root()), token_store.list_tokens)
    for t in found:
        state = "revoked" if t.revoked_us else "active"
        click.echo(f"{t.id}\t{t.role}\t{state}\t{t.prefix}…\t{t.name}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token by its id (see `token list`)."""
    done = run_with_storage(
        _settings(ctx.find_root()), lambda s: token_store.revoke_token(s, token_id=token_id)
    )
    if not done:
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"revoked token {token_id}", err=True)


@main.group()
def user() -> None:
    """Create and list the accounts of the editor pages."""


def read_new_password() -> str:
    """A new password: asked twice without echo on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        entered: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return entered
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@user.command("create")
@click.option("--email", required=True, help="The address the person signs in with.")
@click.option("--role", type=click.Choice(token_store.ROLES), default="editor", show_default=True)
@click.pass_context
def user_create(ctx: click.Context, email: str, role: token_store.Role) -> None:
    """Create an account; the password is asked for (or read from standard input)."""
    settings = _settings(ctx.find_root())
    try:
        address = account_store.normalise_email(email)
    except ServiceError as exc:
        raise click.ClickException(f"{email!r} is not an e-mail address") from exc
    password = read_new_password()
    problem = account_store.password_problem(password)
    if problem:
        raise click.ClickException(problem)
    try:
        created = run_with_storage(
            settings,
            lambda s: account_store.create_user(s, email=address, password=password, role=role),
        )
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"created {created.role} account {created.id} for {created.email}", err=True)


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List accounts (never their passwords)."""
    found = run_with_storage(_settings(ctx.find_root()), account_store.list_users)
    for u in found:
        state = "disabled" if u.disabled_us else "active"
        click.echo(f"{u.id}\t{u.role}\t{state}\t{u.email}")


@main.command()
@click.option("--if-empty", is_flag=True, help="Only when the database holds no event.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Date the events from this day.")
@click.pass_context
def demo(ctx: click.Context, if_empty: bool, today: Any) -> None:
    """Load the events of the reference newsletter, dated in the coming months."""
    from calendar_service.demo import demo_events
    from calendar_service.normalise import parse_event

    settings = _settings(ctx)
    day = today.date() if today is not None else date.today()

    async def load(storage: Storage) -> int:
        if if_empty and await store.count_events(storage) > 0:
            return 0
        count = 0
        for document in demo_events(day):
            await _create(storage, settings, parse_event(document, settings))
            count += 1
        return count

    count = run_with_storage(settings, load)
    click.echo(
        f"loaded {count} demo events" if count else "database not empty: nothing loaded", err=True
    )


async def _create(storage: Storage, settings: Settings, event: Any) -> store.StoredEvent:
    return await store.create_event(
        storage,
        event=event,
        schedule=schedule_for(event, settings),
        render=renderer(RenderContext.from_settings(settings)),
        default_language=settings.default_language,
        base_url=settings.base_url,
    )


@main.command("import")
@click.argument("source")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--strict", is_flag=True, help="Refuse the whole file if any event is invalid.")
@click.option(
    "--allow-private-addresses",
    is_flag=True,
    help="Fetch a URL whose host is this machine or a private network (refused by default).",
)
@click.pass_context
def import_command(
    ctx: click.Context, source: str, dry_run: bool, strict: bool, allow_private_addresses: bool
) -> None:
    """Import an iCalendar file or URL (Google, Outlook, Thunderbird exports): upsert by UID."""
    from rich.progress import Progress

    from calendar_service.deadline import call_with_deadline
    from calendar_service.fetch import AddressRefused
    from calendar_service.imports import import_events, read_calendar

    settings = _settings(ctx)
    try:
        data = read_source(
            source, max_bytes=settings.max_import_bytes, allow_private=allow_private_addresses
        )
        items = asyncio.run(
            call_with_deadline(
                read_calendar,
                data,
                settings,
                seconds=settings.import_seconds,
                what="reading the file",
            )
        )
    except AddressRefused as exc:
        raise click.ClickException(f"{exc} (--allow-private-addresses fetches it)") from None
    except (OSError, ValueError) as exc:  # ImportFileError and FetchError are ValueErrors
        raise click.ClickException(str(exc)) from None
    except ServiceError as exc:  # DeadlineExceeded
        raise click.ClickException(f"{exc.detail} (CALENDAR_IMPORT_SECONDS)") from None
    context = RenderContext.from_settings(settings)
    with Progress(transient=True, disable=len(items) < 50 or not sys.stderr.isatty()) as bar:
        task = bar.add_task("importing", total=len(items))

        async def work(storage: Storage) -> Any:
            return await import_events(
                storage,
                items=items,
                settings=settings,
                render=renderer(context),
                dry_run=dry_run,
                strict=strict,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                actor=f"import:{source_name(source)}",
            )

        report = run_with_storage(settings, work)
    for rejected in report.rejected:
        click.echo(
            f"rejected {rejected['uid'] or '(no uid)'} {rejected['title']!r}: {rejected['reason']}",
            err=True,
        )
    prefix = "dry run: would have " if dry_run else ""
    click.echo(prefix + report.summary(), err=True)
    if report.refused:
        raise click.ClickException("--strict: the file has invalid events; nothing was written")


def source_name(source: str) -> str:
    """How the history names an import: a URL as given, a file by its name."""
    if source.startswith(("http://", "https://", "webcal://")):
        return source
    return os.path.basename(source) or source


def read_source(source: str, *, max_bytes: int, allow_private: bool = False) -> bytes:
    """The bytes of a file path or an http(s)/webcal URL, at most ``max_bytes``; a URL on this
    machine or a private network only with ``allow_private`` (``fetch.fetch_calendar``)."""
    if source.lower().startswith(("http://", "https://", "webcal://")):
        from calendar_service.fetch import fetch_calendar

        return fetch_calendar(source, max_bytes=max_bytes, allow_private=allow_private)
    with open(source, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{source} is larger than {max_bytes} bytes (CALENDAR_MAX_IMPORT_BYTES)")
    return data


@main.command()
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.pass_context
def export(ctx: click.Context, fmt: str) -> None:
    """Print every event as a JSON array that POST /api/events accepts back."""
    settings = _settings(ctx)
    found = run_with_storage(settings, store.all_events)
    documents = [export_document(e) for e in found]
    sys.stdout.buffer.write(orjson.dumps(documents, option=orjson.OPT_INDENT_2) + b"\n")


def export_document(event: store.StoredEvent) -> dict[str, Any]:
    """An event as an ``EventIn`` document: what a POST needs to recreate it."""
    return {"uid": event.uid, "slug": event.slug, "state": event.state, **event.document}


@main.command("newsletter")
@click.argument("feed")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day [today].")
@click.option(
    "--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included [from + 30 days]."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option("--lang", help="Language of the digest [the default language].")
@click.option(
    "--group",
    type=click.Choice(GROUPINGS),
    default="day",
    show_default=True,
    help="Group events by day or by category.",
)
@click.pass_context
def newsletter_command(
    ctx: click.Context,
    feed: str,
    first: Any,
    last: Any,
    fmt: Format,
    lang: str | None,
    group: Grouping,
) -> None:
    """Print FEED's newsletter digest: the same bytes as GET /newsletter/FEED.FORMAT."""
    settings = _settings(ctx)
    feeds = check_feeds(settings)
    if feed not in feeds:
        raise click.ClickException(f"no feed {feed!r}; there are: {', '.join(sorted(feeds))}")
    lang = lang or settings.default_language
    if lang not in settings.languages:
        raise click.ClickException(
            f"unknown language {lang!r}; use {', '.join(settings.languages)}"
        )
    start: date = first.date() if first else local_today(settings)
    end: date = last.date() if last else start + timedelta(days=settings.newsletter_days - 1)
    if end < start:
        raise click.ClickException(f"--to {end} is before --from {start}")
    definition = feeds[feed]
    templates = NewsletterTemplates(Brand.from_settings(settings), settings.templates_dir)

    async def work(storage: Storage) -> str:
        return await render_digest(
            storage,
            settings=settings,
            templates=templates,
            blocks=BlockCache(),
            flt=feed_filter(definition),
            feed_slug=feed,
            feed_title=definition.text(definition.title, lang, settings.default_language),
            first=start,
            last=end,
            lang=lang,
            group=group,
            fmt=fmt,
        )

    try:
        text = run_with_storage(settings, work)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from None
    sys.stdout.buffer.write(text.encode())
