"""Recurrence rules, checked and expanded without I/O."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from calendar_service.recurrence import RecurrenceError, expand, normalise_rrule

PARIS = ZoneInfo("Europe/Paris")


def test_until_as_a_date_covers_the_whole_local_day() -> None:
    rule = normalise_rrule(
        "FREQ=WEEKLY;UNTIL=20270612", datetime(2027, 5, 1, 18, 30), PARIS, all_day=False, cap=100
    )
    assert rule == "FREQ=WEEKLY;UNTIL=20270612T215959Z"
    starts, complete = expand(
        start=datetime(2027, 5, 1, 18, 30),
        rrule=rule,
        rdates=[],
        exdates=[],
        tz=PARIS,
        all_day=False,
        cap=100,
    )
    assert complete and starts[-1] == datetime(2027, 6, 12, 18, 30)


def test_all_day_until_stays_a_date() -> None:
    rule = normalise_rrule(
        "rrule:freq=daily;until=20270105", date(2027, 1, 1), PARIS, all_day=True, cap=9
    )
    assert rule == "FREQ=DAILY;UNTIL=20270105"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty"),
        ("FREQ=SOMETIMES", "FREQ=SOMETIMES is not allowed"),
        ("FREQ=MINUTELY", "not allowed"),
        ("COUNT=3", "FREQ is required"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270601", "not both"),
        ("FREQ=WEEKLY;COUNT=0", "at least 1"),
        ("FREQ=WEEKLY;COUNT=5000", "more than"),
        ("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "UNTIL=TOMORROW"),
        ("FREQ=WEEKLY;COLOR=RED", "unknown RRULE part"),
        ("FREQ=WEEKLY;FREQ=DAILY", "twice"),
        ("FREQ=WEEKLY;UNTIL=20200101", "no date at all"),
        ("FREQ=WEEKLY;BYDAY=TH", "not one of the rule's dates"),
    ],
)
def test_bad_rules_are_explained(rule: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        # 2027-05-04 is a Tuesday.
        normalise_rrule(rule, datetime(2027, 5, 4, 18, 30), PARIS, all_day=False, cap=1000)


def test_expansion_adds_rdates_removes_exdates_and_respects_the_cap() -> None:
    start = datetime(2027, 1, 7, 14)
    starts, complete = expand(
        start=start,
        rrule="FREQ=WEEKLY",
        rdates=[datetime(2027, 1, 9, 10)],
        exdates=[datetime(2027, 1, 14, 14)],
        tz=PARIS,
        all_day=False,
        cap=5,
    )
    assert not complete
    assert starts == [
        datetime(2027, 1, 7, 14),
        datetime(2027, 1, 9, 10),
        datetime(2027, 1, 21, 14),
        datetime(2027, 1, 28, 14),
        datetime(2027, 2, 4, 14),
    ]


def test_occurrence_in_the_dst_gap_is_kept_not_dropped() -> None:
    starts, _ = expand(
        start=datetime(2027, 3, 21, 2, 30),
        rrule="FREQ=DAILY;COUNT=10",
        rdates=[],
        exdates=[],
        tz=PARIS,
        all_day=False,
        cap=100,
    )
    assert datetime(2027, 3, 28, 2, 30) in starts
