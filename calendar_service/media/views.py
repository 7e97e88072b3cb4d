"""What each output shows of an event's uploaded picture: pure functions of the event's
``image`` (its ``media`` id, size and focal point, which the service fills in) and the base URL.
No database is read: the files' names and sizes follow from the master's size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from calendar_service.media.sizes import (
    CENTRE,
    CROPS,
    MAIL_WIDTH,
    crop_name,
    responsive_widths,
    size_at,
)

FEED_WIDTH = 1024  # the size feeds (RSS, JSON Feed, iCalendar) point at


@dataclass(frozen=True)
class File:
    """One file of a picture: its absolute URL, size and type."""

    url: str
    width: int
    height: int
    content_type: str


def uploaded(image: Any) -> TypeGuard[dict[str, Any]]:
    """Whether ``image`` (an event's) names an uploaded picture whose size is known."""
    return (
        isinstance(image, dict)
        and isinstance(image.get("media"), str)
        and isinstance(image.get("width"), int)
        and isinstance(image.get("height"), int)
    )


def _root(base_url: str, image: dict[str, Any]) -> str:
    return f"{base_url}/media/{image['media']}"


def _focus(image: dict[str, Any]) -> tuple[int, int]:
    focus = image.get("focus")
    if isinstance(focus, list) and len(focus) == 2:
        return int(focus[0]), int(focus[1])
    return CENTRE


def sized(base_url: str, image: dict[str, Any], shown: int, kind: str = "jpg") -> File:
    """The responsive file nearest above ``shown`` pixels wide (or the largest)."""
    width, height = image["width"], image["height"]
    widths = responsive_widths(width)
    chosen = next((w for w in widths if w >= shown), widths[-1])
    w, h = size_at(width, height, chosen)
    content_type = "image/webp" if kind == "webp" else "image/jpeg"
    return File(f"{_root(base_url, image)}/{chosen}.{kind}", w, h, content_type)


def srcset(base_url: str, image: dict[str, Any], kind: str) -> str:
    """Every responsive file of one kind ("webp" or "jpg"), as an HTML ``srcset``."""
    root = _root(base_url, image)
    return ", ".join(f"{root}/{w}.{kind} {w}w" for w in responsive_widths(image["width"]))


def mail(base_url: str, image: dict[str, Any]) -> File:
    """The newsletter's JPEG, at the block's width (or the picture's, if narrower)."""
    w, h = size_at(image["width"], image["height"], MAIL_WIDTH)
    return File(f"{_root(base_url, image)}/mail.jpg", w, h, "image/jpeg")


def crop(base_url: str, image: dict[str, Any], ratio: str) -> File:
    """The crop of ``ratio`` (a key of ``CROPS``) around the image's focal point."""
    w, h = CROPS[ratio]
    name = crop_name(ratio, _focus(image))
    return File(f"{_root(base_url, image)}/{name}", w, h, "image/jpeg")


def feed(base_url: str, image: dict[str, Any]) -> File:
    """The JPEG that feeds point at."""
    return sized(base_url, image, FEED_WIDTH)
