"""Date phrases as a newsletter editor writes them, in French and English."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from calendar_service.phrases import date_phrase

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
            f"Tuesday 6 May 2025 at 6{N}pm to Thursday 8 May 2025 at 12{N}pm",
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
