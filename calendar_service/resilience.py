"""One bad row degrades itself, never the page or feed that holds it.

An event stored by an older version, or edited in the database by hand, may hold a value the
renderers no longer take (a time zone calendars do not share, a rule from before the limits).
Shared outputs (the home page, the widget, feeds, digests, listings) render each row on its
own: a row that fails is left out and logged with its id, and the others are served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

logger = logging.getLogger(__name__)

Row = TypeVar("Row")
Out = TypeVar("Out")


def render_each(
    rows: Iterable[Row], render: Callable[[Row], Out], *, what: str, ident: Callable[[Row], object]
) -> list[Out]:
    """``render(row)`` for every row that renders; the others are logged and left out."""
    done: list[Out] = []
    for row in rows:
        try:
            done.append(render(row))
        except Exception:  # any fault of one row stays with that row
            logger.exception("left out of %s: event %s could not be rendered", what, ident(row))
    return done
