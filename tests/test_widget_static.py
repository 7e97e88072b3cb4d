"""The embeddable ``<calendar-events>`` widget (``calendar_service/static/widget.js``), read as a
file: small enough to embed (under 10 KB gzipped), a guarded custom element in a Shadow DOM,
cookie-less requests, and none of the APIs it promises not to use. What it does in a browser is
checked by the browser tests.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

import calendar_service

WIDGET = Path(calendar_service.__file__).parent / "static" / "widget.js"
MAX_GZIPPED = 10_000


def source() -> str:
    return WIDGET.read_text(encoding="utf-8")


def code() -> str:
    """The source without its comments, for checks on what the script does, not says."""
    without_blocks = re.sub(r"/\*.*?\*/", "", source(), flags=re.DOTALL)
    return re.sub(r"(?m)^\s*//.*$|\s//\s.*$", "", without_blocks)


def test_the_widget_is_a_utf8_file() -> None:
    assert WIDGET.is_file()
    assert source().strip()


def test_the_widget_is_under_10_kb_gzipped() -> None:
    size = len(gzip.compress(WIDGET.read_bytes(), compresslevel=9))
    assert size < MAX_GZIPPED, f"widget.js is {size} bytes gzipped"


@pytest.mark.parametrize(
    "needed",
    [
        '"use strict"',
        'customElements.define("calendar-events"',
        "customElements.get(",
        "attachShadow",
        'credentials: "omit"',
        'referrerPolicy: "no-referrer"',
        "AbortController",
        "observedAttributes",
        "textContent",
        "prefers-reduced-motion",
        "prefers-color-scheme",
        ":focus-visible",
        'role", "status"',
    ],
)
def test_the_widget_does(needed: str) -> None:
    assert needed in source()


@pytest.mark.parametrize(
    "forbidden",
    [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "document.cookie",
        "localStorage",
        "sessionStorage",
        "indexedDB",
        "import(",
        "XMLHttpRequest",
        "sendBeacon",
    ],
)
def test_the_widget_does_not_use(forbidden: str) -> None:
    assert forbidden not in source()


def test_the_widget_names_no_host() -> None:
    """The service's address comes from the ``origin`` attribute or the script's own ``src``:
    no absolute address, in code or comments."""
    assert not re.search(r"https?://", source(), flags=re.IGNORECASE)


def test_every_request_goes_through_one_cookie_less_fetch() -> None:
    assert len(re.findall(r"(?<!\w)fetch\(", code())) == 1


def test_the_widget_is_plain_script_without_dependencies() -> None:
    text = code()
    assert not re.search(r"^\s*(import|export)\b", text, flags=re.MULTILINE)
    assert "require(" not in text
