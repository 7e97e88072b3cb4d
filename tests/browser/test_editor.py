"""The editor pages and the proposal form in Chromium, as people use them: someone who never
used the service signs in, creates a weekly event in French with an English translation,
publishes it and finds it in the feed, the widget and the newsletter digest; a proposal sent
anonymously is shown nowhere until an editor accepts it; every page passes axe-core.

The account is made with the real command line (``calendar-service user create``) against the
service's own database; everything else goes through the browser, by labels and roles.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from icalendar import Calendar

from tests.browser.conftest import Axe, Browse, Screenshot, Service, Visit

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

PASSWORD = "une phrase de passe assez longue"
THURSDAY = 3  # date.weekday()


@dataclass(frozen=True)
class Account:
    email: str
    password: str


@pytest.fixture(scope="module")
def admin(service: Service) -> Account:
    """An administrator's account, created by ``calendar-service user create`` (the password
    on standard input) against the running service's database."""
    email = f"premiere.fois.{uuid4().hex[:8]}@example.org"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CALENDAR_")}
    environment.update(
        {
            "CALENDAR_DATABASE_URL": service.database_url,
            "CALENDAR_BASE_URL": service.url,
            "CALENDAR_ENVIRONMENT": "development",
        }
    )
    command = [sys.executable, "-m", "calendar_service", "user", "create", "--role", "admin"]
    done = subprocess.run(
        [*command, "--email", email],
        input=PASSWORD + "\n",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert email in done.stderr
    return Account(email=email, password=PASSWORD)


Created = list[str]


@pytest.fixture
def created(service: Service, browse: Browse, admin: Account) -> Iterator[Created]:
    """The ids of the events a test creates; deleted afterwards through the editor's own
    "Supprimer" action, so that the service the other browser tests share shows what they
    expect (their widgets list the first few upcoming events)."""
    ids: Created = []
    yield ids
    if not ids:
        return
    page = browse(f"{service.url}/editor/login").page
    sign_in(page, service, admin)
    for event_id in ids:
        response = page.goto(f"{service.url}/editor/events/{event_id}/delete")
        if response is None or response.status != 200:
            continue  # already deleted (or refused as a proposal): nothing shows it
        page.get_by_role("button", name="Oui : supprimer").click()
        page.wait_for_url(re.compile(r"/editor/events\?done=delete$"))


def next_thursday(after_days: int = 3) -> date:
    """A Thursday a few days ahead: within the digest's default window (today + 31 days)."""
    day = date.today() + timedelta(days=after_days)
    return day + timedelta(days=(THURSDAY - day.weekday()) % 7)


def unique(text: str) -> str:
    return f"{text} {uuid4().hex[:6]}"


def sign_in(page: Page, service: Service, account: Account) -> None:
    """The sign-in form, filled as a person does; lands on the editor space."""
    page.goto(f"{service.url}/editor/login")
    page.get_by_label("Adresse e-mail").fill(account.email)
    page.get_by_label("Mot de passe", exact=True).fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/editor(\?.*)?$"))


def nav_link(page: Page, name: str) -> Locator:
    """A link of the editor space's navigation."""
    return page.get_by_role("navigation", name="Espace éditeur").get_by_role(
        "link", name=name, exact=True
    )


def body_text(page: Page) -> str:
    return page.locator("body").inner_text()


def fill_event(
    page: Page, *, title_fr: str, title_en: str, tag: str, start: date, until: date
) -> None:
    """The new-event form: titles in both languages, a summary, the date and times, a weekly
    repeat on the start's weekday until ``until``, the place."""
    page.get_by_label("Titre (français)").fill(title_fr)
    page.get_by_label("Titre (anglais)").fill(title_en)
    page.get_by_label("Résumé en une phrase (français)").fill(
        "Accueil, conseils et café pour les personnes exilées, chaque semaine."
    )
    page.get_by_label("Résumé en une phrase (anglais)").fill(
        "Welcome, advice and coffee for exiled people, every week."
    )
    page.get_by_label("Mots-clés").fill(tag)
    page.get_by_label("Date de début").fill(start.isoformat())
    page.get_by_label("Heure de début").fill("18:30")
    page.get_by_label("Date de fin", exact=True).fill(start.isoformat())
    page.get_by_label("Heure de fin").fill("20:30")
    page.get_by_role("radio", name="Chaque semaine").check()
    page.get_by_role("checkbox", name="jeudi", exact=True).check()
    page.get_by_role("radio", name="Jusqu'au").check()
    page.get_by_label("Date de la dernière fois").fill(until.isoformat())
    page.get_by_label("Nom du lieu").fill("Maison des associations")
    page.get_by_label("Adresse", exact=True).fill("8 rue du Général Renault")
    page.get_by_label("Code postal").fill("75011")
    page.get_by_label("Ville").fill("Paris")


def event_id_of(page: Page) -> str:
    found = re.search(r"/editor/events/(\d+)", page.url)
    assert found, page.url
    return found.group(1)


def feed_events(page: Page, service: Service) -> list[Any]:
    """The VEVENTs of ``/feeds/agenda.ics``, fetched by the page's browser context."""
    response = page.request.get(f"{service.url}/feeds/agenda.ics")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.body()).walk("VEVENT"))


def titles_in_feed(page: Page, service: Service) -> set[str]:
    return {str(vevent.get("SUMMARY")) for vevent in feed_events(page, service)}


def shown_at(page: Page, url: str) -> str:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return body_text(page)


REFUSED_FORM = re.compile(r"^Failed to load resource: the server responded with a status of 400 ")


def assert_quiet(visit: Visit) -> None:
    """No console error (a CSP refusal is one), no uncaught error, no dialog; but a form sent
    back with its errors (400) is one for Chromium, and is expected here."""
    visit.console_errors[:] = [e for e in visit.console_errors if not REFUSED_FORM.match(e)]
    visit.assert_nothing_ran()


# --- the end-to-end test ------------------------------------------------------------------------


def test_a_newcomer_publishes_a_weekly_event_seen_in_feed_widget_and_digest(
    service: Service,
    browse: Browse,
    admin: Account,
    screenshot: Screenshot,
    created: Created,
) -> None:
    title_fr = unique("Permanence d'accueil des exilé·es")
    title_en = unique("Drop-in welcome for exiles")
    tag = f"e2e-{uuid4().hex[:8]}"
    start = next_thursday()
    until = start + timedelta(weeks=8)

    visit = browse(f"{service.url}/editor/login")
    page = visit.page
    sign_in(page, service, admin)
    assert admin.email in body_text(page)

    nav_link(page, "Nouvel événement").click()
    page.wait_for_url(re.compile(r"/editor/events/new$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Nouvel événement"
    fill_event(page, title_fr=title_fr, title_en=title_en, tag=tag, start=start, until=until)
    # A draft first: it is nowhere in public until it is published.
    assert page.get_by_role("radio", name="Brouillon").is_checked()
    screenshot(page, "editor-form-filled")
    page.get_by_role("button", name="Enregistrer et prévisualiser").click()

    # The preview, before publication: the widget and the dates as a calendar shows them.
    page.wait_for_url(re.compile(r"/editor/events/\d+/preview$"))
    event_id = event_id_of(page)
    created.append(event_id)
    assert title_fr in page.get_by_role("heading", level=1).inner_text()
    widget = page.frame_locator("iframe[title='Aperçu du widget']")
    assert title_fr in widget.locator("body").inner_text()
    dates = page.locator("ul.agenda time")
    assert dates.count() == 9  # 8 weeks after the first Thursday: 9 Thursdays
    assert dates.first.get_attribute("datetime") is not None
    assert title_fr not in titles_in_feed(page, service)
    screenshot(page, "editor-preview")
    page.get_by_role("link", name="Revenir à l'événement").click()

    # The event's page: the repeat said in words, and the history naming the person.
    page.wait_for_url(re.compile(rf"/editor/events/{event_id}(\?.*)?$"))
    repeats = page.locator("p.repeats").inner_text()
    assert "chaque jeudi" in repeats.lower(), repeats
    assert "jusqu'au" in repeats.lower(), repeats
    assert str(until.day) in repeats, repeats
    history = page.locator("table.history tbody tr")
    assert history.count() == 1
    assert admin.email in history.first.inner_text()
    assert "création" in history.first.inner_text()

    # Publish, through its confirmation page.
    page.get_by_role("region", name="Actions").get_by_role("link", name="Publier").click()
    page.wait_for_url(re.compile(rf"/editor/events/{event_id}/publish$"))
    assert title_fr in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="Oui : publier").click()
    page.wait_for_url(re.compile(rf"/editor/events/{event_id}\?done=publish$"))
    assert page.get_by_role("status").filter(has_text="Événement publié.").count() == 1
    rows = [r.inner_text() for r in page.locator("table.history tbody tr").all()]
    assert any("publication" in r and admin.email in r for r in rows), rows

    # The feed: its SUMMARY, and the weekly rule until the last date.
    mine = [v for v in feed_events(page, service) if str(v.get("SUMMARY")) == title_fr]
    assert len(mine) == 1, "the event is not in /feeds/agenda.ics"
    vevent = mine[0]
    assert vevent.decoded("DTSTART").date() == start
    rule = vevent.get("RRULE")
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule.get("BYDAY", ["TH"]) == ["TH"]
    assert rule["UNTIL"][0].date() in (until, until + timedelta(days=1))  # the last one's end

    # The widget, in French and in English.
    embed = f"{service.url}/embed/agenda?limit=50&tag={tag}"
    assert title_fr in shown_at(page, embed)
    shown_en = shown_at(page, f"{embed}&lang=en")
    assert title_en in shown_en and title_fr not in shown_en

    # The newsletter digest (today + 31 days by default).
    assert title_fr in shown_at(page, f"{service.url}/newsletter/agenda.html")
    assert_quiet(visit)


def test_form_errors_are_next_to_their_fields_and_keep_what_was_typed(
    service: Service, browse: Browse, admin: Account, screenshot: Screenshot
) -> None:
    visit = browse(f"{service.url}/editor/login")
    page = visit.page
    sign_in(page, service, admin)
    page.goto(f"{service.url}/editor/events/new")
    start = next_thursday()
    title_en = unique("Untitled in French")
    # The French title left empty, and "until" chosen without its date.
    page.get_by_label("Titre (anglais)").fill(title_en)
    page.get_by_label("Date de début").fill(start.isoformat())
    page.get_by_label("Heure de début").fill("19:00")
    page.get_by_role("radio", name="Chaque semaine").check()
    page.get_by_role("radio", name="Jusqu'au").check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Enregistrer", exact=True).click()
    assert posted.value.status == 400
    screenshot(page, "editor-form-errors")

    for label, error_id in (
        ("Titre (français)", "f-title-fr-error"),
        ("Date de la dernière fois", "f-repeat-until-error"),
    ):
        field = page.get_by_label(label)
        assert field.get_attribute("aria-invalid") == "true", label
        described = (field.get_attribute("aria-describedby") or "").split()
        assert error_id in described, (label, described)
        error = page.locator(f"#{error_id}")
        assert error.is_visible() and error.inner_text().strip(), label
        # The summary at the top links to the field.
        field_id = field.get_attribute("id")
        assert page.locator(f"#form-errors a[href='#{field_id}']").count() == 1, label
    assert "français" in page.locator("#f-title-fr-error").inner_text()

    # Everything typed is kept.
    assert page.get_by_label("Titre (anglais)").input_value() == title_en
    assert page.get_by_label("Date de début").input_value() == start.isoformat()
    assert page.get_by_label("Heure de début").input_value() == "19:00"
    assert page.get_by_role("radio", name="Chaque semaine").is_checked()
    assert page.get_by_role("radio", name="Jusqu'au").is_checked()
    # Nothing was created.
    page.goto(f"{service.url}/editor/events?q={title_en.split()[-1]}")
    assert title_en not in body_text(page)
    assert_quiet(visit)


# --- proposals ------------------------------------------------------------------------------------


def propose(page: Page, service: Service, *, title: str, day: date) -> None:
    """The public proposal form, filled and sent without an account."""
    page.goto(f"{service.url}/proposer")
    page.get_by_label("Titre en français").fill(title)
    page.get_by_label("Résumé en une phrase").fill(
        "Une soirée de soutien, ouverte à toutes et tous."
    )
    page.get_by_label(re.compile(r"^Date(\s|$)")).fill(day.isoformat())
    page.get_by_label("Heure de début").fill("19:00")
    page.get_by_label("Heure de fin").fill("22:00")
    page.get_by_label("Nom du lieu").fill("Salle des fêtes")
    page.get_by_label("Ville").fill("Montreuil")
    page.get_by_label("Nom de l'organisateur").fill("Collectif de soutien")
    page.get_by_label("Votre adresse e-mail").fill("proposeur@example.org")
    page.get_by_role("button", name="Envoyer la proposition").click()
    page.wait_for_url(re.compile(r"/proposer/merci$"))


def public_views(service: Service) -> dict[str, str]:
    """The public places an event shows up in, each big enough to hold a new one."""
    return {
        "feed": f"{service.url}/feeds/agenda.ics",
        "widget": f"{service.url}/embed/agenda?limit=50",
        "digest": f"{service.url}/newsletter/agenda.html",
        "home": f"{service.url}/",
    }


def shown_anywhere(page: Page, service: Service, title: str) -> set[str]:
    found = set()
    for name, url in public_views(service).items():
        if name == "feed":
            if title in titles_in_feed(page, service):
                found.add(name)
        elif title in shown_at(page, url):
            found.add(name)
    return found


def test_a_proposal_is_invisible_until_an_editor_accepts_it(
    service: Service,
    browse: Browse,
    admin: Account,
    screenshot: Screenshot,
    created: Created,
) -> None:
    title = unique("Soirée de soutien aux familles")
    day = date.today() + timedelta(days=1)

    anonymous = browse(f"{service.url}/proposer")
    propose(anonymous.page, service, title=title, day=day)
    assert "Merci" in anonymous.page.get_by_role("heading", level=1).inner_text()
    assert shown_anywhere(anonymous.page, service, title) == set()
    assert_quiet(anonymous)

    visit = browse(f"{service.url}/editor/login")
    page = visit.page
    sign_in(page, service, admin)
    nav_link(page, "Propositions").click()
    page.wait_for_url(re.compile(r"/editor/proposals$"))
    item = page.locator("ul.queue:not(.decided) > li").filter(has_text=title)
    assert item.count() == 1
    assert "proposeur@example.org" in item.inner_text()
    screenshot(page, "editor-proposals")

    # Edited first (an English title), still pending, still unseen.
    item.get_by_role("link", name=f"Modifier « {title} »").click()
    page.wait_for_url(re.compile(r"/editor/events/\d+$"))
    event_id = event_id_of(page)
    created.append(event_id)
    assert page.get_by_role("radio", name="Proposition en attente").is_checked()
    page.get_by_label("Titre (anglais)").fill(f"{title} (en)")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_url(re.compile(r"\?done=saved$"))
    assert page.get_by_role("radio", name="Proposition en attente").is_checked()
    assert shown_anywhere(page, service, title) == set()

    page.goto(f"{service.url}/editor/events/{event_id}")
    page.get_by_role("link", name="Accepter ou refuser dans la file des propositions").click()
    page.wait_for_url(re.compile(r"/editor/proposals$"))
    page.get_by_role("button", name=f"Accepter et publier « {title} »").click()
    page.wait_for_url(re.compile(r"/editor/proposals\?done=accepted$"))
    assert "l'événement est publié" in page.get_by_role("status").first.inner_text()
    decided = page.locator("ul.queue.decided > li").filter(has_text=title)
    assert decided.count() == 1 and admin.email in decided.inner_text()

    assert {"feed", "widget", "digest"} <= shown_anywhere(page, service, title)
    assert_quiet(visit)


# --- accessibility --------------------------------------------------------------------------------


class Audit:
    """axe-core's serious and critical violations, page after page, reported all at once."""

    def __init__(self, axe: Axe) -> None:
        self.axe = axe
        self.found: dict[str, list[dict[str, Any]]] = {}
        self.checked: list[str] = []

    def check(self, page: Page, name: str) -> None:
        self.checked.append(name)
        violations = self.axe(page)
        if violations:
            self.found[f"{name} ({page.url})"] = violations


def test_editor_pages_and_proposal_form_pass_axe(
    service: Service,
    browse: Browse,
    admin: Account,
    axe: Axe,
    screenshot: Screenshot,
    created: Created,
) -> None:
    audit = Audit(axe)
    # The public proposal form: empty, with errors, then the thanks.
    anonymous = browse(f"{service.url}/proposer")
    page = anonymous.page
    audit.check(page, "proposer")
    page.get_by_role("button", name="Envoyer la proposition").click()
    page.wait_for_load_state()
    assert page.locator("[aria-invalid='true']").count() >= 2
    audit.check(page, "proposer with errors")
    screenshot(page, "proposer-errors")
    page.goto(f"{service.url}/proposer?lang=en")
    audit.check(page, "proposer, English")
    title = unique("Projection-débat sur l'exil")
    propose(page, service, title=title, day=date.today() + timedelta(days=5))
    audit.check(page, "proposer thanks")
    assert_quiet(anonymous)

    visit = browse(f"{service.url}/editor/login")
    page = visit.page
    audit.check(page, "login")
    page.goto(f"{service.url}/editor/login?lang=en")
    audit.check(page, "login, English")
    sign_in(page, service, admin)
    audit.check(page, "editor home")
    for path, name in (
        ("/editor/events", "event list"),
        ("/editor/events/new", "new-event form"),
        ("/editor/events/new?lang=en", "new-event form, English"),
    ):
        page.goto(f"{service.url}{path}")
        audit.check(page, name)

    for lang_query in ("?lang=en", ""):
        page.goto(f"{service.url}/editor/events/new{lang_query}")
        page.get_by_role("button", name="Save" if lang_query else "Enregistrer", exact=True).click()
        page.wait_for_load_state()
        assert page.locator("#form-errors").count() == 1
        audit.check(page, f"form with errors{', English' if lang_query else ''}")

    start = next_thursday()
    fill_event(
        page,
        title_fr=unique("Atelier de français"),
        title_en=unique("French workshop"),
        tag=f"axe-{uuid4().hex[:8]}",
        start=start,
        until=start + timedelta(weeks=4),
    )
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.wait_for_url(re.compile(r"\?done=created$"))
    event_id = event_id_of(page)
    created.append(event_id)
    assert page.locator("table.history tbody tr").count() == 1
    audit.check(page, "edit page with history")
    page.goto(f"{service.url}/editor/events/{event_id}?lang=en")
    audit.check(page, "edit page, English")
    page.goto(f"{service.url}/editor/events/{event_id}/publish")
    audit.check(page, "confirmation page")
    page.goto(f"{service.url}/editor/events/{event_id}/preview")
    audit.check(page, "preview")
    page.goto(f"{service.url}/editor/proposals")
    assert page.locator("ul.queue:not(.decided) > li").filter(has_text=title).count() == 1
    audit.check(page, "proposals queue")
    page.goto(f"{service.url}/editor/users")
    audit.check(page, "users")
    page.goto(f"{service.url}/editor/tokens")
    audit.check(page, "tokens")

    assert audit.found == {}, "\n".join(
        f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}"
        for name, violations in audit.found.items()
        for v in violations
    )
    assert_quiet(visit)
