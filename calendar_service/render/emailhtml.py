"""E-mail safe HTML: CSS written once and put inline, user text made inert for e-mail tools.

``finish(html, css, lang)`` is the last step of every newsletter block: css-inline copies the
stylesheet into ``style`` attributes, then the fragment is written out again by this module so
that every attribute value is fully escaped (css-inline leaves ``<`` raw inside attributes),
``class`` attributes are dropped (their rules are inline now), merge tags cannot be formed from
user text, and French text gets its typography.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import css_inline

NBSP = "\u00a0"
ZWSP = "\u200b"
VOID = frozenset(
    {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)

# Mailchimp reads *|TAG|*, Brevo {{ ... }} and {% ... %}: a zero-width space between the two
# characters keeps the text as it reads and breaks the delimiter.
_DELIMITERS = re.compile(r"\*\||\|\*|\{\{|\}\}|\{%|%\}")


def neutralise(text: str) -> str:
    """User text that no e-mail tool can read as a merge tag or a template instruction."""
    return _DELIMITERS.sub(lambda m: m.group(0)[0] + ZWSP + m.group(0)[1], text)


# "<" or "&" that could open a tag, a comment or an entity once a reader unescapes the text.
_MARKUP_START = re.compile(r"([<&])(?=[A-Za-z/!?#])")


def plain_title(text: str) -> str:
    """User text for a field that readers may take for HTML after unescaping it once (an RSS
    ``title``, Mailchimp's ``*|RSSITEM:TITLE|*``): neutralised, and a zero-width space after
    any ``<`` or ``&`` that would start a tag or an entity, so it reads as the same words and
    never as markup (feedparser then reads it as text/plain)."""
    return _MARKUP_START.sub(lambda m: m.group(1) + ZWSP, neutralise(text))


def neutralise_url(url: str) -> str:
    """A URL whose ``|``, ``{`` and ``}`` are percent-encoded (the same address, no merge tag)."""
    return url.replace("|", "%7C").replace("{", "%7B").replace("}", "%7D")


# A plain space before ; : ! ? becomes a no-break one; a sign glued to its word gets one when it
# ends the word (so "https://" and "12:30" stay as they are).
_PLAIN_SPACE_BEFORE = re.compile(r"[ \t]+([;:!?]+)")
_GLUED = re.compile(r"(?<=[^\s;:!?])([;:!?]+)(?=\s|$|[»)\]\"'’,.])")
_OPEN_QUOTE = re.compile(r"«[ \t\u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \t\u00a0\u202f]*»")
# "18h30", "18 H" (not inside a URL or a word): "18 h 30".
_HOURS = re.compile(r"(?<![\w/.#=-])([01]?\d|2[0-4]) ?[hH] ?([0-5]\d)?(?![\w/])")


def _hours(match: re.Match[str]) -> str:
    hours = f"{int(match.group(1))}{NBSP}h"
    return hours + (f"{NBSP}{match.group(2)}" if match.group(2) else "")


def french(text: str) -> str:
    """French typography: a no-break space before ``; : ! ?`` and inside « », "18 h 30"."""
    text = _PLAIN_SPACE_BEFORE.sub(lambda m: f"{NBSP}{m.group(1)}", text)
    text = _GLUED.sub(lambda m: f"{NBSP}{m.group(1)}", text)
    text = _OPEN_QUOTE.sub("«" + NBSP, text)
    text = _CLOSE_QUOTE.sub(NBSP + "»", text)
    return _HOURS.sub(_hours, text)


class _Writer(HTMLParser):
    """Writes a parsed fragment out again, escaping everything that is text."""

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        # The language of each open element: French typography follows the nearest ``lang``.
        self.langs: list[tuple[str, str]] = [("", lang)]
        self.out: list[str] = []
        self.last = ""

    @property
    def french(self) -> bool:
        return self.langs[-1][1].startswith("fr")

    def _attrs(self, attrs: list[tuple[str, str | None]]) -> str:
        written = []
        for name, value in attrs:
            if name == "class" or name.startswith("on"):
                continue
            if value is None:
                written.append(f" {name}")
                continue
            value = neutralise_url(value) if name in ("href", "src") else neutralise(value)
            if name == "style":
                value = value.replace(": ", ":").rstrip()
            written.append(f' {name}="{escape(value, quote=True)}"')
        return "".join(written)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            lang = next((v for k, v in attrs if k == "lang" and v), self.langs[-1][1])
            self.langs.append((tag, lang))
        self.out.append(f"<{tag}{self._attrs(attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(f"<{tag}{self._attrs(attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            if len(self.langs) > 1 and self.langs[-1][0] == tag:
                self.langs.pop()
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        data = neutralise(data)
        if self.french:
            # A sign that starts this text but follows a word of the previous one ("<strong>
            # Reportée</strong>: ...") needs its space too.
            if data[:1] in (";", ":", "!", "?") and self.last and not self.last.isspace():
                data = NBSP + data
            data = french(data)
        if data:
            self.last = data[-1]
        self.out.append(escape(data, quote=False))


def rewrite(fragment: str, lang: str) -> str:
    """The fragment written out again: attributes escaped, no classes or comments, no merge
    tags, French typography in French text."""
    writer = _Writer(lang)
    writer.feed(fragment)
    writer.close()
    return "".join(writer.out)


def finish(fragment: str, css: str, lang: str) -> str:
    """``fragment`` with ``css`` inline, ready to paste into an e-mail."""
    inlined = css_inline.inline_fragment(fragment, css)
    # Tables gain a <tbody> on the way through html5ever; it is harmless, and kept.
    return rewrite(inlined, lang)
