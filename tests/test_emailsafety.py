"""The suite's email-safety checker (tests/emailsafety.py): a good block passes, each rule bites."""

from __future__ import annotations

import pytest

from tests.emailsafety import (
    MAX_BYTES,
    assert_email_safe,
    email_problems,
    french_typography_problems,
    parse_style,
)

NBSP = "\u00a0"
NNBSP = "\u202f"
TABLE = 'role="presentation" cellpadding="0" cellspacing="0" border="0"'
OUTER = f'{TABLE} lang="fr" dir="ltr" style="width:100%;max-width:600px"'

GOOD = (
    f"<table {OUTER}>\n"
    "  <tr>\n"
    "    <td style=\"padding:16px;font-family:Georgia, 'Times New Roman', serif\">\n"
    '      <h2 style="margin:0 0 8px 0">Concert solidaire</h2>\n'
    '      <p style="color:#222222;background-color:#ffffff">'
    f"Date{NBSP}: samedi 12 avril, 18{NBSP}h{NBSP}30. Entrée libre{NNBSP}!</p>\n"
    '      <img src="https://example.org/affiches/concert.png" alt="Affiche du concert"'
    ' width="568" height="284" style="display:block;width:100%;height:auto">\n'
    '      <p><a href="https://example.org/evenements/concert-solidaire">'
    f"En savoir plus sur «{NBSP}Concert solidaire{NBSP}»</a></p>\n"
    "    </td>\n"
    "  </tr>\n"
    "</table>\n"
)


def block(inner: str, *, outer: str = OUTER) -> str:
    """``inner`` inside an otherwise good block (outer table, cell, heading)."""
    return f"<table {outer}><tr><td><h2>Titre</h2>{inner}</td></tr></table>"


def img(attributes: str) -> str:
    return block(f"<img {attributes}>")


IMG = 'src="https://example.org/a.png" alt="" width="100" height="50"'

# (fragment, what its single problem must say), one group per rule
VIOLATIONS = [
    # 1. a fragment
    pytest.param(block("<script>alert(1)</script>"), "[fragment] <script>", id="script"),
    pytest.param(block("<style>p{}</style>"), "[fragment] <style>", id="style"),
    pytest.param(block('<iframe src="https://example.org/x"></iframe>'), "<iframe>", id="iframe"),
    pytest.param(block("<section><p>Texte</p></section>"), "HTML5 element <section>", id="section"),
    pytest.param(block("<figure><p>Texte</p></figure>"), "HTML5 element <figure>", id="figure"),
    pytest.param(
        f"<table {OUTER}><tr><td><h1>Titre</h1><h3>Sous-titre</h3></td></tr></table>",
        "<h1> belongs to the host template",
        id="h1",
    ),
    pytest.param("<!DOCTYPE html>" + GOOD, "[fragment] <!>", id="doctype"),
    # 2. attributes
    pytest.param(
        block('<p onclick="go()">Texte</p>'), "event handler attribute 'onclick'", id="on"
    ),
    pytest.param(
        block('<p title="Le "Concert"">Texte</p>'), "malformed attribute name", id="stray-quote"
    ),
    pytest.param(block('<p title="a" title="b">Texte</p>'), "duplicate attribute", id="duplicate"),
    # 3. outermost lang and dir
    pytest.param(
        block("", outer=f'{TABLE} dir="ltr"'), "top-level element without lang", id="no-lang"
    ),
    pytest.param(
        block("", outer=f'{TABLE} lang="fr"'), "top-level element without dir", id="no-dir"
    ),
    pytest.param(block("", outer=f'{TABLE} lang="fr" dir="sideways"'), "invalid dir", id="bad-dir"),
    pytest.param(block("", outer=f'{TABLE} lang="f r" dir="ltr"'), "invalid lang", id="bad-lang"),
    pytest.param(GOOD + "Merci !", "text outside any element", id="top-level-text"),
    pytest.param(
        GOOD + f'<table {TABLE} dir="ltr"><tr><td></td></tr></table>',
        "top-level element without lang",
        id="second-top-level",
    ),
    # 4. tables
    pytest.param(
        block('<table cellpadding="0" cellspacing="0" border="0"><tr><td></td></tr></table>'),
        'without role="presentation"',
        id="table-role",
    ),
    pytest.param(
        block('<table role="presentation" cellpadding="0" border="0"><tr><td></td></tr></table>'),
        "table without cellspacing",
        id="table-cellspacing",
    ),
    pytest.param(
        block(f"<table {TABLE.replace('border', 'data-border')}><tr><td></td></tr></table>"),
        "table without border",
        id="table-border",
    ),
    # 5. class and id
    pytest.param(block('<p class="intro">Texte</p>'), "[class/id] <p>", id="class"),
    pytest.param(block('<p id="intro">Texte</p>'), "'id' attribute", id="id"),
    # 6. widths
    pytest.param(
        block(
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0"'
            ' width="700"><tr><td></td></tr></table>'
        ),
        "width attribute 700 wider than 600",
        id="width-attribute-too-wide",
    ),
    pytest.param(
        block(
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0"'
            ' width="100%"><tr><td></td></tr></table>'
        ),
        "is not a pixel integer",
        id="width-attribute-percent",
    ),
    pytest.param(block('<p style="max-width:640px">Texte</p>'), "max-width:640px", id="css-px"),
    pytest.param(block('<p style="width:40em">Texte</p>'), "neither px nor %", id="css-em"),
    # 7. URLs
    pytest.param(
        block('<a href="javascript:alert(1)">Le programme</a>'), "javascript: URL", id="js"
    ),
    pytest.param(
        block('<a href=" Java\tScript:alert(1)">Le programme</a>'),
        "javascript: URL",
        id="js-obfuscated",
    ),
    pytest.param(
        img('src="data:image/png;base64,AAAA" alt="" width="1" height="1" style="display:block"'),
        "data: URL",
        id="data",
    ),
    pytest.param(block('<a href="/agenda">Le programme</a>'), "relative URL", id="relative"),
    pytest.param(block('<a href="#programme">Le programme</a>'), "an #anchor", id="anchor"),
    pytest.param(
        block('<a href="//example.org/">Le programme</a>'), "relative URL", id="no-scheme"
    ),
    pytest.param(
        img('src="http://example.org/a.png" alt="" width="1" height="1" style="display:block"'),
        "src with a http: URL",
        id="src-http",
    ),
    pytest.param(block('<a href="ftp://example.org/">Le programme</a>'), "ftp: URL", id="ftp"),
    pytest.param(block('<a href="https:///x">Le programme</a>'), "has no host", id="no-host"),
    pytest.param(
        block('<a href="https://example.org/le programme">Le programme</a>'),
        "contains whitespace",
        id="space-in-url",
    ),
    pytest.param(
        block('<p background="agenda.png">T</p>'),
        "relative URL",
        id="background",
    ),
    # 8. images
    pytest.param(
        img('src="https://example.org/a.png" width="1" height="1" style="display:block"'),
        "image without alt",
        id="img-alt",
    ),
    pytest.param(
        img('src="https://example.org/a.png" alt="" width="1" style="display:block"'),
        "image without height",
        id="img-height",
    ),
    pytest.param(
        img('src="https://example.org/a.png" alt="" width="1" height="1px" style="display:block"'),
        "height attribute '1px' is not an integer",
        id="img-height-px",
    ),
    pytest.param(img(IMG), "neither display:block nor aligned", id="img-display"),
    pytest.param(img(IMG.replace(".png", ".WebP") + ' align="left"'), ".webp image", id="img-webp"),
    pytest.param(
        img(IMG.replace(".png", ".svg?v=2") + ' align="left"'), ".svg image", id="img-svg"
    ),
    # 9. CSS
    pytest.param(block('<p style="position:absolute">T</p>'), "'position'", id="position"),
    pytest.param(block('<p style="float:left">T</p>'), "'float'", id="float"),
    pytest.param(block('<p style="flex-direction:row">T</p>'), "'flex-direction'", id="flex"),
    pytest.param(block('<p style="grid-template-columns:1fr">T</p>'), "'grid-template", id="grid"),
    pytest.param(block('<p style="gap:4px">T</p>'), "'gap'", id="gap"),
    pytest.param(block('<p style="column-count:2">T</p>'), "'column-count'", id="column-count"),
    pytest.param(block('<p style="-webkit-transform:none">T</p>'), "'-webkit-transform'", id="tf"),
    pytest.param(block('<p style="transition:all 1s">T</p>'), "'transition'", id="transition"),
    pytest.param(block('<p style="animation:x 1s">T</p>'), "'animation'", id="animation"),
    pytest.param(block('<p style="box-shadow:none">T</p>'), "'box-shadow'", id="box-shadow"),
    pytest.param(block('<p style="opacity:.5">T</p>'), "'opacity'", id="opacity"),
    pytest.param(block('<p style="background-image:none">T</p>'), "background-image", id="bgimg"),
    pytest.param(block('<p style="display:flex">T</p>'), "display:flex", id="display-flex"),
    pytest.param(block('<p style="display:inline-grid">T</p>'), "display:inline-grid", id="dig"),
    pytest.param(
        block('<p style="--accent:#fff">T</p>'), "custom property '--accent'", id="custom"
    ),
    pytest.param(block('<p style="border-color:var(--x)">T</p>'), "var(...)", id="var"),
    pytest.param(block('<p style="border:1px solid rgba(0,0,0,.1)">T</p>'), "rgba(...)", id="rgba"),
    pytest.param(block('<p style="border-color:hsl(0,0%,0%)">T</p>'), "hsl(...)", id="hsl"),
    pytest.param(block('<p style="border-color:HSLA(0,0%,0%,1)">T</p>'), "hsla(...)", id="hsla"),
    pytest.param(
        block("<p style=\"list-style:url('https://example.org/x.png')\">T</p>"),
        "url(...)",
        id="url",
    ),
    pytest.param(block('<p style="margin:0 0 -8px 0">T</p>'), "negative margin", id="neg-margin"),
    pytest.param(block('<p style="margin-top:-.5em">T</p>'), "negative margin", id="neg-margin-2"),
    pytest.param(block('<p style="padding:0 ! important">T</p>'), "!important", id="important"),
    pytest.param(block('<p style="@import x;padding:0">T</p>'), "@import", id="at-import"),
    pytest.param(block('<p style="padding 0">T</p>'), "malformed declaration", id="no-colon"),
    # 10. fonts
    pytest.param(block('<p style="font-family:Arial">T</p>'), "generic family", id="no-generic"),
    pytest.param(
        block("<p style=\"font-family:'Google Sans', sans-serif\">T</p>"),
        "web font service: 'google sans'",
        id="web-font",
    ),
    pytest.param(
        block('<p style="font:bold 14px/1.4 Helvetica">T</p>'), "generic family", id="font"
    ),
    # 11. colour pairs
    pytest.param(block('<p style="color:#333333">T</p>'), "without background-color", id="fg"),
    pytest.param(block('<p style="background-color:#ffffff">T</p>'), "without color", id="bg"),
    pytest.param(block('<p style="background:#fff">T</p>'), "without color", id="background"),
    pytest.param(
        block('<table bgcolor="#ffffff" ' + TABLE + "><tr><td></td></tr></table>"),
        "without color",
        id="bgcolor",
    ),
    pytest.param(
        block('<p style="color:black;background-color:#ffffff">T</p>'),
        "'black' is not #rgb or #rrggbb",
        id="named-colour",
    ),
    pytest.param(
        block('<p style="color:#000;background-color:#ffff">T</p>'),
        "is not #rgb or #rrggbb",
        id="hex-4",
    ),
    # 12. links
    pytest.param(block('<a href="https://example.org/"> </a>'), "link without text", id="empty"),
    pytest.param(
        block(f'<a href="https://example.org/"><img {IMG} align="left"></a>'),
        "link without text",
        id="image-without-alt",
    ),
    pytest.param(block('<a href="https://example.org/">ici</a>'), "vague link text", id="ici"),
    pytest.param(
        block('<a href="https://example.org/"> En  savoir\nPLUS </a>'), "vague", id="en-savoir"
    ),
    pytest.param(
        block('<a href="https://example.org/"><b>Lire la suite</b>…</a>'), "vague", id="suite"
    ),
    pytest.param(block('<a href="https://example.org/">Read more →</a>'), "vague", id="read-more"),
    pytest.param(block("<a>Le programme</a>"), "link without href", id="no-href"),
    pytest.param(
        block('<a href="https://example.org/">Le <a href="https://example.org/b">b</a></a>'),
        "link inside a link",
        id="nested-link",
    ),
    # 13. merge tags
    pytest.param(block("<p>Bonjour *|FNAME|*</p>"), "'*|'", id="mailchimp"),
    pytest.param(block("<p>Bonjour &#42;|FNAME&#124;*</p>"), "'*|'", id="mailchimp-escaped"),
    pytest.param(block('<p title="{{ contact.NOM }}">T</p>'), "attribute 'title'", id="brevo"),
    pytest.param(block("<p>{% if x %}</p>"), "'{%'", id="brevo-tag"),
    pytest.param(block("<!-- *|UNSUB|* -->"), "comment contains", id="comment"),
    # 14. structure
    pytest.param(
        f"<table {OUTER}><tr><td><h4>Titre</h4></td></tr></table>",
        "no h2 or h3 heading",
        id="no-heading",
    ),
    # 15. French typography
    pytest.param(block("<p>Rendez-vous à 18h30.</p>"), "time '18h30'", id="time"),
    pytest.param(block("<p>Ouverture 9h.</p>"), "time '9h'", id="time-hour"),
    pytest.param(block("<p>Date : samedi</p>"), "breakable space before ':'", id="space-colon"),
    pytest.param(block("<p>Date: samedi</p>"), "no space before ':'", id="no-space-colon"),
    pytest.param(block("<p>Venez nombreux!</p>"), "no space before '!'", id="end-of-text"),
    pytest.param(block("<p>Quoi ?!</p>"), "breakable space before '?!'", id="run"),
    pytest.param(block("<p><b>Lieu</b>; salle</p>"), "no space before ';'", id="across-inline"),
    pytest.param(block("<p>Lieu&nbsp;: ici ; là</p>"), "breakable space before ';'", id="mixed"),
    # 16. size
    pytest.param(block("<p>" + "x" * MAX_BYTES + "</p>"), "[size]", id="size"),
    # well-formedness
    pytest.param(block("<p>Texte"), "<p> closed by </td>", id="unclosed"),
    pytest.param(block("<p>Texte</p></span>"), "stray end tag </span>", id="stray"),
    pytest.param(block("<br></br>"), "stray end tag </br>", id="void-end"),
    pytest.param(block("<p/>"), "not self-closing", id="self-closing"),
    pytest.param(block("<p>3 < 4</p>"), "raw '<'", id="raw-lt"),
    pytest.param(GOOD.replace("</table>", ""), "<table> is never closed", id="never-closed"),
]


def test_good_block_is_safe() -> None:
    assert email_problems(GOOD) == []
    assert email_problems(GOOD, lang="fr") == []
    assert email_problems(GOOD, lang="FR") == []
    assert_email_safe(GOOD, lang="fr")


@pytest.mark.parametrize(("fragment", "expected"), VIOLATIONS)
def test_each_rule_is_reported(fragment: str, expected: str) -> None:
    problems = email_problems(fragment)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_message_names_rule_and_element_position() -> None:
    fragment = block('<p class="x">T</p>')
    column = fragment.index("<p") + 1
    assert email_problems(fragment) == [
        f"[class/id] <p> at 1:{column}: 'class' attribute: styles must be inline"
    ]


def test_expected_lang() -> None:
    (problem,) = email_problems(GOOD, lang="en")
    assert "lang 'fr', expected 'en'" in problem


def test_max_width() -> None:
    problems = email_problems(GOOD, max_width=500)
    assert len(problems) == 2
    assert "max-width:600px wider than 500px" in problems[0]
    assert "width attribute 568 wider than 500" in problems[1]
    assert email_problems(GOOD.replace("600px", "480px"), max_width=568) == []


def test_assert_email_safe_lists_problems_and_html() -> None:
    fragment = block('<p class="x" style="position:absolute">T</p>')
    with pytest.raises(AssertionError) as failure:
        assert_email_safe(fragment)
    message = str(failure.value)
    assert "2 email-safety problem(s)" in message
    assert "[class/id]" in message and "'position'" in message
    assert '<p class="x"' in message


def test_several_top_level_elements_each_with_lang_and_dir() -> None:
    second = f'<p lang="fr" dir="ltr" style="margin:0">Fin du bloc{NNBSP}!</p>'
    assert email_problems(GOOD + second) == []


def test_allowed_urls() -> None:
    links = "".join(
        f'<a href="{href}">Écrire à l’association</a>'
        for href in (
            "http://example.org/mon-site",
            "https://example.org/a?b=1&amp;c=2#d",
            "mailto:contact@example.org",
            "tel:+33123456789",
        )
    )
    assert email_problems(block(links)) == []


def test_image_link_and_aligned_image() -> None:
    described = IMG.replace('alt=""', 'alt="Le programme du festival"')
    image = f'<img {described} align="left">'
    assert email_problems(block(f'<a href="https://example.org/programme">{image}</a>')) == []


def test_french_rules_only_apply_to_french_text() -> None:
    english = block("<p>Doors open at 6:30: welcome!</p>", outer=OUTER.replace("fr", "en"))
    assert email_problems(english) == []
    quote = block('<p lang="en">Note: see you there!</p>')
    assert email_problems(quote) == []
    assert email_problems(block('<p lang="en">Note: <span lang="fr">Fin!</span></p>')) != []


def test_french_typography_details() -> None:
    assert french_typography_problems(f"Horaires{NNBSP}: 10:30, de 18{NBSP}h à 20{NBSP}h") == []
    assert french_typography_problems("Voir https://example.org/18h30?x=1 ou mailto:a@b.c") == []
    assert french_typography_problems(f"«{NBSP}Pourquoi{NNBSP}?{NBSP}»") == []
    assert len(french_typography_problems("18h et 20h15")) == 2


def test_text_is_cut_at_block_elements() -> None:
    cells = f"<table {TABLE}><tr><td>Date</td><td>: samedi</td></tr></table>"
    assert email_problems(block(cells)) == []


def test_descriptive_links_are_fine() -> None:
    for text in ("Lire la suite de « Concert solidaire »", "Plus de dates", "Here we go again"):
        fragment = block(f'<a href="https://example.org/">{text.replace(" »", NBSP + "»")}</a>')
        assert email_problems(fragment) == [], text


def test_parse_style() -> None:
    assert parse_style(" Color : #FFF ;; font-family: a, 'b'; x") == (
        {"color": "#FFF", "font-family": "a, 'b'"},
        ["x"],
    )
