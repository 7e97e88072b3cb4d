"""Settings: the only reader of the environment.

Every setting has the ``CALENDAR_`` prefix in the environment (``CALENDAR_DATABASE_URL``...).
``.env.example`` lists each one with its default; a test keeps the two in step. The
``calendar-service`` command also reads a ``.env`` file of the current folder (``read_env_file``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from calendar_service.zones import check_zone

DEFAULT_SECRET = "change-me-this-is-not-a-secret"


class Settings(BaseSettings):
    """Everything the service can be told from outside; one instance, passed down."""

    model_config = SettingsConfigDict(env_prefix="CALENDAR_", extra="forbid", frozen=True)

    environment: Literal["development", "production"] = Field(
        "development", description="'production' refuses unsafe values (http URLs, default secret)."
    )
    database_url: str = Field(
        "sqlite:///./calendar.db",
        description="sqlite:///path/to/file.db (embedded) or postgresql://user@host/db.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of the service, used in every link; required in production. "
        "Unset, `serve` uses the address it listens on.",
    )
    secret_key: str = Field(
        DEFAULT_SECRET, description="Secret for signed values; set it in production."
    )
    default_timezone: str = Field(
        "Europe/Paris", description="IANA zone for events that name none."
    )
    default_language: str = Field("fr", description="Language of plain-string text and fallback.")
    languages: list[str] = Field(["fr", "en"], description="Languages events may be written in.")
    organisation_name: str = Field("Calendrier solidaire", description="Shown in feeds and pages.")
    brand_accent_color: str = Field(
        "#b4235a",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="Accent colour of newsletter blocks (#rrggbb, readable on white).",
    )
    brand_logo_url: str | None = Field(
        None, description="https URL of a PNG or JPEG logo shown atop newsletter digests."
    )
    brand_logo_width: int = Field(160, ge=16, le=600, description="Logo width in pixels.")
    brand_logo_height: int = Field(48, ge=16, le=400, description="Logo height in pixels.")
    templates_dir: Path | None = Field(
        None, description="Folder of templates overriding the built-in ones (newsletter/...)."
    )
    newsletter_days: int = Field(
        31, ge=1, le=366, description="Days a newsletter digest covers when no `to` is given."
    )
    syndication_days: int = Field(
        90, ge=1, le=800, description="Days ahead the RSS and JSON feeds list events for."
    )
    feeds_dir: Path = Field(Path("feeds"), description="Folder of the feeds/*.toml definitions.")
    cors_origins: list[str] = Field(["*"], description="Origins allowed to read the public API.")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="'json' (one object a line), 'text', or 'auto': json in production."
    )
    metrics_token: str | None = Field(
        None,
        min_length=16,
        description="Bearer token /metrics asks for (empty: /metrics answers 404).",
    )
    shutdown_seconds: int = Field(
        20, ge=1, le=3_600, description="Seconds `serve` lets requests finish after SIGTERM."
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1_000, description="Largest request body accepted, in bytes (413 beyond)."
    )
    max_proposal_bytes: int = Field(
        20_000, ge=1_000, description="Largest body POST /api/proposals accepts, in bytes."
    )
    proposals_per_hour: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Proposals an address may send per rolling hour (refused ones count too).",
    )
    media_max_bytes: int = Field(
        20_000_000,
        ge=100_000,
        le=200_000_000,
        description="Largest picture an editor may upload, in bytes.",
    )
    media_max_pixels: int = Field(
        50_000_000,
        ge=1_000_000,
        le=200_000_000,
        description="Largest picture accepted, in pixels (width x height; 422 beyond).",
    )
    proposal_media_max_bytes: int = Field(
        8_000_000,
        ge=100_000,
        le=100_000_000,
        description="Largest picture the public proposal form accepts, in bytes.",
    )
    proposal_pictures_per_hour: int = Field(
        3,
        ge=0,
        le=1_000,
        description="Pictures an address may send with proposals per rolling hour.",
    )
    media_fetch_local: bool = Field(
        False,
        description="Let editors host pictures from plain http and private or loopback "
        "addresses (tests and closed networks; refused in production).",
    )
    media_cache_bytes: int = Field(
        32_000_000, ge=0, description="Memory each process keeps picture files in, in bytes."
    )
    max_import_bytes: int = Field(
        20_000_000, ge=1_000, description="Largest iCalendar file `import` accepts, in bytes."
    )
    import_seconds: float = Field(
        30, gt=0, le=3_600, description="Longest an import may take to read its file, in seconds."
    )
    cache_bytes: int = Field(
        64_000_000,
        ge=1_000_000,
        description="Memory for rendered feeds, files and pages, in bytes (least used go first).",
    )
    block_cache_bytes: int = Field(
        16_000_000, ge=100_000, description="Memory for rendered newsletter blocks, in bytes."
    )
    page_size: int = Field(50, ge=1, le=500, description="Default number of items in a page.")
    max_page_size: int = Field(500, ge=1, le=5_000, description="Largest `limit` a client may ask.")
    max_occurrences: int = Field(
        1_000,
        ge=1,
        le=100_000,
        description="Cap on the occurrences one recurring event expands to.",
    )
    occurrence_horizon_days: int = Field(
        1_100, ge=30, description="How far ahead open-ended recurrences are stored, in days."
    )
    max_window_days: int = Field(
        800, ge=1, description="Longest from/to window /api/occurrences expands, in days."
    )
    lookahead_days: int = Field(
        365,
        ge=7,
        le=800,
        description="How far ahead the home page and the iframe embed look for the next events, "
        "in days (the widget's `horizon` defaults to the same).",
    )
    session_days: int = Field(
        14, ge=1, le=365, description="Days an editor stays signed in without signing in again."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server that sends the proposals' e-mails (empty: no e-mail)."
    )
    smtp_port: int = Field(587, ge=1, le=65_535, description="Port of the SMTP server.")
    smtp_username: str | None = Field(
        None, description="User name on the SMTP server (empty: no sign-in)."
    )
    smtp_password: str | None = Field(None, description="Password on the SMTP server.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="'starttls', 'tls' (implicit, often port 465) or 'none'."
    )
    mail_from: str = Field(
        "agenda@example.org", description="Sender address of the e-mails the service sends."
    )
    notify_editors: bool = Field(
        True, description="E-mail every active editor when a proposal arrives (needs SMTP)."
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("brand_logo_url")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("brand_logo_url must be an absolute https URL (e-mails block http)")
        if parts.path.lower().endswith((".svg", ".webp", ".avif")):
            raise ValueError("brand_logo_url must be a PNG, JPEG or GIF: Outlook shows no other")
        return value

    @model_validator(mode="before")
    @classmethod
    def _empty_base_url_is_unset(cls, data: object) -> object:
        # CALENDAR_BASE_URL= (as in .env.example) leaves the links to follow the listen address.
        if isinstance(data, dict) and data.get("base_url") == "":
            return {k: v for k, v in data.items() if k != "base_url"}
        return data

    @field_validator("smtp_host", "smtp_username", "smtp_password", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _no_token(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def json_logs(self) -> bool:
        """Whether log lines are JSON objects (for log collectors) rather than plain text."""
        if self.log_format == "auto":
            return self.environment == "production"
        return self.log_format == "json"

    @field_validator("templates_dir", mode="before")
    @classmethod
    def _no_folder(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("database_url must start with sqlite:/// or postgresql://")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {self.default_language!r} is not in languages {self.languages}"
            )
        if self.environment == "production":
            problems = []
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                problems.append("CALENDAR_SECRET_KEY must be set to at least 32 random characters")
            parts = urlsplit(self.base_url)
            if "base_url" not in self.model_fields_set:
                problems.append("CALENDAR_BASE_URL must be set to the service's public https URL")
            elif parts.scheme != "https":
                problems.append("CALENDAR_BASE_URL must be an https URL")
            elif parts.hostname in ("localhost", "127.0.0.1", "::1"):
                problems.append("CALENDAR_BASE_URL must be the public host, not localhost")
            if self.media_fetch_local:
                problems.append("CALENDAR_MEDIA_FETCH_LOCAL must be off (it reaches private hosts)")
            if problems:
                raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self


ENV_FILE = Path(".env")


def read_env_file(path: Path = ENV_FILE) -> list[str]:
    """Put the ``CALENDAR_`` settings of a ``.env`` file (when there is one) into the
    environment, where they are not set already: the environment wins, as with Docker and
    systemd. Other names are left alone (a compose ``.env`` may hold ``POSTGRES_PASSWORD``);
    a ``CALENDAR_`` name that is no setting is refused, naming it. Returns the names set."""
    if not path.is_file():
        return []
    from dotenv import dotenv_values

    known = {f"CALENDAR_{name.upper()}" for name in Settings.model_fields}
    values = {k: v for k, v in dotenv_values(path).items() if k.upper().startswith("CALENDAR_")}
    unknown = sorted(k for k in values if k.upper() not in known)
    if unknown:
        raise ValueError(f"{path}: {', '.join(unknown)} is not a setting (see .env.example)")
    taken = [k for k, v in values.items() if v is not None and k not in os.environ]
    for name in taken:
        os.environ[name] = values[name] or ""
    return taken
