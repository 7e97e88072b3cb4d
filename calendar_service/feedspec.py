"""Named feeds: the ``feeds/*.toml`` files, validated into ``FeedDefinition`` objects.

Each file names one published feed (``feeds/culture.toml`` is ``/feeds/culture.ics``): its
titles, the filter that picks its events, how long past and cancelled events stay, its colour
and how often calendar clients should refresh it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from calendar_service.errors import validation_errors
from calendar_service.vocabulary import CategoryId, Status

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class FeedFileError(Exception):
    """A feed file that cannot be used; the message names the file and the field."""


class FeedFilter(BaseModel):
    """Which events a feed holds; an empty list means "any"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[CategoryId, ...] = ()
    tags: tuple[str, ...] = ()
    organizers: tuple[str, ...] = Field((), description="Organizer names, as written in events.")
    statuses: tuple[Status, ...] = ()


class FeedDefinition(BaseModel):
    """One published feed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    title: dict[str, str] = Field(min_length=1)
    description: dict[str, str] = Field(default_factory=dict)
    filter: FeedFilter = FeedFilter()
    keep_past_days: int = Field(30, ge=0, le=3650, description="Past events stay this long.")
    keep_cancelled_days: int = Field(
        60, ge=0, le=3650, description="Cancelled and deleted events stay this long as CANCELLED."
    )
    color: str = Field("#b4235a", pattern=r"^#[0-9a-fA-F]{6}$")
    refresh_minutes: int = Field(60, ge=5, le=10_080)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("lower-case letters, digits and hyphens only")
        return value

    @field_validator("title", "description")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, text in value.items():
            if not re.match(r"^[a-z]{2}$", lang) or not isinstance(text, str) or not text.strip():
                raise ValueError(f"{lang!r}: give a non-empty text per two-letter language")
        return value

    def text(self, texts: dict[str, str], lang: str, default_language: str) -> str:
        """One language of a title or description, with fallback."""
        return texts.get(lang) or texts.get(default_language) or next(iter(texts.values()), "")


def load_feed(path: Path, *, languages: list[str]) -> FeedDefinition:
    """One feed file; ``FeedFileError`` naming the file and the faulty field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FeedFileError(f"{path}: not valid TOML: {exc}") from None
    data.setdefault("slug", path.stem)
    if data["slug"] != path.stem:
        raise FeedFileError(
            f"{path}: slug: {data['slug']!r} must match the file name {path.stem!r}"
        )
    try:
        feed = FeedDefinition.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in validation_errors(exc))
        raise FeedFileError(f"{path}: {problems}") from None
    if languages[0] not in feed.title and not set(feed.title) & set(languages):
        raise FeedFileError(f"{path}: title: give a title in one of {', '.join(languages)}")
    return feed


def load_feeds(directory: Path, *, languages: list[str]) -> dict[str, FeedDefinition]:
    """Every ``*.toml`` feed of ``directory`` by slug; ``FeedFileError`` on the first bad one."""
    if not directory.is_dir():
        raise FeedFileError(f"{directory}: the feeds directory does not exist")
    feeds = {}
    for path in sorted(directory.glob("*.toml")):
        feed = load_feed(path, languages=languages)
        feeds[feed.slug] = feed
    if not feeds:
        raise FeedFileError(f"{directory}: no feed files (*.toml) found")
    return feeds
