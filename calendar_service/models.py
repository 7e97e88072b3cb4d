"""Pydantic models: what an event looks like on the way in and on the way out.

``EventIn`` checks shapes and single fields; ``normalise.normalise_event`` then checks what
involves several fields (times, time zones, recurrence) against the settings.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from calendar_service.dates import parse_moment
from calendar_service.digits import is_number
from calendar_service.vocabulary import (
    AccessFeature,
    AttendanceMode,
    CategoryId,
    PartnerRole,
    State,
    Status,
)
from calendar_service.zones import check_zone

DEFAULT_LANGUAGE = "fr"
DEFAULT_LANGUAGES = ("fr", "en")
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Control characters (C0 but tab and line breaks, DEL, C1) are never text a person typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Everything that some reader takes for a line break (Python's str.splitlines does).
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\r\n\u2028\u2029])[ \t]*")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    return value


def _one_line(value: str) -> str:
    """A one-line field (a title, a name, a place): line breaks become spaces, so that no
    output (an iCalendar line, an e-mail header, an RSS title) can be split by one."""
    return _LINE_BREAKS.sub(" ", value).strip()


def _lines(value: str) -> str:
    """A text of several lines with plain ``\n`` line breaks."""
    return _LINE_BREAKS.sub(lambda m: "\n", value)


def _http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value


HttpUrl = Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]
PlainText = Annotated[str, AfterValidator(_no_control), AfterValidator(_one_line)]
TextBlock = Annotated[str, AfterValidator(_no_control), AfterValidator(_lines)]
Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]


def _localized(
    value: Any, info: ValidationInfo, max_length: int, *, one_line: bool
) -> dict[str, str]:
    """A per-language map from a plain string (the default language) or a map."""
    context = info.context or {}
    default = context.get("default_language", DEFAULT_LANGUAGE)
    languages = context.get("languages", DEFAULT_LANGUAGES)
    if value is None:
        return {}
    if isinstance(value, str):
        value = {default: value}
    if not isinstance(value, dict):
        raise ValueError('must be a text or a map of language to text, such as {"fr": "..."}')
    result: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in languages:
            raise ValueError(f"unknown language {lang!r}: use one of {', '.join(languages)}")
        if text is None:
            continue
        if not isinstance(text, str):
            raise ValueError(f"the {lang!r} text must be a string")
        text = _one_line(text) if one_line else _lines(text).strip()
        if len(text) > max_length:
            raise ValueError(
                f"the {lang!r} text is {len(text)} characters long; at most {max_length}"
            )
        _no_control(text.replace("\t", " "))
        if text:
            result[lang] = text
    return result


def localized(max_length: int, *, one_line: bool) -> Any:
    """A localized text field of at most ``max_length`` characters per language; a
    ``one_line`` field has its line breaks turned into spaces."""

    def check(value: Any, info: ValidationInfo) -> dict[str, str]:
        return _localized(value, info, max_length, one_line=one_line)

    return BeforeValidator(check)


LocalizedShort = Annotated[dict[str, str], localized(300, one_line=True)]
LocalizedLong = Annotated[dict[str, str], localized(20_000, one_line=False)]
LocalizedNote = Annotated[dict[str, str], localized(500, one_line=True)]


class Strict(BaseModel):
    """Base of every input model: unknown fields are errors, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Location(Strict):
    name: PlainText | None = Field(None, max_length=200)
    address: PlainText | None = Field(None, max_length=300)
    postal_code: PlainText | None = Field(None, max_length=20)
    city: PlainText | None = Field(None, max_length=120)
    country: str = Field("FR", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.")
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lon: float | None = Field(None, ge=-180, le=180, strict=True)


class Organizer(Strict):
    name: PlainText = Field(min_length=1, max_length=200)
    url: HttpUrl | None = None
    email: Email | None = None


class Partner(Strict):
    name: PlainText = Field(min_length=1, max_length=200)
    role: PartnerRole = "partner"
    url: HttpUrl | None = None


class Image(Strict):
    """The event's picture: one uploaded to the service (``media``, the id ``POST /api/media``
    answers; its size is filled in by the service) or one elsewhere (``url``)."""

    url: HttpUrl | None = Field(None, description="A picture on another site (https).")
    media: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="The id of a picture uploaded with POST /api/media.",
        examples=["3f2a9c0d4b5e6f708192a3b4c5d6e7f8"],
    )
    alt: LocalizedShort = Field(default_factory=dict, description="Text alternative, per language.")
    decorative: bool = Field(
        False,
        strict=True,
        description="True for a picture that says nothing the text does not: no alt text then.",
    )
    credit: PlainText | None = Field(None, max_length=200)
    focus: list[Annotated[int, Field(ge=0, le=100, strict=True)]] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Focal point of an uploaded picture, [across, down] in percent: crops for "
        "social cards keep it in view. The centre when absent.",
        examples=[[50, 30]],
    )
    width: int | None = Field(
        None, ge=1, le=20_000, strict=True, description="The file's width in pixels, if known."
    )
    height: int | None = Field(
        None, ge=1, le=20_000, strict=True, description="The file's height in pixels, if known."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Image:
        if (self.url is None) == (self.media is None):
            raise ValueError("give the picture's url, or the media id of an uploaded picture")
        if self.focus is not None and self.media is None:
            raise ValueError("focus applies to an uploaded picture (media)")
        return self


class Accessibility(Strict):
    features: list[AccessFeature] = Field(default_factory=list, max_length=10)
    note: LocalizedShort = Field(default_factory=dict)


class Audience(Strict):
    min_age: int | None = Field(None, ge=0, le=120, strict=True)
    max_age: int | None = Field(None, ge=0, le=120, strict=True)
    note: LocalizedShort = Field(default_factory=dict)


Moment = Annotated[datetime | date, BeforeValidator(lambda v: parse_moment(v, what="date or time"))]


class Recurrence(Strict):
    rrule: str | None = Field(
        None,
        max_length=500,
        examples=["FREQ=WEEKLY;COUNT=8", "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270612"],
    )
    rdates: list[Moment] = Field(default_factory=list, max_length=500)
    exdates: list[Moment] = Field(default_factory=list, max_length=1000)


def _tag(value: str) -> str:
    value = re.sub(r"\s+", "-", value.strip().lower())
    if not value or len(value) > 50 or re.search(r"[,;<>\"'&/\\]", value) or _CONTROL.search(value):
        raise ValueError("a tag is 1 to 50 letters, digits or hyphens")
    return value


Tag = Annotated[str, AfterValidator(_tag)]


class EventIn(Strict):
    """An event as a client writes it (POST), and as ``export`` prints it."""

    uid: str | None = Field(
        None, min_length=1, max_length=255, description="Stable iCalendar UID; generated if absent."
    )
    slug: str | None = Field(None, max_length=120, pattern=SLUG_PATTERN)
    title: LocalizedShort
    summary: LocalizedShort = Field(default_factory=dict)
    description: LocalizedLong = Field(default_factory=dict, description="Markdown source.")
    category: CategoryId = "autre"
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    start: Moment
    end: Moment | None = None
    all_day: bool = Field(False, strict=True)
    timezone: str | None = Field(None, description="IANA time zone; the service default if absent.")
    recurrence: Recurrence | None = None
    location: Location | None = None
    attendance_mode: AttendanceMode = "in_person"
    online_url: HttpUrl | None = None
    organizer: Organizer | None = None
    partners: list[Partner] = Field(default_factory=list, max_length=30)
    url: HttpUrl | None = Field(None, description='The "En savoir plus" page.')
    registration_url: HttpUrl | None = None
    price: LocalizedShort = Field(default_factory=dict)
    image: Image | None = None
    accessibility: Accessibility | None = None
    audience: Audience | None = None
    status: Status = "scheduled"
    status_note: LocalizedNote = Field(
        default_factory=dict,
        description="Why the event is cancelled, postponed or changed, or what to know about it "
        '(for example "Reporté en raison des grèves"), per language; shown beside the status.',
    )
    state: State = "published"

    @field_validator("uid")
    @classmethod
    def _uid(cls, value: str | None) -> str | None:
        if value is not None and (_CONTROL.search(value) or any(c.isspace() for c in value)):
            raise ValueError("must not contain spaces or control characters")
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and is_number(value):
            raise ValueError("must contain a letter (numbers are event ids)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A stored event is read back as it was written (see ``stored_event``).
        if value is not None and not (info.context or {}).get("stored"):
            check_zone(value)
        return value

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def stored_event(document: dict[str, Any], state: str) -> EventIn:
    """An event as it was stored, read back for its times: its zone is taken as stored (an
    older version may have accepted one that is refused now; see ``resilience``)."""
    return EventIn.model_validate(document | {"state": state}, context={"stored": True})


class Proposer(Strict):
    """Who proposes an event (POST /api/proposals): seen by editors only, never published."""

    name: PlainText | None = Field(None, max_length=200)
    email: Email | None = None
    message: TextBlock | None = Field(None, max_length=2_000, description="A word to the editors.")


# --- output models: documented in the OpenAPI document and checked against responses -------

Text = str | dict[str, str]


class Links(BaseModel):
    self: str
    page: str
    ics: str
    blocks: str


class EventOut(BaseModel):
    """An event as the API returns it. Text fields are maps, or strings with ``?lang=``."""

    id: int
    uid: str
    slug: str
    title: Text
    summary: Text | None
    description: Text | None
    category: CategoryId
    tags: list[str]
    start: str = Field(description="Local time with offset, or a date for all-day events.")
    end: str | None = Field(description="Inclusive last day for all-day events.")
    all_day: bool
    timezone: str
    recurrence: dict[str, Any] | None
    location: dict[str, Any] | None
    attendance_mode: AttendanceMode
    online_url: str | None
    organizer: dict[str, Any] | None
    partners: list[dict[str, Any]]
    url: str | None
    registration_url: str | None
    price: Text | None
    image: dict[str, Any] | None
    accessibility: dict[str, Any] | None
    audience: dict[str, Any] | None
    status: Status
    status_note: Text | None
    state: State
    sequence: int
    created_at: str
    updated_at: str
    published_at: str | None
    links: Links


class Tombstone(BaseModel):
    """What ``updated_since`` returns for a deleted event."""

    id: int
    uid: str
    slug: str
    deleted: Literal[True]
    deleted_at: str
    updated_at: str
    sequence: int


class OccurrenceOut(BaseModel):
    """One dated occurrence of an event, with the event's display fields."""

    event_id: int
    uid: str
    slug: str
    start: str
    end: str | None
    all_day: bool
    timezone: str
    status: Status
    status_note: Text | None
    title: Text
    summary: Text | None
    category: CategoryId
    tags: list[str]
    location: dict[str, Any] | None
    attendance_mode: AttendanceMode
    online_url: str | None
    image: dict[str, Any] | None
    recurring: bool
    links: Links


class EventPage(BaseModel):
    items: list[EventOut | Tombstone]
    next_cursor: str | None


class OccurrencePage(BaseModel):
    items: list[OccurrenceOut]
    next_cursor: str | None


class Category(BaseModel):
    id: CategoryId
    label: Text


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
