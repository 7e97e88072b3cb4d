"""Date phrases as a newsletter editor writes them, in French and English."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from calendar_service.phrases import date_phrase, dates_phrase, zone_note

N = "\u00a0"


@pytest.mark.parametrize(
    ("start", "end", "all_day", "fr", "en"),
    [
        (
            datetime(2025, 5, 6, 18, 30),
            None,
            False,
            f"mardi 6 mai 2025 à 18{N}h{N}30",
            f"Tuesday 6 May 2025 at 6.30{N}pm",
        ),
        (
            datetime(2025, 5, 6, 18, 30),
            datetime(2025, 5, 6, 22),
            False,
            f"mardi 6 mai 2025 de 18{N}h{N}30 à 22{N}h",
            f"Tuesday 6 May 2025, 6.30{N}pm to 10{N}pm",
        ),
        (
            datetime(2025, 5, 10, 22),
            datetime(2025, 5, 11, 2),
            False,
            f"samedi 10 mai 2025 de 22{N}h à 2{N}h (dans la nuit)",
            f"Saturday 10 May 2025, 10{N}pm to 2{N}am (overnight)",
        ),
        (
            datetime(2025, 5, 6, 18),
            datetime(2025, 5, 8, 12),
            False,
            f"du mardi 6 mai 2025 à 18{N}h au jeudi 8 mai 2025 à 12{N}h",
            f"Tuesday 6 May 2025 at 6{N}pm to Thursday 8 May 2025 at noon",
        ),
        (date(2025, 5, 1), None, True, "jeudi 1er mai 2025", "Thursday 1 May 2025"),
        (date(2025, 4, 12), date(2025, 4, 14), True, "du 12 au 14 avril 2025", "12–14 April 2025"),
        (
            date(2025, 4, 30),
            date(2025, 5, 2),
            True,
            "du 30 avril au 2 mai 2025",
            "30 April – 2 May 2025",
        ),
        (
            date(2025, 12, 30),
            date(2026, 1, 2),
            True,
            "du 30 décembre 2025 au 2 janvier 2026",
            "30 December 2025 – 2 January 2026",
        ),
    ],
)
def test_phrases(start, end, all_day, fr, en) -> None:  # type: ignore[no-untyped-def]
    assert date_phrase(start, end, all_day=all_day, lang="fr") == fr
    assert date_phrase(start, end, all_day=all_day, lang="en") == en


@pytest.mark.parametrize(
    ("start", "end", "all_day", "fr", "en"),
    [
        # An all-day event on the 1st, and spans that start or end on a 1st.
        (
            date(2026, 1, 1),
            date(2026, 1, 1),
            True,
            "jeudi 1er janvier 2026",
            "Thursday 1 January 2026",
        ),
        (date(2025, 5, 1), date(2025, 5, 3), True, "du 1er au 3 mai 2025", "1–3 May 2025"),
        (
            date(2025, 4, 1),
            date(2025, 5, 1),
            True,
            "du 1er avril au 1er mai 2025",
            "1 April – 1 May 2025",
        ),
        # A timed event on the 1st.
        (
            datetime(2025, 5, 1, 18, 30),
            datetime(2025, 5, 1, 22),
            False,
            f"jeudi 1er mai 2025 de 18{N}h{N}30 à 22{N}h",
            f"Thursday 1 May 2025, 6.30{N}pm to 10{N}pm",
        ),
        # Past midnight: ending at 6:00 the next day is still "in the night", 7:00 is not.
        (
            datetime(2025, 5, 10, 23, 30),
            datetime(2025, 5, 11, 6),
            False,
            f"samedi 10 mai 2025 de 23{N}h{N}30 à 6{N}h (dans la nuit)",
            f"Saturday 10 May 2025, 11.30{N}pm to 6{N}am (overnight)",
        ),
        (
            datetime(2025, 5, 10, 22),
            datetime(2025, 5, 11, 7),
            False,
            f"du samedi 10 mai 2025 à 22{N}h au dimanche 11 mai 2025 à 7{N}h",
            f"Saturday 10 May 2025 at 10{N}pm to Sunday 11 May 2025 at 7{N}am",
        ),
        # An end equal to the start says only when it starts.
        (
            datetime(2025, 5, 6, 18, 30),
            datetime(2025, 5, 6, 18, 30),
            False,
            f"mardi 6 mai 2025 à 18{N}h{N}30",
            f"Tuesday 6 May 2025 at 6.30{N}pm",
        ),
    ],
)
def test_more_phrases(start, end, all_day, fr, en) -> None:  # type: ignore[no-untyped-def]
    assert date_phrase(start, end, all_day=all_day, lang="fr") == fr
    assert date_phrase(start, end, all_day=all_day, lang="en") == en


def test_french_phrases_never_break_inside_a_time() -> None:
    phrase = date_phrase(
        datetime(2025, 5, 6, 18, 30), datetime(2025, 5, 6, 22), all_day=False, lang="fr"
    )
    assert "18 h" not in phrase and "h 30" not in phrase and "22 h" not in phrase
    assert f"18{N}h{N}30" in phrase and f"22{N}h" in phrase


def _weekly(days: list[int], month: int = 12, year: int = 2026, hours: tuple[int, int] = (14, 17)):  # type: ignore[no-untyped-def]
    return [(datetime(year, month, d, hours[0]), datetime(year, month, d, hours[1])) for d in days]


@pytest.mark.parametrize(
    ("occurrences", "all_day", "more_until", "fr", "en"),
    [
        # The same weekday, the same hours: listed by day, the weekday named once.
        (
            _weekly([3, 10, 17]),
            False,
            None,
            f"les jeudis 3, 10 et 17 décembre 2026 de 14{N}h à 17{N}h",
            f"Thursdays 3, 10 and 17 December 2026, 2{N}pm to 5{N}pm",
        ),
        # Across months, then across years: each month (and year) named where it changes.
        (
            [*_weekly([26], month=11), *_weekly([3, 10])],
            False,
            None,
            f"les jeudis 26 novembre, 3 et 10 décembre 2026 de 14{N}h à 17{N}h",
            f"Thursdays 26 November, 3 and 10 December 2026, 2{N}pm to 5{N}pm",
        ),
        (
            [*_weekly([31]), *_weekly([7], month=1, year=2027)],
            False,
            None,
            f"les jeudis 31 décembre 2026 et 7 janvier 2027 de 14{N}h à 17{N}h",
            f"Thursdays 31 December 2026 and 7 January 2027, 2{N}pm to 5{N}pm",
        ),
        # Different weekdays at the same hour: "les 1er et 5".
        (
            [(datetime(2026, 12, 1, 18, 30), None), (datetime(2026, 12, 5, 18, 30), None)],
            False,
            None,
            f"les 1er et 5 décembre 2026 à 18{N}h{N}30",
            f"1 and 5 December 2026 at 6.30{N}pm",
        ),
        # Different hours: one occurrence after the other, "\u00a0; " between them in French.
        (
            [
                (datetime(2026, 12, 1, 18, 30), datetime(2026, 12, 1, 20)),
                (datetime(2026, 12, 5, 10), datetime(2026, 12, 5, 12, 30)),
            ],
            False,
            None,
            f"mardi 1er décembre 2026 de 18{N}h{N}30 à 20{N}h{N}; "
            f"samedi 5 décembre 2026 de 10{N}h à 12{N}h{N}30",
            f"Tuesday 1 December 2026, 6.30{N}pm to 8{N}pm; "
            f"Saturday 5 December 2026, 10{N}am to 12.30{N}pm",
        ),
        # More dates than listed.
        (
            _weekly([3, 10]),
            False,
            date(2027, 2, 11),
            f"les jeudis 3 et 10 décembre 2026 de 14{N}h à 17{N}h, "
            "et d'autres dates jusqu'au 11 février 2027",
            f"Thursdays 3 and 10 December 2026, 2{N}pm to 5{N}pm, "
            "and more dates until 11 February 2027",
        ),
        (
            _weekly([3, 10]),
            False,
            date(2027, 4, 1),
            f"les jeudis 3 et 10 décembre 2026 de 14{N}h à 17{N}h, "
            "et d'autres dates jusqu'au 1er avril 2027",
            f"Thursdays 3 and 10 December 2026, 2{N}pm to 5{N}pm, "
            "and more dates until 1 April 2027",
        ),
        # All-day occurrences: days only, no hours; one "et" in the whole list.
        (
            [(date(2026, 12, 3), None), (date(2026, 12, 10), None)],
            True,
            None,
            "les jeudis 3 et 10 décembre 2026",
            "Thursdays 3 and 10 December 2026",
        ),
        (
            [(date(2026, 12, 1), None), (date(2026, 12, 5), None), (date(2027, 1, 2), None)],
            True,
            None,
            "les 1er et 5 décembre 2026 et 2 janvier 2027",
            "1 and 5 December 2026 and 2 January 2027",
        ),
        # All-day occurrences of several days each: one span after the other.
        (
            [(date(2026, 12, 1), date(2026, 12, 2)), (date(2026, 12, 30), date(2027, 1, 2))],
            True,
            None,
            f"du 1er au 2 décembre 2026{N}; du 30 décembre 2026 au 2 janvier 2027",
            "1–2 December 2026; 30 December 2026 – 2 January 2027",
        ),
        # Past midnight, every week: still "in the night", as for one occurrence.
        (
            [
                (datetime(2026, 12, 5, 22), datetime(2026, 12, 6, 2)),
                (datetime(2026, 12, 12, 22), datetime(2026, 12, 13, 2)),
            ],
            False,
            None,
            f"les samedis 5 et 12 décembre 2026 de 22{N}h à 2{N}h (dans la nuit)",
            f"Saturdays 5 and 12 December 2026, 10{N}pm to 2{N}am (overnight)",
        ),
    ],
)
def test_dates_phrase(occurrences, all_day, more_until, fr, en) -> None:  # type: ignore[no-untyped-def]
    assert dates_phrase(occurrences, all_day=all_day, lang="fr", more_until=more_until) == fr
    assert dates_phrase(occurrences, all_day=all_day, lang="en", more_until=more_until) == en


def test_dates_phrase_of_one_occurrence_is_its_date_phrase() -> None:
    start, end = datetime(2025, 5, 6, 18, 30), datetime(2025, 5, 6, 22)
    for lang in ("fr", "en"):
        assert dates_phrase([(start, end)], all_day=False, lang=lang) == date_phrase(
            start, end, all_day=False, lang=lang
        )


def test_dates_phrase_needs_an_occurrence() -> None:
    with pytest.raises(ValueError, match="no occurrence"):
        dates_phrase([], all_day=False, lang="fr")


def test_french_lists_keep_no_break_spaces() -> None:
    phrase = dates_phrase(
        [
            (datetime(2026, 12, 1, 18, 30), datetime(2026, 12, 1, 20)),
            (datetime(2026, 12, 5, 10), datetime(2026, 12, 5, 12)),
        ],
        all_day=False,
        lang="fr",
    )
    assert " ;" not in phrase and f"{N}; " in phrase
    assert " h" not in phrase.replace(f"{N}h", "")


@pytest.mark.parametrize(
    ("zone_name", "fr", "en"),
    [
        ("Indian/Mayotte", " (heure de Mayotte)", " (Mayotte Time)"),
        ("Indian/Reunion", " (heure de La Réunion)", None),
        ("America/Cayenne", " (heure de Cayenne)", None),
        ("Europe/Paris", "", ""),
        ("UTC", "", ""),
    ],
)
def test_zone_note(zone_name: str, fr: str, en: str | None) -> None:
    assert zone_note(zone_name, "Europe/Paris", "fr") == fr
    english = zone_note(zone_name, "Europe/Paris", "en")
    if en is not None:
        assert english == en
    else:
        assert english.startswith(" (") and english.endswith(")") and "heure" not in english


def test_zone_note_is_relative_to_the_service_zone() -> None:
    assert zone_note("Indian/Mayotte", "Indian/Mayotte", "fr") == ""
    assert zone_note("Europe/Paris", "Indian/Mayotte", "fr") == " (heure de Paris)"
