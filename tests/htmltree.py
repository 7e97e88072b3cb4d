"""A small DOM from the standard library's ``html.parser``, for the tests of our pages: every
element must be closed where it should be, with no duplicate attribute."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(
            c if isinstance(c, str) else "\n" if c.tag == "br" else c.text() for c in self.children
        )

    def words(self) -> str:
        """The text with its white space (no-break spaces included) made single spaces."""
        return " ".join(self.text().split())

    def own_text(self) -> str:
        """The text of this element alone, not of its children elements."""
        return " ".join("".join(c for c in self.children if isinstance(c, str)).split())

    def iter(self) -> list[Node]:
        found = [self]
        for child in self.children:
            if isinstance(child, Node):
                found.extend(child.iter())
        return found

    def all(self, tag: str) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag]

    def by_class(self, name: str) -> list[Node]:
        return [n for n in self.iter() if name in (n.attrs.get("class") or "").split()]

    def by_id(self, ident: str) -> Node:
        [node] = [n for n in self.iter() if n.attrs.get("id") == ident]
        return node

    def meta(self, key: str) -> str | None:
        """The content of ``<meta property=key>`` or ``<meta name=key>``, at most one."""
        found = [
            m.attrs.get("content")
            for m in self.all("meta")
            if key in (m.attrs.get("property"), m.attrs.get("name"))
        ]
        assert len(found) <= 1, f"{len(found)} <meta> {key}"
        return found[0] if found else None

    def hrefs(self) -> list[str]:
        return [a.attrs.get("href") or "" for a in self.all("a")]

    def ancestors(self) -> list[Node]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"duplicate attribute in <{tag}>"
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"end tag </{tag}>"
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str, *, fragment: bool = False) -> Node:
    """The page (or a fragment of HTML) as a tree; every element closed where it should be."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, f"<{builder.current.tag}> never closed"
    if not fragment:
        assert builder.doctype.lower() == "doctype html"
    return builder.root


def csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives
