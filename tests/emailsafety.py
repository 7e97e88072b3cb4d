"""The suite's own email-safety checks of newsletter HTML blocks (standard library only).

``email_problems(html)`` reads a fragment meant to be pasted into a newsletter (Mailchimp,
Brevo, ...) with :class:`html.parser.HTMLParser` and lists every rule it breaks, one readable
message per violation: ``"[rule] <tag> at line:col: detail"`` (``[]`` means safe);
``assert_email_safe(html)`` fails a test with that list and the start of the HTML.

The rules are those of the email clients (Outlook's Word engine, Gmail's CSS filter, dark-mode
colour inversion), of screen readers, of the merge-tag engines and of French typography:

* ``fragment``: no document, script, form, media or HTML5 sectioning element, no ``h1``;
* ``attribute``: no ``on*`` handler, well-formed names (a stray quote breaks them), no duplicate;
* ``lang/dir``: every top-level element carries ``lang`` (equal to ``lang=`` when given) and
  ``dir``; no text outside them; nested ``lang``/``dir`` are allowed but must be valid;
* ``table``: ``role="presentation"`` and integer ``cellpadding``, ``cellspacing``, ``border``;
* ``class/id``: neither attribute, styles are inline;
* ``width``: ``width`` attributes of table/td/th/img are pixel integers <= ``max_width``; CSS
  ``width``/``min-width``/``max-width`` are px <= ``max_width``, %, 0 or a keyword;
* ``url``: ``src`` and ``background`` are ``https://``; ``href`` is ``https://``, ``http://``,
  ``mailto:`` or ``tel:``; never ``javascript:``, ``data:``, relative or ``#anchor``;
* ``img``: ``alt``, integer ``width`` and ``height``, ``display:block`` or ``align``; no
  webp/avif/svg/heic/heif/tiff file;
* ``css``: none of the properties the clients drop or mangle (position, float, flex*, grid*,
  gaps, columns, transform, animation, transition, box-shadow, opacity, background-image), no
  ``var(``/``--custom``, ``rgba(``/``hsl(``/``hsla(``, ``url(``, negative margin, ``!important``,
  ``@import``/``@font-face``, flex or grid ``display``; declarations are ``name: value``;
* ``font``: every ``font-family`` (and ``font`` shorthand) ends with a generic family and names no
  web font service;
* ``colour``: ``color`` and a background colour (``background-color``, ``background`` or
  ``bgcolor``) are set together, as ``#rgb``/``#rrggbb``;
* ``link``: every ``a`` has an ``href`` and a label (its text, else the alts of its images) that
  is not a vague one ("ici", "read more", ... compared case-insensitively, whitespace collapsed,
  trailing dots, ellipsis and arrows ignored); no link inside a link;
* ``merge-tag``: no ``*|``, ``|*``, ``{{``, ``}}``, ``{%``, ``%}`` in the decoded text, in an
  attribute value or in a comment;
* ``structure``: at least one ``h2`` or ``h3``;
* ``typography``: in text whose nearest ``lang`` starts with ``fr`` (URLs shown as text aside),
  no ``18h30`` style time, and ``;:!?`` (a run of them) followed by a space or the end of the text
  is preceded by U+00A0 or U+202F, never by a breakable space (whatever follows) or directly by
  a letter; text is cut at block elements (and at elements carrying ``lang``);
* ``size``: under ``MAX_BYTES`` octets of UTF-8;
* ``well-formed``: every non-void element is closed, no stray end tag, no self-closing non-void
  element, no raw ``<`` in text (a broken tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

MAX_BYTES = 100_000
SNIPPET_CHARS = 400


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VOID_ELEMENTS = _words(
    "area base br col embed hr img input keygen link meta param source track wbr"
)
FORBIDDEN_ELEMENTS = _words(
    "html head body style script link meta base iframe form input button select textarea"
    " object embed video audio svg canvas"
)
SEMANTIC_ELEMENTS = _words("section article header footer nav main aside figure figcaption")
# Elements that do not cut the text into separate typographic runs.
INLINE_ELEMENTS = _words(
    "a abbr b bdi bdo cite code em font i img mark q s small span strong sub sup time u"
)
WIDTH_ATTRIBUTE_ELEMENTS = frozenset({"table", "td", "th", "img"})
URL_ATTRIBUTES = ("href", "src", "background")
HREF_SCHEMES = ("https", "http", "mailto", "tel")
DANGEROUS_SCHEMES = ("javascript", "data", "vbscript")
REFUSED_IMAGE_EXTENSIONS = (".webp", ".avif", ".svg", ".heic", ".heif", ".tif", ".tiff")
FORBIDDEN_PROPERTIES = _words(
    "position float gap row-gap column-gap columns box-shadow opacity background-image"
)
FORBIDDEN_PROPERTY_PREFIXES = ("flex", "grid", "column-", "transform", "animation", "transition")
FORBIDDEN_DISPLAYS = frozenset({"flex", "grid", "inline-flex", "inline-grid"})
FORBIDDEN_IN_VALUES = ("var(", "rgba(", "hsla(", "hsl(", "url(", "expression(")
WIDTH_PROPERTIES = ("width", "min-width", "max-width")
WIDTH_KEYWORDS = frozenset({"auto", "none", "inherit", "initial"})
GENERIC_FAMILIES = frozenset({"serif", "sans-serif", "monospace", "system-ui"})
WEB_FONT_SERVICES = (
    "google",
    "typekit",
    "adobe fonts",
    "fontawesome",
    "font awesome",
    "fonts.com",
    "fontshare",
    "bunny",
    "cloud.typography",
    "webfont",
    "//",
)
VAGUE_LINK_TEXTS = frozenset(
    {
        "cliquez ici",
        "ici",
        "click here",
        "here",
        "lien",
        "link",
        "plus",
        "more",
        "lire la suite",
        "en savoir plus",
        "read more",
    }
)
LINK_DECORATION = " .…:→›»>-"
MERGE_DELIMITERS = ("*|", "|*", "{{", "}}", "{%", "%}")
UNBREAKABLE_SPACES = "\u00a0\u202f"

_ATTRIBUTE_NAME = re.compile(r"[a-zA-Z_:][-a-zA-Z0-9_:.]*")
_LANG = re.compile(r"[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*")
_DIRECTIONS = frozenset({"ltr", "rtl", "auto"})
_INTEGER = re.compile(r"\d+")
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_PROPERTY_NAME = re.compile(r"-?[a-z][a-z0-9-]*")
_VENDOR_PREFIX = re.compile(r"-(?:webkit|moz|ms|o)-")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
_PIXELS = re.compile(r"(\d+(?:\.\d+)?|\.\d+)px")
_PERCENTAGE = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)%")
_NEGATIVE_NUMBER = re.compile(r"(?<![\w.-])-(\d+(?:\.\d+)?|\.\d+)")
_IMPORTANT = re.compile(r"!\s*important")
_AT_RULE = re.compile(r"@(?:import|font-face)")
_FONT_SHORTHAND = re.compile(
    r"(?:.*?\s)?(?:\d+(?:\.\d+)?|\.\d+)(?:px|pt|em|rem|%|ex|ch)(?:\s*/\s*\S+)?\s+(\S.*)"
)
_FRENCH_TIME = re.compile(r"\b\d{1,2}h(\d{2})?\b")
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S*")
_HIGH_PUNCTUATION = re.compile(r"[;:!?]+")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]+")


def parse_style(style: str) -> tuple[dict[str, str], list[str]]:
    """``"A: b; c:d"`` as ({"a": "b", "c": "d"}, [malformed declarations]); the last one wins."""
    declarations: dict[str, str] = {}
    malformed: list[str] = []
    for part in style.split(";"):
        if not part.strip():
            continue
        name, colon, value = part.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not colon or not name or not value:
            malformed.append(part.strip())
            continue
        declarations[name] = value
    return declarations, malformed


def email_problems(html: str, *, lang: str | None = None, max_width: int = 600) -> list[str]:
    """Every rule the HTML fragment breaks, as readable messages; [] means safe."""
    checker = _Checker(lang=lang, max_width=max_width)
    size = len(html.encode("utf-8"))
    if size >= MAX_BYTES:
        checker.report("size", "fragment", f"{size} octets of UTF-8, the limit is {MAX_BYTES}")
    checker.feed(html)
    checker.close()
    checker.finish()
    return checker.problems


def assert_email_safe(html: str, *, lang: str | None = None, max_width: int = 600) -> None:
    """Raise AssertionError listing the problems of ``html`` (and the start of it), if any."""
    problems = email_problems(html, lang=lang, max_width=max_width)
    if problems:
        snippet = html if len(html) <= SNIPPET_CHARS else html[:SNIPPET_CHARS] + "…"
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise AssertionError(
            f"{len(problems)} email-safety problem(s):\n{listing}\nin HTML:\n{snippet}"
        )


# --- the parser ----------------------------------------------------------------------------


@dataclass
class _Element:
    tag: str
    where: str
    lang: str | None  # the nearest lang, its own or an ancestor's
    own_lang: bool
    text: list[str] = field(default_factory=list)  # for links: their text
    alts: list[str] = field(default_factory=list)  # for links: the alts of their images


@dataclass
class _Segment:
    where: str
    lang: str | None
    text: list[str] = field(default_factory=list)


class _Checker(HTMLParser):
    def __init__(self, *, lang: str | None, max_width: int) -> None:
        super().__init__(convert_charrefs=False)  # raw text seen, so that a stray "<" shows
        self.expected_lang = lang
        self.max_width = max_width
        self.problems: list[str] = []
        self.stack: list[_Element] = []
        self.top_level = 0
        self.headings = 0
        self.run: list[str] = []  # decoded text since the last tag
        self.run_where = ""
        self.segment: _Segment | None = None  # text between two block boundaries
        self.segments: list[_Segment] = []

    def report(self, rule: str, where: str, detail: str) -> None:
        self.problems.append(f"[{rule}] {where}: {detail}")

    def where(self, tag: str) -> str:
        line, column = self.getpos()
        return f"<{tag}> at {line}:{column + 1}"

    # --- text --------------------------------------------------------------------------------

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self.report(
                "well-formed", self.text_where(), f"raw '<' in text (a broken tag?): {data!r:.60}"
            )
        self.text(data)

    def handle_entityref(self, name: str) -> None:
        self.text(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text(unescape(f"&#{name};"))

    def text_where(self) -> str:
        line, column = self.getpos()
        inside = f"<{self.stack[-1].tag}>" if self.stack else "the fragment"
        return f"text in {inside} at {line}:{column + 1}"

    def text(self, text: str) -> None:
        if not self.run:
            self.run_where = self.text_where()
        self.run.append(text)
        for element in self.stack:
            if element.tag == "a":
                element.text.append(text)
        if self.segment is None:
            lang = self.stack[-1].lang if self.stack else None
            self.segment = _Segment(self.text_where(), lang)
        self.segment.text.append(text)

    def flush_run(self) -> None:
        text = "".join(self.run)
        self.run.clear()
        if not text:
            return
        if not self.stack and text.strip():
            self.report(
                "lang/dir", self.run_where, f"text outside any element: {text.strip()!r:.60}"
            )
        self.check_merge_tags(self.run_where, "text", text)

    def cut_segment(self) -> None:
        if self.segment is not None:
            self.segments.append(self.segment)
            self.segment = None

    def check_merge_tags(self, where: str, what: str, value: str) -> None:
        found = [delimiter for delimiter in MERGE_DELIMITERS if delimiter in value]
        if found:
            listed = ", ".join(repr(delimiter) for delimiter in found)
            self.report("merge-tag", where, f"{what} contains template delimiters {listed}")

    # --- other markup --------------------------------------------------------------------------

    def handle_comment(self, data: str) -> None:
        self.flush_run()
        self.check_merge_tags(self.where("!--"), "comment", data)

    def handle_decl(self, decl: str) -> None:
        self.flush_run()
        self.report("fragment", self.where("!"), f"declaration <!{decl:.40}> in a fragment")

    def unknown_decl(self, data: str) -> None:
        self.flush_run()
        self.report("fragment", self.where("!"), f"declaration <![{data:.40}> in a fragment")

    def handle_pi(self, data: str) -> None:
        self.flush_run()
        self.report("fragment", self.where("?"), f"processing instruction <?{data:.40}>")

    # --- elements --------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.start(tag, attrs, self_closing=True)

    def start(self, tag: str, attrs: list[tuple[str, str | None]], *, self_closing: bool) -> None:
        self.flush_run()
        where = self.where(tag)
        values: dict[str, str] = {}
        for name, value in attrs:
            if name in values:
                self.report("attribute", where, f"duplicate attribute {name!r}")
            else:
                values[name] = value or ""
        own_lang = "lang" in values
        if tag not in INLINE_ELEMENTS or own_lang:
            self.cut_segment()
        parent_lang = self.stack[-1].lang if self.stack else None
        element = _Element(tag, where, values["lang"] if own_lang else parent_lang, own_lang)

        self.check_element(tag, where)
        self.check_attributes(where, attrs)
        self.check_lang_dir(where, values, top_level=not self.stack)
        if tag == "table":
            self.check_table(where, values)
        if tag in WIDTH_ATTRIBUTE_ELEMENTS and "width" in values:
            self.check_width_attribute(where, values["width"])
        for name in URL_ATTRIBUTES:
            if name in values:
                self.check_url(where, name, values[name])
        if tag == "img":
            self.check_img(where, values)
        self.check_style(where, values)
        if tag == "a":
            if any(open_element.tag == "a" for open_element in self.stack):
                self.report("link", where, "link inside a link")
            if "href" not in values:
                self.report("link", where, "link without href")
        if tag == "img" and values.get("alt", "").strip():
            for open_element in self.stack:
                if open_element.tag == "a":
                    open_element.alts.append(values["alt"])
        if tag in ("h2", "h3"):
            self.headings += 1
        if not self.stack:
            self.top_level += 1

        if tag in VOID_ELEMENTS:
            return
        if self_closing:
            self.report(
                "well-formed", where, f"<{tag}/> is not self-closing in HTML: write <{tag}></{tag}>"
            )
            self.end(element)
        else:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        self.flush_run()
        where = self.where(f"/{tag}")
        index = next((i for i in reversed(range(len(self.stack))) if self.stack[i].tag == tag), -1)
        if tag in VOID_ELEMENTS or index < 0:
            self.report("well-formed", where, f"stray end tag </{tag}>")
            return
        while len(self.stack) > index + 1:
            unclosed = self.stack.pop()
            self.report("well-formed", unclosed.where, f"<{unclosed.tag}> closed by </{tag}>")
            self.end(unclosed)
        self.end(self.stack.pop())

    def end(self, element: _Element) -> None:
        if element.tag not in INLINE_ELEMENTS or element.own_lang:
            self.cut_segment()
        if element.tag == "a":
            self.check_link(element)

    def finish(self) -> None:
        """After ``close()``: what stays open, what is missing, and the typography."""
        self.flush_run()
        while self.stack:
            unclosed = self.stack.pop()
            self.report("well-formed", unclosed.where, f"<{unclosed.tag}> is never closed")
            self.end(unclosed)
        self.cut_segment()
        if not self.top_level:
            self.report("fragment", "fragment", "no element at all")
        if not self.headings:
            self.report("structure", "fragment", "no h2 or h3 heading")
        for segment in self.segments:
            if segment.lang is not None and segment.lang.lower().startswith("fr"):
                for detail in french_typography_problems("".join(segment.text)):
                    self.report("typography", segment.where, detail)

    # --- rules on one element ----------------------------------------------------------------

    def check_element(self, tag: str, where: str) -> None:
        if tag in FORBIDDEN_ELEMENTS:
            self.report("fragment", where, f"<{tag}> has no place in a newsletter fragment")
        elif tag in SEMANTIC_ELEMENTS:
            self.report("fragment", where, f"HTML5 element <{tag}> is unknown to some clients")
        elif tag == "h1":
            self.report("fragment", where, "<h1> belongs to the host template, use h2 or h3")

    def check_attributes(self, where: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not _ATTRIBUTE_NAME.fullmatch(name):
                self.report(
                    "attribute", where, f"malformed attribute name {name!r} (a stray quote?)"
                )
            elif name.startswith("on"):
                self.report("attribute", where, f"event handler attribute {name!r}")
            if name in ("class", "id"):
                self.report("class/id", where, f"{name!r} attribute: styles must be inline")
            if value:
                self.check_merge_tags(where, f"attribute {name!r}", value)

    def check_lang_dir(self, where: str, values: dict[str, str], *, top_level: bool) -> None:
        lang, direction = values.get("lang"), values.get("dir")
        if lang is None:
            if top_level:
                self.report("lang/dir", where, "top-level element without lang")
        elif not _LANG.fullmatch(lang):
            self.report("lang/dir", where, f"invalid lang {lang!r}")
        elif top_level and self.expected_lang and lang.lower() != self.expected_lang.lower():
            self.report("lang/dir", where, f"lang {lang!r}, expected {self.expected_lang!r}")
        if direction is None:
            if top_level:
                self.report("lang/dir", where, "top-level element without dir")
        elif direction.lower() not in _DIRECTIONS:
            self.report("lang/dir", where, f"invalid dir {direction!r}")

    def check_table(self, where: str, values: dict[str, str]) -> None:
        if values.get("role") != "presentation":
            self.report("table", where, 'layout table without role="presentation"')
        for name in ("cellpadding", "cellspacing", "border"):
            if name not in values:
                self.report("table", where, f"table without {name}")
            elif not _INTEGER.fullmatch(values[name].strip()):
                self.report("table", where, f"{name}={values[name]!r} is not an integer")

    def check_width_attribute(self, where: str, value: str) -> None:
        if not _INTEGER.fullmatch(value.strip()):
            self.report("width", where, f"width attribute {value!r} is not a pixel integer")
        elif int(value) > self.max_width:
            self.report("width", where, f"width attribute {value} wider than {self.max_width}")

    def check_url(self, where: str, name: str, value: str) -> None:
        squeezed = _CONTROL_OR_SPACE.sub("", value).lower()  # as browsers read "java script:"
        scheme_match = _SCHEME.match(squeezed)
        scheme = scheme_match.group(1) if scheme_match else ""
        if scheme in DANGEROUS_SCHEMES:
            self.report("url", where, f"{name} with a {scheme}: URL")
            return
        if not scheme:
            kind = "an #anchor" if squeezed.startswith("#") else "a relative URL"
            self.report("url", where, f"{name}={value!r:.80} is {kind}, not an absolute URL")
            return
        allowed = HREF_SCHEMES if name == "href" else ("https",)
        if scheme not in allowed:
            self.report("url", where, f"{name} with a {scheme}: URL, allowed: {', '.join(allowed)}")
            return
        if any(character.isspace() for character in value):
            self.report("url", where, f"{name}={value!r:.80} contains whitespace")
        if scheme in ("https", "http"):
            if not squeezed.startswith(f"{scheme}://") or not urlsplit(squeezed).hostname:
                self.report("url", where, f"{name}={value!r:.80} has no host")
        elif not squeezed[len(scheme) + 1 :]:
            self.report("url", where, f"empty {scheme}: link")

    def check_img(self, where: str, values: dict[str, str]) -> None:
        if "alt" not in values:
            self.report("img", where, 'image without alt (alt="" for a decorative one)')
        for name in ("width", "height"):
            if name not in values:
                self.report("img", where, f"image without {name} attribute")
            elif name == "height" and not _INTEGER.fullmatch(values[name].strip()):
                self.report("img", where, f"height attribute {values[name]!r} is not an integer")
        declarations, _ = parse_style(values.get("style", ""))
        if declarations.get("display", "").lower() != "block" and "align" not in values:
            self.report("img", where, "image neither display:block nor aligned (gaps in Outlook)")
        path = urlsplit(values.get("src", "").strip()).path.lower()
        if path.endswith(REFUSED_IMAGE_EXTENSIONS):
            extension = path[path.rfind(".") :]
            self.report("img", where, f"{extension} image unsupported by some clients")

    def check_style(self, where: str, values: dict[str, str]) -> None:
        style = values.get("style", "")
        declarations, malformed = parse_style(style)
        lowered = style.lower()
        if _IMPORTANT.search(lowered):
            self.report("css", where, "!important")
        at_rule = _AT_RULE.search(lowered)
        if at_rule:
            self.report("css", where, f"{at_rule.group()} in a style attribute")
        for part in malformed:
            if not (at_rule and part.startswith("@")):
                self.report("css", where, f"malformed declaration {part!r:.60}")
        for name, value in declarations.items():
            self.check_declaration(where, name, value)
        self.check_colours(where, values, declarations)

    def check_declaration(self, where: str, name: str, value: str) -> None:
        lowered = value.lower()
        if name.startswith("--"):
            self.report("css", where, f"custom property {name!r}")
            return
        if not _PROPERTY_NAME.fullmatch(name):
            self.report("css", where, f"malformed property name {name!r}")
            return
        base = _VENDOR_PREFIX.sub("", name, count=1) if name.startswith("-") else name
        if base in FORBIDDEN_PROPERTIES or base.startswith(FORBIDDEN_PROPERTY_PREFIXES):
            self.report("css", where, f"property {name!r} is dropped or mangled by some clients")
        for needle in FORBIDDEN_IN_VALUES:
            if needle in lowered:
                self.report("css", where, f"{needle}...) in {name}: {value!r:.60}")
        if base.startswith("margin"):
            for number in _NEGATIVE_NUMBER.findall(lowered):
                if float(number):
                    self.report("css", where, f"negative margin {name}: {value}")
                    break
        if base == "display" and lowered.strip() in FORBIDDEN_DISPLAYS:
            self.report("css", where, f"display:{lowered.strip()}")
        if base in WIDTH_PROPERTIES:
            self.check_css_width(where, name, lowered.strip())
        if base == "font-family":
            self.check_families(where, name, value)
        elif base == "font":
            shorthand = _FONT_SHORTHAND.fullmatch(value.strip())
            if shorthand:
                self.check_families(where, name, shorthand.group(1))

    def check_css_width(self, where: str, name: str, value: str) -> None:
        pixels = _PIXELS.fullmatch(value)
        if pixels:
            if float(pixels.group(1)) > self.max_width:
                self.report("width", where, f"{name}:{value} wider than {self.max_width}px")
        elif not (_PERCENTAGE.fullmatch(value) or value in WIDTH_KEYWORDS or value == "0"):
            self.report("width", where, f"{name}:{value} is neither px nor %")

    def check_families(self, where: str, name: str, value: str) -> None:
        families = [family.strip().strip("'\"").strip().lower() for family in value.split(",")]
        if families[-1] not in GENERIC_FAMILIES:
            self.report(
                "font",
                where,
                f"{name} {value!r:.60} does not end with a generic family"
                f" ({', '.join(sorted(GENERIC_FAMILIES))})",
            )
        for family in families:
            if any(service in family for service in WEB_FONT_SERVICES):
                self.report("font", where, f"{name} names a web font service: {family!r}")

    def check_colours(
        self, where: str, values: dict[str, str], declarations: dict[str, str]
    ) -> None:
        colour = declarations.get("color")
        backgrounds = [
            (f"style {name}", declarations[name])
            for name in ("background-color", "background")
            if name in declarations
        ]
        if "bgcolor" in values:
            backgrounds.append(("bgcolor attribute", values["bgcolor"]))
        colours = [("style color", colour)] if colour is not None else []
        for what, value in [*colours, *backgrounds]:
            if not _HEX_COLOUR.fullmatch(value.strip()):
                self.report("colour", where, f"{what} {value!r:.40} is not #rgb or #rrggbb")
        if colour is not None and not backgrounds:
            self.report("colour", where, "sets color without background-color (dark mode)")
        if backgrounds and colour is None:
            self.report("colour", where, "sets a background colour without color (dark mode)")

    def check_link(self, element: _Element) -> None:
        text = " ".join("".join(element.text).split())
        alts = " ".join(" ".join(element.alts).split())
        label = text or alts
        if not label:
            self.report("link", element.where, "link without text nor image with an alt")
        elif label.casefold().strip(LINK_DECORATION) in VAGUE_LINK_TEXTS:
            self.report("link", element.where, f"vague link text {label!r}: say where it leads")


def french_typography_problems(text: str) -> list[str]:
    """Times like ``18h30`` and high punctuation ``;:!?`` without a non-breaking space before."""
    text = _URL_IN_TEXT.sub("URL", text)
    problems: list[str] = []
    for match in _FRENCH_TIME.finditer(text):
        problems.append(
            f"time {match.group()!r}: write hours as « 18\u00a0h\u00a030 » (U+00A0 or U+202F)"
        )
    for match in _HIGH_PUNCTUATION.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        context = text[max(0, start - 20) : end + 10]
        followed_by_space = end == len(text) or text[end].isspace()
        if before.isspace() and before not in UNBREAKABLE_SPACES:
            problems.append(
                f"breakable space before {match.group()!r} in {context!r}: use U+00A0 or U+202F"
            )
        elif before and not before.isspace() and followed_by_space:
            problems.append(
                f"no space before {match.group()!r} in {context!r}: put U+202F or U+00A0"
            )
    return problems
