"""Whole numbers as people and clients type them: ASCII digits only.

``str.isdigit()`` is true for "²" (which ``int()`` refuses: a 500) and for "٣" (which ``int()``
reads as 3); ids, limits, pages and counts take 0-9 alone.
"""

from __future__ import annotations


def is_number(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits."""
    return text.isascii() and text.isdigit()


def number_or_none(text: str, *, most_digits: int = 18) -> int | None:
    """The whole number ``text`` spells in ASCII digits (at most ``most_digits`` of them), or
    ``None``."""
    if not is_number(text) or len(text) > most_digits:
        return None
    return int(text)
