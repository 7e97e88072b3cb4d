"""Pure text conversions of the Markdown that editors write in descriptions."""

from __future__ import annotations

import functools
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token


@functools.cache
def _parser() -> MarkdownIt:
    # Raw HTML in a description is shown as text, never interpreted.
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    href_stack: list[str | None] = []
    label_start: list[int] = []
    for token in children:
        if token.type in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif token.type == "softbreak":
            out.append(" ")
        elif token.type == "hardbreak":
            out.append("\n")
        elif token.type == "link_open":
            href = token.attrGet("href")
            href_stack.append(str(href) if href is not None else None)
            label_start.append(len(out))
        elif token.type == "link_close" and href_stack:
            href = href_stack.pop()
            label = "".join(out[label_start.pop() :])
            if href and href not in (label, f"mailto:{label}"):
                out.append(f" ({href})")
        elif token.type == "image":
            alt = "".join(c.content for c in token.children or [])
            if alt:
                out.append(alt)
    return "".join(out)


# Link and image openers past this number are written as text: a description with hundreds of
# "[" is not made of links, and each opener makes the parser look ahead for its end.
MAX_LINK_OPENERS = 200
# A bracket not already escaped (after an even number of backslashes).
_BRACKET = re.compile(r"(?<!\\)((?:\\\\)*)([\[\]])")


def bounded(source: str) -> str:
    """The source the renderers parse: past ``MAX_LINK_OPENERS`` brackets, each one is escaped
    (shown as typed, never parsed as a link), so the cost stays small."""
    if source.count("[") <= MAX_LINK_OPENERS:
        return source
    return _BRACKET.sub(lambda m: m.group(1) + "\\" + m.group(2), source)


@functools.lru_cache(maxsize=256)
def markdown_to_text(source: str) -> str:
    """Plain text for places that show no markup (iCalendar DESCRIPTION, text e-mails).

    Paragraphs are separated by a blank line, list items start with "- " (or "1. "), and a
    link keeps its address in brackets after its words.
    """
    if not source.strip():
        return ""
    blocks: list[str] = []
    prefixes: list[str] = []
    counters: list[int] = []
    pending_item = ""
    list_started = False
    for token in _parser().parse(bounded(source)):
        if token.type == "bullet_list_open":
            prefixes.append("- ")
            counters.append(0)
            list_started = len(prefixes) == 1
        elif token.type == "ordered_list_open":
            start = token.attrGet("start")
            prefixes.append("1. ")
            counters.append(int(start) - 1 if start is not None else 0)
            list_started = len(prefixes) == 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefixes.pop()
            counters.pop()
        elif token.type == "list_item_open":
            counters[-1] += 1
            marker = prefixes[-1] if prefixes[-1] == "- " else f"{counters[-1]}. "
            pending_item = "  " * (len(prefixes) - 1) + marker
        elif token.type == "inline":
            text = _inline(token.children or [])
            if pending_item:
                text, pending_item = pending_item + text, ""
                if blocks and not list_started:
                    blocks[-1] += "\n" + text
                    continue
                list_started = False
            blocks.append(text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
        elif token.type == "hr":
            blocks.append("—")
    return "\n\n".join(b for b in blocks if b.strip()).strip()


# What a description may keep in an e-mail: text structure and links, nothing that runs, loads
# or lays out (images need sizes e-mails cannot guess; headings belong to the block).
_EMAIL_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code"}
_LINK_SCHEMES = {"http", "https", "mailto"}
# The scheme of an inline link target "](scheme:" or of a reference "[x]: scheme:".
_LINK_TARGET = re.compile(
    r"(?:\]\(\s*<?|^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?)[ \t]*([a-zA-Z][a-zA-Z0-9+.\-]*)[ \t]*:",
    re.MULTILINE,
)


@functools.lru_cache(maxsize=256)
def markdown_to_html(source: str) -> str:
    """The description's Markdown as sanitised HTML (nh3): no script, handler, style or image,
    and links to http(s) and mailto only."""
    rendered = _parser().render(bounded(source))
    return nh3.clean(
        rendered,
        tags=_EMAIL_TAGS,
        attributes={"a": {"href"}},
        url_schemes=_LINK_SCHEMES,
        link_rel="noopener",
    )


@functools.lru_cache(maxsize=256)
def plain_markdown(source: str) -> str | None:
    """The Markdown source itself when a Markdown renderer can only show it as intended (no raw
    HTML, links to http(s) or mailto only); ``None`` when it must be shown as text instead."""
    # markdown-it leaves a link to a refused scheme (javascript:) as text; another renderer
    # might not, so such a source is shown as text.
    for scheme in _LINK_TARGET.findall(source):
        if scheme.lower() not in _LINK_SCHEMES:
            return None
    if bounded(source) != source:
        return None  # too many brackets for another renderer to be trusted with them
    for token in _parser().parse(source):
        if token.type == "html_block":
            return None
        for child in token.children or []:
            if child.type == "html_inline" or (child.type == "text" and "<" in child.content):
                return None
            for name in ("href", "src"):
                url = child.attrGet(name)
                if url is not None and str(url).split(":", 1)[0].lower() not in _LINK_SCHEMES:
                    return None
    return source
