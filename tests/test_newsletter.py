"""Newsletter blocks and digests: golden outputs of the reference newsletter's events, what a
block says, the brand and templates an association sets, errors, caching and grouping; over
HTTP and from ``calendar-service newsletter`` (the same bytes).

Every HTML block and digest rendered here also passes the e-mail safety checks (the autouse
fixture of ``conftest.py``). Golden files live in ``tests/data/golden/``; ``UPDATE_GOLDEN=1``
writes them again. They depend neither on the database (both give the same bytes, checked) nor
on the clock: digests name their window, and single-event blocks, which list an event's next
dates from now, see a fixed now (``calendar_service.web.public.newsletter.utc_now`` patched).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.cli import main
from calendar_service.demo import demo_events
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.emailsafety import french_typography_problems
from tests.factories import create

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "data" / "golden"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
N = "\u00a0"
NBSP_SHOWN = "\u237d"  # how a diff shows U+00A0
FORMATS = ("html", "txt", "md")
LANGS = ("fr", "en")
MEDIA_TYPES = {"html": "text/html", "txt": "text/plain", "md": "text/markdown"}

# The demo events of TODAY, by slug (slugs carry the first date).
ANEF = "permanence-anef-aide-aux-demarches-de-titre-de-sejour-2026-12-10"
MOBILISATION = "mobilisation-pour-defendre-l-etat-de-droit-2026-12-12"
CONCERT = "concert-solidaire-pour-l-est-de-la-rdc-2026-12-15"
PROPOSITIONS = "des-propositions-positives-et-concretes-pour-l-immigration-2027-02-01"
# The two digests of the golden files: a month by day, a season by category.
MONTH = {"from": "2026-11-27", "to": "2026-12-27"}
SEASON = {"from": "2026-11-27", "to": "2027-03-31", "group": "category"}
DIGESTS = {"2026-11-27_2026-12-27_day": MONTH, "2026-11-27_2027-03-31_category": SEASON}
BLOCKS = {"concert": CONCERT, "permanence-anef": ANEF}

# Tests of rendering alone run on SQLite; those of storage, caching and bytes on both.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# What each golden file held on the first database of this session: the second must match.
_first_database_gave: dict[str, bytes] = {}


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Now is the demo's today: single blocks list the same next dates whenever the suite runs."""
    monkeypatch.setattr("calendar_service.web.public.newsletter.utc_now", lambda: NOW)
    monkeypatch.setattr("calendar_service.web.cached.utc_now", lambda: NOW)


# --- helpers -----------------------------------------------------------------------------------


def load_demo(client: TestClient, editor: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The reference newsletter's events, dated from TODAY, posted through the API; by slug."""
    made = {}
    for document in demo_events(TODAY):
        response = client.post("/api/events", json=document, headers=editor)
        assert response.status_code == 201, response.text
        made[response.json()["slug"]] = response.json()
    assert {ANEF, MOBILISATION, CONCERT, PROPOSITIONS} <= set(made)
    return made


def golden_problem(name: str, body: bytes) -> str | None:
    """Why ``body`` is not the golden file ``name`` (written instead under UPDATE_GOLDEN=1), or
    is not what the other database gave for it in this session; None when all is well."""
    first = _first_database_gave.setdefault(name, body)
    if body != first:
        return f"{name}: SQLite and PostgreSQL give different bytes"
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return None
    if not path.exists():
        return f"{path} is missing; UPDATE_GOLDEN=1 writes it"
    expected = path.read_bytes()
    if body == expected:
        return None
    diff = difflib.unified_diff(
        expected.decode().replace(N, NBSP_SHOWN).splitlines(keepends=True),
        body.decode().replace(N, NBSP_SHOWN).splitlines(keepends=True),
        f"tests/data/golden/{name}",
        "rendered",
    )
    return (
        f"{name} is not its golden file (UPDATE_GOLDEN=1 rewrites it; "
        f"{NBSP_SHOWN} is a no-break space):\n{''.join(diff)}"
    )


@dataclass
class Element:
    tag: str
    attrs: list[tuple[str, str | None]]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def attr(self, name: str) -> str | None:
        return dict(self.attrs).get(name)


VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, attrs)
        if self.open:
            self.open[-1].children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for element in self.open:
            element.text += data


def parse_html(html: str) -> tuple[list[Element], str]:
    """Every element (in document order, with its decoded text) and the whole visible text."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.elements, "".join(reader.text)


def tags(elements: list[Element], tag: str) -> list[Element]:
    return [e for e in elements if e.tag == tag]


def style_of(element: Element) -> str:
    return element.attr("style") or ""


def fetch(client: TestClient, path: str, **params: str) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.content.decode("utf-8")


def block(client: TestClient, key: str, fmt: str, lang: str = "fr") -> str:
    return fetch(client, f"/newsletter/events/{key}.{fmt}", lang=lang)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


# --- golden outputs ----------------------------------------------------------------------------


def test_golden_outputs_of_the_reference_newsletter(
    client: TestClient, editor: dict[str, str]
) -> None:
    load_demo(client, editor)
    requests = {
        f"agenda_{label}.{lang}.{fmt}": (f"/newsletter/agenda.{fmt}", {**params, "lang": lang})
        for label, params in DIGESTS.items()
        for lang in LANGS
        for fmt in FORMATS
    }
    requests |= {
        f"block_{name}.{lang}.{fmt}": (f"/newsletter/events/{slug}.{fmt}", {"lang": lang})
        for name, slug in BLOCKS.items()
        for lang in LANGS
        for fmt in FORMATS
    }
    problems = []  # every file's problem, not only the first one's
    for name, (path, params) in requests.items():
        try:
            response = client.get(path, params=params)
        except AssertionError as exc:  # the e-mail safety checks, inside the app
            problems.append(f"{name}: {exc}")
            continue
        assert response.status_code == 200, response.text
        fmt = name.rsplit(".", 1)[1]
        assert response.headers["content-type"] == f"{MEDIA_TYPES[fmt]}; charset=utf-8"
        problems.append(golden_problem(name, response.content) or "")
    problems = [p for p in problems if p]
    if problems:
        pytest.fail(f"{len(problems)} of {len(requests)} golden files:\n\n" + "\n\n".join(problems))


def test_golden_files_read_like_the_newsletter() -> None:
    """What the golden files say, in the words of the reference newsletter (not only bytes)."""
    if UPDATE_GOLDEN and not _first_database_gave:
        pytest.skip("the golden files are being written")
    month = (GOLDEN / "agenda_2026-11-27_2026-12-27_day.fr.txt").read_text("utf-8")
    assert month.startswith("AGENDA SOLIDAIRE\nDu 27 novembre au 27 décembre 2026\n")
    for line in (
        "JEUDI 10 DÉCEMBRE 2026",
        f"Permanence ANEF{N}: aide aux démarches de titre de séjour",
        f"les jeudis 10 et 17 décembre 2026 de 14{N}h à 17{N}h",
        f"mardi 15 décembre 2026 à 18{N}h{N}30",
        "La Bellevilloise\n19-21 rue Boyer, 75020 Paris",
        "Organisé par YoonRisen, au profit d'ALIMA",
        f"Tarif{N}: Participation libre, bénéfices reversés à ALIMA",
        f"En savoir plus sur «{N}Concert solidaire pour l'est de la RDC{N}»{N}: "
        "https://www.france-terre-asile.org/actualites/concert-solidaire-yoonrisen-bellevilloise",
        f"Ajouter à mon agenda{N}: http://testserver/events/{CONCERT}.ics",
        f"S'abonner à «{N}Agenda solidaire{N}» dans mon agenda{N}: http://testserver/feeds/agenda.ics",
    ):
        assert line in month, line
    assert "Outrepasser" not in month  # 7 January: after the window
    season = (GOLDEN / "agenda_2026-11-27_2027-03-31_category.fr.txt").read_text("utf-8")
    for line in (
        "PERMANENCE\n==========",
        "CONFÉRENCE\n==========",
        f"les jeudis 10 et 17 décembre 2026, 7, 14, 21 et 28 janvier 2027 de 14{N}h à 17{N}h, "
        "et d'autres dates jusqu'au 11 février 2027",
        f"mardi 16 février 2027 de 10{N}h à 12{N}h (heure de Mayotte)",
        "du 12 au 14 mars 2027",
        "[REPORTÉ] Des propositions positives et concrètes pour l'immigration",
        f"lundi 1er février 2027 de 18{N}h{N}30 à 21{N}h",
        f"En ligne{N}: https://www.france-terre-asile.org/webinaires/charte-de-marseille/direct",
        f"S'inscrire{N}: https://www.france-terre-asile.org/webinaires/charte-de-marseille",
        f"En savoir plus sur «{N}Projection-débat{N}: “Outrepasser”{N}»",
        "Organisé par France terre d'asile, avec La Cimade, Forum réfugiés, "
        "Groupe SOS Solidarités – ASSFAM et Ordre de Malte France",
    ):
        assert line in season, line
    english = (GOLDEN / "agenda_2026-11-27_2027-03-31_category.en.txt").read_text("utf-8")
    for line in (
        "SOLIDARITY CALENDAR\n27 November 2026 to 31 March 2027\n",
        "DROP-IN SESSION",
        f"Tuesday 15 December 2026 at 6.30{N}pm",
        "Organised by YoonRisen, in aid of ALIMA",
        "Solidarity concert for eastern DR Congo",
        "[POSTPONED] ",
        f"Tuesday 16 February 2027, 10{N}am to noon (Mayotte Time)",
        "12–14 March 2027",
        f"Add to my calendar: http://testserver/events/{CONCERT}.ics?lang=en",
    ):
        assert line in english, line
    anef = (GOLDEN / "block_permanence-anef.fr.md").read_text("utf-8")
    assert anef.startswith(f"## Permanence ANEF{N}: aide aux démarches de titre de séjour\n\n")
    assert (
        f"**les jeudis 10 et 17 décembre 2026, 7, 14, 21 et 28 janvier 2027 de 14{N}h à 17{N}h, "
        "et d'autres dates jusqu'au 11 février 2027**" in anef
    )
    # A single block carries the description, with its links.
    assert "[recours devant le Conseil d'État](https://www.france-terre-asile.org/" in anef


def test_the_command_prints_the_bytes_of_the_route(
    client: TestClient, editor: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(client, editor)
    monkeypatch.setenv("CALENDAR_BASE_URL", "http://testserver")
    cases = [("html", "fr", MONTH), ("txt", "en", MONTH), ("md", "fr", MONTH)]
    cases += [("html", "en", SEASON), ("txt", "fr", SEASON)]
    for fmt, lang, params in cases:
        http = client.get(f"/newsletter/agenda.{fmt}", params={**params, "lang": lang}).content
        args = ["--from", params["from"], "--to", params["to"], "--format", fmt, "--lang", lang]
        args += ["--group", params.get("group", "day")]
        result = CliRunner().invoke(
            main,
            ["--database-url", database_url, "newsletter", "agenda", *args],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == http, (fmt, lang, params)
    refused = CliRunner().invoke(
        main, ["--database-url", database_url, "newsletter", "agenda", "--lang", "de"]
    )
    assert refused.exit_code != 0 and "de" in refused.output
    unknown = CliRunner().invoke(main, ["--database-url", database_url, "newsletter", "nope"])
    assert unknown.exit_code != 0 and "nope" in unknown.output
    backwards = ["newsletter", "agenda", "--from", "2026-12-31", "--to", "2026-12-01"]
    reversed_window = CliRunner().invoke(main, ["--database-url", database_url, *backwards])
    assert reversed_window.exit_code != 0 and "before" in reversed_window.output


# --- what a block says ------------------------------------------------------------------------


def concert(client: TestClient, editor: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """An event with every part a block shows."""
    values: dict[str, Any] = {
        "title": {"fr": "Concert pour ALIMA", "en": "Concert for ALIMA"},
        "summary": {"fr": "Une soirée de musique.", "en": "An evening of music."},
        "start": "2026-12-15T18:30:00",
        "end": "2026-12-15T22:00:00",
        "organizer": {"name": "YoonRisen"},
        "partners": [
            {"name": "ALIMA", "role": "beneficiary"},
            {"name": "Emmaüs", "role": "sponsor"},
            {"name": "La Cimade", "role": "partner"},
        ],
        "price": {"fr": "Participation libre", "en": "Pay what you can"},
        "url": "https://example.org/concert",
        "registration_url": "https://example.org/billets",
        "image": {
            "url": "http://example.org/affiche.jpg",
            "alt": {"fr": "Affiche du concert", "en": "Concert poster"},
            "width": 1200,
            "height": 800,
        },
    }
    return create(client, editor, **{**values, **overrides})


@SQLITE_ONLY
def test_a_block_says_what_the_newsletter_says(client: TestClient, editor: dict[str, str]) -> None:
    made = concert(client, editor)
    ics = f"http://testserver/events/{made['slug']}.ics"
    html = block(client, made["slug"], "html")
    elements, text = parse_html(html)
    (title,) = tags(elements, "h2")
    assert title.text == "Concert pour ALIMA"
    for part in (
        f"mardi 15 décembre 2026 de 18{N}h{N}30 à 22{N}h",
        "La Bellevilloise",
        "19-21 rue Boyer, 75020 Paris",
        "Organisé par YoonRisen, avec La Cimade, avec le soutien d'Emmaüs, au profit d'ALIMA",
        f"Tarif{N}: Participation libre",
        "Une soirée de musique.",
        "Avec YoonRisen.",  # the description, in a single block
    ):
        assert part in text, part
    (image,) = tags(elements, "img")
    assert image.attr("src") == "https://example.org/affiche.jpg"  # no mixed content
    assert image.attr("alt") == "Affiche du concert"
    assert (image.attr("width"), image.attr("height")) == ("560", "373")
    links = {a.text: a.attr("href") for a in tags(elements, "a")}
    assert links[f"En savoir plus sur «{N}Concert pour ALIMA{N}»"] == "https://example.org/concert"
    assert links["Ajouter à mon agenda"] == ics
    assert links["S'inscrire"] == "https://example.org/billets"
    assert links["Programme"] == "https://example.org/programme"

    txt = block(client, made["slug"], "txt")
    assert txt.startswith(f"Concert pour ALIMA\nmardi 15 décembre 2026 de 18{N}h{N}30 à 22{N}h\n")
    for line in (
        "La Bellevilloise\n19-21 rue Boyer, 75020 Paris\n",
        "Organisé par YoonRisen, avec La Cimade, avec le soutien d'Emmaüs, au profit d'ALIMA\n",
        f"Tarif{N}: Participation libre\n\nUne soirée de musique.\n",
        f"En savoir plus sur «{N}Concert pour ALIMA{N}»{N}: https://example.org/concert\n",
        f"S'inscrire{N}: https://example.org/billets\n",
        f"Ajouter à mon agenda{N}: {ics}\n",
        "Programme (https://example.org/programme)",
    ):
        assert line in txt, line
    assert "<" not in txt and "**" not in txt

    md = block(client, made["slug"], "md")
    assert md.startswith(
        "## Concert pour ALIMA\n\n![Affiche du concert](https://example.org/affiche.jpg)"
    )
    for line in (
        f"**mardi 15 décembre 2026 de 18{N}h{N}30 à 22{N}h**  \nLa Bellevilloise  \n",
        f"Tarif{N}: Participation libre\n\nUne soirée de musique.\n",
        f"[En savoir plus sur «{N}Concert pour ALIMA{N}»](https://example.org/concert)",
        "[S'inscrire](https://example.org/billets)",
        f"[Ajouter à mon agenda]({ics})",
    ):
        assert line in md, line

    english = block(client, made["slug"], "txt", lang="en")
    for line in (
        f"Concert for ALIMA\nTuesday 15 December 2026, 6.30{N}pm to 10{N}pm\n",
        "Organised by YoonRisen, with La Cimade, with the support of Emmaüs, in aid of ALIMA\n",
        "Price: Pay what you can\n",
        "More about “Concert for ALIMA”: https://example.org/concert\n",
        f"Add to my calendar: {ics}?lang=en\n",
    ):
        assert line in english, line
    alt = tags(parse_html(block(client, made["slug"], "html", lang="en"))[0], "img")[0]
    assert alt.attr("alt") == "Concert poster"


@SQLITE_ONLY
def test_an_online_event_gives_its_link_and_no_place(
    client: TestClient, editor: dict[str, str]
) -> None:
    made = create(
        client,
        editor,
        title="Webinaire : la Charte de Marseille",
        category="conference",
        start="2026-12-17T12:30:00",
        end="2026-12-17T13:30:00",
        attendance_mode="online",
        online_url="https://meet.example.org/charte",
        location=None,
    )
    elements, text = parse_html(block(client, made["slug"], "html"))
    assert "Bellevilloise" not in text
    (online,) = [
        a for a in tags(elements, "a") if a.attr("href") == "https://meet.example.org/charte"
    ]
    assert online.text == "rejoindre l'événement en ligne"
    assert f"En ligne{N}: rejoindre l'événement en ligne" in text
    assert f"jeudi 17 décembre 2026 de 12{N}h{N}30 à 13{N}h{N}30" in text
    assert f"\nEn ligne{N}: https://meet.example.org/charte\n" in block(client, made["slug"], "txt")
    assert f"En ligne{N}: <https://meet.example.org/charte>" in block(client, made["slug"], "md")
    assert "Online: https://meet.example.org/charte" in block(client, made["slug"], "txt", "en")


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("status", "fr", "en"),
    [
        ("cancelled", "Annulé", "Cancelled"),
        ("postponed", "Reporté", "Postponed"),
        ("full", "Complet", "Full"),  # other changes get a softer mark
    ],
)
def test_cancelled_and_postponed_events_are_marked(
    client: TestClient, editor: dict[str, str], status: str, fr: str, en: str
) -> None:
    made = concert(client, editor, status=status, image=None)
    elements, _ = parse_html(block(client, made["slug"], "html"))
    (title,) = tags(elements, "h2")
    mark = elements[elements.index(title) - 1]
    assert mark.tag == "p" and mark.text == fr
    assert "font-weight:bold" in style_of(mark)
    strong = status in ("cancelled", "postponed")
    assert ("background-color:#a4161a" in style_of(mark)) == strong
    assert ("line-through" in style_of(title)) == (status == "cancelled")
    assert block(client, made["slug"], "txt").startswith(f"[{fr.upper()}] Concert pour ALIMA\n")
    assert block(client, made["slug"], "md").startswith(f"## **{fr}** · Concert pour ALIMA\n")
    assert block(client, made["slug"], "txt", "en").startswith(
        f"[{en.upper()}] Concert for ALIMA\n"
    )
    assert block(client, made["slug"], "md", "en").startswith(f"## **{en}** · Concert for ALIMA\n")
    # A cancelled event is not offered to calendars, in any format.
    for fmt in ("html", "txt", "md"):
        offered = ".ics" in block(client, made["slug"], fmt)
        assert offered == (status != "cancelled"), fmt
    # And in a digest.
    digest = fetch(client, "/newsletter/agenda.txt", **{"from": "2026-12-15", "to": "2026-12-15"})
    assert f"[{fr.upper()}] Concert pour ALIMA\n" in digest


@SQLITE_ONLY
def test_a_block_without_image_has_no_img(client: TestClient, editor: dict[str, str]) -> None:
    made = concert(client, editor, image=None)
    assert not tags(parse_html(block(client, made["slug"], "html"))[0], "img")
    assert "![" not in block(client, made["slug"], "md")


@SQLITE_ONLY
def test_a_block_lists_the_next_dates_of_a_series(
    client: TestClient, editor: dict[str, str]
) -> None:
    load_demo(client, editor)
    for fmt in FORMATS:
        assert (
            f"les jeudis 10 et 17 décembre 2026, 7, 14, 21 et 28 janvier 2027 de 14{N}h à 17{N}h, "
            "et d'autres dates jusqu'au 11 février 2027"
        ) in block(client, ANEF, fmt)
        assert (
            f"Thursdays 10 and 17 December 2026, 7, 14, 21 and 28 January 2027, 2{N}pm to 5{N}pm, "
            "and more dates until 11 February 2027"
        ) in block(client, ANEF, fmt, "en")


@SQLITE_ONLY
def test_french_typography_holds_in_text_and_markdown(
    client: TestClient, editor: dict[str, str]
) -> None:
    """The HTML's French typography rule (a no-break space before « ; : ! ? », no "18h30")
    holds in plain text and Markdown too: in the descriptions of single blocks, and in
    organizer names such as "Collectif Cause Majeur !" followed by a comma."""
    load_demo(client, editor)
    problems = []
    for fmt in ("txt", "md"):
        outputs = {
            f"agenda.{fmt}": fetch(client, f"/newsletter/agenda.{fmt}", **SEASON),
            f"{ANEF}.{fmt}": block(client, ANEF, fmt),
            f"{CONCERT}.{fmt}": block(client, CONCERT, fmt),
        }
        for name, text in outputs.items():
            for line in re.sub(r"https?://[^\s)>]+", "URL", text).splitlines():
                problems += [f"{name}: {p}" for p in french_typography_problems(line)]
    assert not problems, "\n".join(problems)
    anef = block(client, ANEF, "txt")
    assert f"leurs droits{N}: emploi" in anef and f"vos documents{N}: nous" in anef
    assert f"à partir de 18{N}h{N}30 pour" in block(client, CONCERT, "md")


# --- brand and templates -----------------------------------------------------------------------


@SQLITE_ONLY
def test_the_brand_shows_in_digests_and_blocks(migrated: Settings, editor: dict[str, str]) -> None:
    branded = make_settings(
        migrated.database_url,
        brand_accent_color="#0b6e4f",
        brand_logo_url="https://example.org/logo.png",
        brand_logo_width=180,
        brand_logo_height=40,
        organisation_name="Association Terre d'accueil",
    )
    with TestClient(create_app(branded)) as client:
        made = concert(client, editor)
        html = fetch(
            client, "/newsletter/agenda.html", **{"from": "2026-12-01", "to": "2026-12-31"}
        )
        elements, _ = parse_html(html)
        logo = tags(elements, "img")[0]
        assert logo.attr("src") == "https://example.org/logo.png"
        assert logo.attr("alt") == "Association Terre d'accueil"
        assert (logo.attr("width"), logo.attr("height")) == ("180", "40")
        assert "#0b6e4f" in html and "#b4235a" not in html
        (when,) = [p for p in tags(elements, "p") if p.text.startswith("mardi 15 décembre")]
        assert "color:#0b6e4f" in style_of(when)
        single = block(client, made["slug"], "html")
        assert "#0b6e4f" in single and "#b4235a" not in single
        assert "logo.png" not in single  # the logo heads a digest, not each block


@SQLITE_ONLY
def test_templates_dir_overrides_a_template(
    migrated: Settings, editor: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "templates" / "newsletter"
    folder.mkdir(parents=True)
    (folder / "block.txt").write_text(
        "★ {{ e.title }} ★\n{{ e.when }}\n{{ t.add_to_calendar }} -> {{ e.ics_url }}\n", "utf-8"
    )
    css = (
        Path(__file__).parent.parent / "calendar_service/templates/newsletter/email.css"
    ).read_text("utf-8")
    (folder / "email.css").write_text(
        css + ".when { border-left: 4px solid {{ accent }}; padding: 0 0 0 8px; }\n", "utf-8"
    )
    settings = make_settings(migrated.database_url, templates_dir=str(tmp_path / "templates"))
    with TestClient(create_app(settings)) as client:
        made = concert(client, editor)
        ics = f"http://testserver/events/{made['slug']}.ics"
        assert block(client, made["slug"], "txt") == (
            f"★ Concert pour ALIMA ★\nmardi 15 décembre 2026 de 18{N}h{N}30 à 22{N}h\n"
            f"Ajouter à mon agenda -> {ics}\n"
        )
        digest = fetch(
            client, "/newsletter/agenda.txt", **{"from": "2026-12-15", "to": "2026-12-15"}
        )
        assert "★ Concert pour ALIMA ★" in digest and "AGENDA SOLIDAIRE" in digest
        # The other templates are the package's; the stylesheet is the association's.
        assert block(client, made["slug"], "md").startswith("## Concert pour ALIMA\n")
        elements, _ = parse_html(block(client, made["slug"], "html"))
        (when,) = [p for p in tags(elements, "p") if p.text.startswith("mardi 15 décembre")]
        assert "border-left:4px solid #b4235a" in style_of(when)
        assert "padding:0 0 0 8px" in style_of(when)


# --- errors ----------------------------------------------------------------------------------


@SQLITE_ONLY
def test_errors_are_problems_naming_the_field(client: TestClient, editor: dict[str, str]) -> None:
    problem(client.get("/newsletter/nope.html"), 404)
    problem(client.get("/newsletter/agenda.pdf"), 404)
    problem(client.get("/newsletter/agenda.HTML"), 404)
    made = concert(client, editor)
    problem(client.get(f"/newsletter/events/{made['slug']}.pdf"), 404)
    for params, field_name in (
        ({"from": "2026-12-31", "to": "2026-12-01"}, "to"),
        ({"from": "2026-12-01", "to": "2026-12-31T10:00:00"}, "to"),
        ({"from": "2026-12-01T10:00:00"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "demain"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"group": "week"}, "group"),
        ({"lang": "de"}, "lang"),
        ({"from": "2026-01-01", "to": "2028-12-31"}, "to"),  # longer than max_window_days
    ):
        for fmt in FORMATS:
            body = problem(client.get(f"/newsletter/agenda.{fmt}", params=params), 400)
            assert fields(body) == {field_name}, (params, body)
    both = problem(client.get("/newsletter/agenda.md", params={"group": "x", "lang": "x"}), 400)
    assert fields(both) == {"group", "lang"}
    body = problem(
        client.get(f"/newsletter/events/{made['slug']}.html", params={"lang": "de"}), 400
    )
    assert fields(body) == {"lang"}


def test_unknown_draft_and_deleted_events(client: TestClient, editor: dict[str, str]) -> None:
    for fmt in FORMATS:
        problem(client.get(f"/newsletter/events/nope.{fmt}"), 404)
        problem(client.get(f"/newsletter/events/999999.{fmt}"), 404)
    draft = concert(client, editor, state="draft")
    problem(client.get(f"/newsletter/events/{draft['slug']}.html"), 404)
    problem(client.get(f"/newsletter/events/{draft['id']}.txt"), 404)
    gone = concert(client, editor)
    assert client.get(f"/newsletter/events/{gone['id']}.md").status_code == 200
    assert client.delete(f"/api/events/{gone['id']}", headers=editor).status_code == 204
    for key in (gone["id"], gone["slug"]):
        for fmt in FORMATS:
            problem(client.get(f"/newsletter/events/{key}.{fmt}"), 410)
    # Neither appears in a digest.
    digest = fetch(client, "/newsletter/agenda.txt", **{"from": "2026-12-01", "to": "2026-12-31"})
    assert "Concert pour ALIMA" not in digest
    assert "Aucun événement n'est prévu sur cette période." in digest


# --- caching ---------------------------------------------------------------------------------


def test_digests_are_cached_until_an_event_changes(
    client: TestClient, editor: dict[str, str]
) -> None:
    load_demo(client, editor)
    blocks = client.app.state.blocks  # type: ignore[attr-defined]
    urls = ["/newsletter/agenda.html", "/newsletter/agenda.txt"]
    etags = {}
    for url in urls:
        first = client.get(url, params=MONTH)
        again = client.get(url, params=MONTH)
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert first.headers["cache-control"].startswith("public")
        etags[url] = first.headers["etag"]
        not_modified = client.get(url, params=MONTH, headers={"If-None-Match": etags[url]})
        assert not_modified.status_code == 304 and not_modified.content == b""
    # Three events in the window, rendered once per format.
    assert (blocks.misses, blocks.hits) == (6, 0)
    single = client.get(f"/newsletter/events/{CONCERT}.html")
    assert (
        client.get(f"/newsletter/events/{CONCERT}.html").headers["etag"] == single.headers["etag"]
    )
    hits, misses = blocks.hits, blocks.misses

    changed = client.patch(
        f"/api/events/{CONCERT}",
        json={"title": {"fr": "Grand concert pour la RDC", "en": "Big concert for DR Congo"}},
        headers=editor,
    )
    assert changed.status_code == 200, changed.text
    for url in urls:
        after = client.get(url, params=MONTH, headers={"If-None-Match": etags[url]})
        assert after.status_code == 200
        assert after.headers["etag"] != etags[url]
        assert "Grand concert pour la RDC" in after.text
        assert "Concert solidaire pour l'est de la RDC" not in after.text
    # Only the changed event was rendered again, in each format; the two others came cached.
    assert blocks.misses - misses == 2
    assert blocks.hits - hits == 4
    block_after = client.get(f"/newsletter/events/{CONCERT}.html")
    assert block_after.headers["etag"] != single.headers["etag"]
    assert "Grand concert pour la RDC" in block_after.text
    assert blocks.misses - misses == 3


# --- grouping ---------------------------------------------------------------------------------


def _headings(html: str) -> list[tuple[str, list[str]]]:
    """Each group's heading (h3) with the titles (h4) of its events, in order."""
    groups: list[tuple[str, list[str]]] = []
    for element in parse_html(html)[0]:
        if element.tag == "h3":
            groups.append((element.text, []))
        elif element.tag == "h4":
            groups[-1][1].append(element.text)
    return groups


def test_grouping_by_day_and_by_category(client: TestClient, editor: dict[str, str]) -> None:
    load_demo(client, editor)
    # The weekly drop-in of 10 December goes under its first date in the window: the 17th.
    window = {"from": "2026-12-11", "to": "2026-12-27"}
    assert _headings(fetch(client, "/newsletter/agenda.html", **window)) == [
        ("Samedi 12 décembre 2026", ["Mobilisation pour défendre l'État de droit"]),
        ("Mardi 15 décembre 2026", ["Concert solidaire pour l'est de la RDC"]),
        (
            "Jeudi 17 décembre 2026",
            [f"Permanence ANEF{N}: aide aux démarches de titre de séjour"],
        ),
    ]
    txt = fetch(client, "/newsletter/agenda.txt", **window)
    assert f"JEUDI 17 DÉCEMBRE 2026\n======================\n\nPermanence ANEF{N}: aide" in txt
    assert f"jeudi 17 décembre 2026 de 14{N}h à 17{N}h\n" in txt  # the 24th and 31st are off
    assert "10 décembre" not in txt
    md = fetch(client, "/newsletter/agenda.md", **window, lang="en")
    assert "### Thursday 17 December 2026\n\n#### ANEF drop-in: help with" in md
    # "1er" in headings.
    february = fetch(
        client, "/newsletter/agenda.html", **{"from": "2027-02-01", "to": "2027-02-01"}
    )
    assert _headings(february) == [
        ("Lundi 1er février 2027", ["Des propositions positives et concrètes pour l'immigration"])
    ]
    # By category: the categories' labels, in the order of their first event.
    category = {**window, "group": "category"}
    assert [g for g, _ in _headings(fetch(client, "/newsletter/agenda.html", **category))] == [
        "Mobilisation",
        "Concert",
        "Permanence",
    ]
    assert [
        g for g, _ in _headings(fetch(client, "/newsletter/agenda.html", **category, lang="en"))
    ] == ["Demonstration", "Concert", "Drop-in session"]
    season = _headings(fetch(client, "/newsletter/agenda.html", **{**SEASON, "to": "2027-02-20"}))
    conferences = dict(season)["Conférence"]
    assert conferences == [
        "La Charte de Marseille\u00a0: 11 principes pour parler des migrations",
        "Webinaire\u00a0: la Charte de Marseille",
        "Présentation du rapport annuel\u00a0: 40 ans de rétention administrative",
    ]
    assert len({g for g, _ in season}) == len(season) == 7


def test_an_empty_window_says_so(client: TestClient, editor: dict[str, str]) -> None:
    load_demo(client, editor)
    empty = {"from": "2026-11-27", "to": "2026-12-09"}
    assert "Aucun événement n'est prévu sur cette période." in fetch(
        client, "/newsletter/agenda.txt", **empty
    )
    assert "No event is planned in this period." in fetch(
        client, "/newsletter/agenda.md", **empty, lang="en"
    )
    html = fetch(client, "/newsletter/agenda.html", **empty)
    assert "Aucun événement n'est prévu sur cette période." in parse_html(html)[1]
    # A narrower feed leaves out the others' events.
    culture = fetch(client, "/newsletter/culture.txt", **MONTH)
    assert "Concert solidaire" in culture and "Permanence ANEF" not in culture
    assert culture.startswith("CULTURE SOLIDAIRE\n")


@SQLITE_ONLY
def test_a_status_note_is_in_every_format(client: TestClient, editor: dict[str, str]) -> None:
    note = {"fr": "Reporté à cause des grèves *|EMAIL|*", "en": "Postponed: strikes"}
    made = concert(client, editor, status="postponed", status_note=note, image=None)
    html = block(client, made["slug"], "html")
    elements, _ = parse_html(html)
    assert any("Reporté à cause des grèves" in (e.text or "") for e in tags(elements, "strong"))
    assert "*|EMAIL|*" not in html  # a merge tag stays inert
    assert "Reporté à cause des grèves" in block(client, made["slug"], "txt")
    assert "*Reporté à cause des grèves" in block(client, made["slug"], "md")
    assert "Postponed: strikes" in block(client, made["slug"], "txt", "en")
