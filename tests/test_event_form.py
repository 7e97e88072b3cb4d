"""The editors' form, without HTTP: recurrences said in words, and the form turned into a
document and back without loss."""

from __future__ import annotations

import re
from typing import Any

import pytest

from calendar_service.normalise import parse_event
from calendar_service.recurrence_text import recurrence_phrase
from calendar_service.settings import Settings
from calendar_service.web.editor.event_form import (
    FormErrors,
    document_from_form,
    form_from_document,
    place_errors,
    say,
)

SETTINGS = Settings(database_url="sqlite:///unused.db")


def doc(rule: str | None, start: str = "2027-01-07T18:30:00", **extra: Any) -> dict[str, Any]:
    recurrence = {"rrule": rule, **extra} if rule else extra
    return {"start": start, "timezone": "Europe/Paris", "recurrence": recurrence}


@pytest.mark.parametrize(
    ("rule", "french", "english"),
    [
        (
            "FREQ=WEEKLY;UNTIL=20270612T215959Z",
            "chaque jeudi jusqu'au 12 juin",
            "every Thursday until 12 June",
        ),
        (
            "FREQ=WEEKLY;UNTIL=20280103T225959Z",
            "chaque jeudi jusqu'au 3 janvier 2028",
            "every Thursday until 3 January 2028",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8",
            "un jeudi sur deux, 8 fois",
            "every other Thursday, 8 times",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
            "le mardi et le jeudi, une semaine sur deux",
            "every other Tuesday and Thursday",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE,FR",
            "toutes les 3 semaines, le lundi, le mercredi et le vendredi",
            "every 3 weeks on Monday, Wednesday and Friday",
        ),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "chaque lundi et jeudi", "every Monday and Thursday"),
        (
            "FREQ=MONTHLY;BYDAY=1TH",
            "le premier jeudi de chaque mois",
            "on the first Thursday of every month",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1TH;INTERVAL=2",
            "le dernier jeudi du mois, tous les 2 mois",
            "on the last Thursday, every 2 months",
        ),
        ("FREQ=MONTHLY", "chaque mois, le 7", "every month on the 7th"),
        ("FREQ=DAILY;COUNT=5", "chaque jour, 5 fois", "every day, 5 times"),
        ("FREQ=DAILY;INTERVAL=3", "tous les 3 jours", "every 3 days"),
        ("FREQ=YEARLY", "chaque année, le 7 janvier", "every year on 7 January"),
        (
            "FREQ=MONTHLY;BYMONTH=1,7;BYDAY=SU",
            "selon la règle FREQ=MONTHLY;BYMONTH=1,7;BYDAY=SU",
            "following the rule FREQ=MONTHLY;BYMONTH=1,7;BYDAY=SU",
        ),
    ],
)
def test_rules_in_words(rule: str, french: str, english: str) -> None:
    assert recurrence_phrase(doc(rule), "fr") == french
    assert recurrence_phrase(doc(rule), "en") == english


def test_extra_and_cancelled_dates_in_words() -> None:
    document = doc(
        "FREQ=WEEKLY;UNTIL=20270612T215959Z",
        rdates=["2027-01-09T18:30:00"],
        exdates=["2027-02-04T18:30:00", "2027-02-11T18:30:00"],
    )
    assert recurrence_phrase(document, "fr") == (
        "chaque jeudi jusqu'au 12 juin, et aussi le 9 janvier, sauf les 4 et 11 février 2027"
    )
    assert recurrence_phrase(document, "en") == (
        "every Thursday until 12 June, also on 9 January, except 4 and 11 February 2027"
    )
    assert recurrence_phrase(doc(None), "fr") == ""


def test_an_all_day_rule_ends_on_its_date() -> None:
    document = doc("FREQ=WEEKLY;UNTIL=20270612", start="2027-01-07")
    assert recurrence_phrase(document, "fr") == "chaque jeudi jusqu'au 12 juin"


RICH_FORM = {
    "title.fr": "Ciné-débat « Les exilés »",
    "title.en": "Film and debate",
    "summary.fr": "Projection suivie d'un débat",
    "description.fr": "Premier paragraphe.\n\nSecond, avec un [lien](https://example.org).",
    "description.en": "In English.",
    "price.fr": "Gratuit",
    "image.alt.fr": "L'affiche du film",
    "accessibility.note.fr": "Rampe d'accès côté cour",
    "audience.note.fr": "Tout public",
    "slug": "cine-debat-exiles",
    "category": "projection",
    "status": "scheduled",
    "state": "published",
    "timezone": "Indian/Mayotte",
    "attendance_mode": "mixed",
    "online_url": "https://live.example.org/cine",
    "url": "https://example.org/cine",
    "registration_url": "https://example.org/inscription",
    "tags": "cinéma, débat",
    "start.date": "2027-03-04",
    "start.time": "19:00",
    "end.date": "2027-03-04",
    "end.time": "22:30",
    "repeat": "monthly",
    "repeat.interval": "1",
    "repeat.monthly": "weekday",
    "repeat.end": "count",
    "repeat.count": "6",
    "recurrence.rdates": "2027-03-20 15:00",
    "recurrence.exdates": "2027-05-06 19:00",
    "location.name": "Cinéma Le Royal",
    "location.address": "3 place de la Mairie",
    "location.postal_code": "97600",
    "location.city": "Mamoudzou",
    "location.country": "FR",
    "location.lat": "-12.78",
    "location.lon": "45.23",
    "organizer.name": "Cimade Mayotte",
    "organizer.url": "https://example.org",
    "organizer.email": "contact@example.org",
    "partners.0.name": "Ligue des droits",
    "partners.0.role": "co_organizer",
    "partners.0.url": "https://ldh.example.org",
    "partners.1.name": "Radio locale",
    "partners.1.role": "media",
    "image.url": "https://images.example.org/affiche.png",
    "image.credit": "Studio X",
    "image.width": "800",
    "image.height": "600",
    "accessibility.features.wheelchair": "on",
    "accessibility.features.hearing_loop": "on",
    "audience.min_age": "12",
    "audience.max_age": "99",
}


def test_a_rich_form_makes_a_valid_event_and_comes_back_the_same() -> None:
    parsed = document_from_form(RICH_FORM, languages=["fr", "en"], lang="fr")
    assert not parsed.errors, parsed.errors
    event = parse_event(parsed.document, SETTINGS)
    assert event.recurrence is not None
    assert event.recurrence.rrule == "FREQ=MONTHLY;COUNT=6;BYDAY=1TH"
    assert event.location is not None and event.location.lat == -12.78
    assert [p.role for p in event.partners] == ["co_organizer", "media"]
    stored = event.model_dump(mode="json", exclude={"uid", "slug", "state"})
    back = form_from_document(stored, slug="cine-debat-exiles", state="published")
    assert {k: v for k, v in back.items() if v} == RICH_FORM
    assert recurrence_phrase(stored, "fr") == (
        "le premier jeudi de chaque mois, 6 fois, et aussi le 20 mars, sauf le 6 mai 2027"
    )


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"start.date": "2027-02-30"}, "start.date", "bad_date"),
        ({"start.time": "25:00"}, "start.time", "bad_time"),
        ({"start.time": ""}, "start.time", "need_time"),
        ({"start.date": ""}, "start.date", "required"),
        (
            {"repeat": "weekly", "repeat.end": "until", "repeat.until": ""},
            "repeat.until",
            "need_until",
        ),
        ({"repeat.end": "count", "repeat.count": ""}, "repeat.count", "need_count"),
        ({"repeat": "custom"}, "recurrence.rrule", "need_rule"),
        ({"repeat": "hourly"}, "repeat", "unknown_choice"),
        ({"repeat.interval": "deux"}, "repeat.interval", "bad_whole"),
        ({"location.lat": "nord"}, "location.lat", "bad_number"),
        ({"recurrence.exdates": "le 6 mai"}, "recurrence.exdates", "bad_lines"),
        ({"audience.min_age": "douze"}, "audience.min_age", "bad_whole"),
    ],
)
def test_the_form_names_its_own_errors(changes: dict[str, str], field: str, key: str) -> None:
    parsed = document_from_form({**RICH_FORM, **changes}, languages=["fr", "en"], lang="fr")
    assert field in parsed.errors.by_field, parsed.errors
    english = document_from_form({**RICH_FORM, **changes}, languages=["fr", "en"], lang="en")
    assert english.errors.by_field[field] != parsed.errors.by_field[field]


def test_shared_validation_errors_land_next_to_their_fields() -> None:
    errors = FormErrors("fr")
    place_errors(
        errors,
        [
            {"field": "start", "message": "give a date and time"},
            {"field": "title", "message": "a title in the default language (fr) is required"},
            {"field": "partners[1].url", "message": "must be an absolute http:// or https:// URL"},
            {"field": "recurrence.rrule", "message": "unknown RRULE part 'BYFOO'"},
            {"field": "(body)", "message": "not an object"},
        ],
        "fr",
    )
    assert set(errors.by_field) == {"start.date", "title.fr", "partners.1.url", "recurrence.rule"}
    assert errors.by_field["partners.1.url"].startswith("Indiquez une adresse web complète")
    # A message with no French words stays English, and says so.
    assert errors.by_field_lang["recurrence.rule"] == "en"
    assert errors.general == [("(body): not an object", "en")]


def test_messages_are_translated_or_marked_english() -> None:
    assert say("String should have at most 300 characters", "fr") == (
        "Ce texte est trop long (au plus 300 caractères).",
        None,
    )
    assert say("something new", "fr") == ("something new", "en")
    assert say("something new", "en") == ("something new", None)


def test_every_word_of_the_editor_pages_exists_in_both_languages() -> None:
    from calendar_service import mail
    from calendar_service.web.editor import admin as editor_admin
    from calendar_service.web.editor import common as editor_common
    from calendar_service.web.editor import event_words as editor_event_words
    from calendar_service.web.editor import moderation as editor_proposals
    from calendar_service.web.editor import signin as editor_auth
    from calendar_service.web.public import proposer

    for words in (
        editor_event_words.WORDS,
        editor_proposals.WORDS,
        proposer.WORDS,
        mail.WORDS,
        editor_auth.WORDS,
        editor_common.NAV_WORDS,
        editor_admin.WORDS,
    ):
        assert set(words["fr"]) == set(words["en"])
        same = {
            key
            for key, text in words["fr"].items()
            if text == words["en"][key] and len(re.sub(r"\{\w+\}|\W", "", text)) > 12
        }
        assert not same, same  # a French sentence left in the English words, or the reverse
