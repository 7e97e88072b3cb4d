"""The bounded recurrence engine gives exactly dateutil's dates, and stays bounded on rules that
would make dateutil walk to the year 9999."""

from __future__ import annotations

import random
import time as clock
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as dateutil_rrule

from calendar_service.recurrence import (
    MAX_DATES_PER_DAY,
    MAX_DATES_PER_YEAR,
    RecurrenceError,
    compile_rule,
    expand,
    normalise_rrule,
)

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _pick(rng: random.Random, values: list[int], most: int) -> str:
    return ",".join(str(v) for v in rng.sample(values, rng.randint(1, most)))


def _random_rule(rng: random.Random) -> str:
    freq = rng.choice(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"])
    parts = [f"FREQ={freq}"]
    if rng.random() < 0.4:
        parts.append(f"INTERVAL={rng.randint(2, 5)}")
    if rng.random() < 0.3:
        parts.append(f"BYMONTH={_pick(rng, list(range(1, 13)), 4)}")
    if rng.random() < 0.5:
        if freq in ("MONTHLY", "YEARLY") and rng.random() < 0.5:
            ordinals = [1, 2, 3, 4, -1, -2] if freq == "MONTHLY" else [1, 2, 10, 20, -1, -5]
            days = [f"{rng.choice(ordinals)}{rng.choice(DAYS)}" for _ in range(rng.randint(1, 2))]
            parts.append("BYDAY=" + ",".join(dict.fromkeys(days)))
        else:
            parts.append("BYDAY=" + ",".join(rng.sample(DAYS, rng.randint(1, 4))))
    if freq != "WEEKLY" and rng.random() < 0.3:
        parts.append(f"BYMONTHDAY={_pick(rng, [1, 2, 13, 15, 28, 30, 31, -1, -3], 3)}")
    if freq == "YEARLY" and rng.random() < 0.15:
        parts.append(f"BYYEARDAY={_pick(rng, [1, 60, 100, 200, 365, -1, -30], 2)}")
    if freq == "YEARLY" and rng.random() < 0.15 and not any("BYDAY=" in p for p in parts):
        parts.append(f"BYWEEKNO={_pick(rng, [1, 10, 20, 52, 53, -1], 2)}")
    if rng.random() < 0.3:
        parts.append(f"BYHOUR={_pick(rng, [9, 14, 18, 20], 2)}")
    if rng.random() < 0.15:
        parts.append(f"BYMINUTE={_pick(rng, [0, 15, 30], 2)}")
    if freq != "WEEKLY" and len(parts) > 1 and rng.random() < 0.25:
        parts.append(f"BYSETPOS={_pick(rng, [1, 2, -1, 3], 2)}")
    if rng.random() < 0.2:
        parts.append(f"WKST={rng.choice(DAYS)}")
    if rng.random() < 0.3:
        parts.append(f"COUNT={rng.randint(1, 40)}")
    elif rng.random() < 0.3:
        parts.append(f"UNTIL={rng.randint(2028, 2040)}0{rng.randint(1, 9)}15T120000")
    return ";".join(parts)


def _cases(n: int, seed: int) -> list[tuple[str, datetime]]:
    """Rules whose start is their first date (the engine's own first date from an arbitrary
    day), so that both sides start at the same place."""
    rng = random.Random(seed)
    found = []
    while len(found) < n:
        rule = _random_rule(rng)
        probe = datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.choice([9, 14, 18]), 0)
        try:
            compiled = compile_rule(rule, probe, PARIS, all_day=False)
        except RecurrenceError:
            continue
        first = next(compiled.dates(before=probe + timedelta(days=3 * 366)), None)
        if first is None:
            continue
        found.append((rule, first))
    return found


def _dateutil(rule: str, start: datetime, limit: int) -> list[datetime]:
    return list(islice(dateutil_rrule.rrulestr(rule, dtstart=start), limit))


@pytest.mark.parametrize(("rule", "start"), _cases(400, seed=5))
def test_engine_gives_dateutils_dates(rule: str, start: datetime) -> None:
    compiled = compile_rule(rule, start, PARIS, all_day=False)
    ours = list(islice(compiled.dates(before=start + timedelta(days=40 * 366)), 60))
    # dateutil walks from the start too: bounded here because the rule has dates every few
    # years at most (ours found them), or stops at its UNTIL/COUNT.
    theirs = [
        d for d in _dateutil(rule, start, len(ours) + 1) if d <= start + timedelta(days=40 * 366)
    ]
    assert ours == theirs[: len(ours)]
    assert len(theirs) == len(ours) or len(ours) == 60


@pytest.mark.parametrize(("rule", "start"), _cases(150, seed=11))
def test_a_window_far_from_the_start_gives_the_same_dates(rule: str, start: datetime) -> None:
    compiled = compile_rule(rule, start, PARIS, all_day=False)
    everything = list(compiled.dates(before=datetime(2040, 1, 1)))
    after, before = datetime(2033, 3, 1), datetime(2035, 3, 1)
    window = list(compiled.dates(after=after, before=before))
    assert window == [d for d in everything if after <= d <= before]


def test_a_rule_that_never_matches_is_refused_at_once() -> None:
    started = clock.perf_counter()
    for rule in (
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=6",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    ):
        with pytest.raises(RecurrenceError, match=r"no date at all|not one of the rule's dates"):
            normalise_rrule(rule, datetime(2027, 1, 1, 18), PARIS, all_day=False, cap=1000)
    # dateutil alone takes seconds on the first of these; this is about the loop, not speed.
    assert clock.perf_counter() - started < 2


def test_a_start_that_the_rule_does_not_make_is_refused_with_the_first_date() -> None:
    with pytest.raises(RecurrenceError, match="first date is 2027-05-06T18:30:00"):
        normalise_rrule(
            "FREQ=WEEKLY;BYDAY=TH", datetime(2027, 5, 4, 18, 30), PARIS, all_day=False, cap=100
        )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,30", "dates a day"),
        (
            "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)),
            f"more than {MAX_DATES_PER_YEAR} dates a year",
        ),
        ("FREQ=DAILY;BYSECOND=" + ",".join(str(s) for s in range(60)), "dates a day"),
        ("FREQ=WEEKLY;BYMONTHDAY=4", "cannot be used with FREQ=WEEKLY"),
        ("FREQ=MONTHLY;BYWEEKNO=3", "cannot be used with FREQ=MONTHLY"),
        ("FREQ=DAILY;BYYEARDAY=4", "cannot be used with FREQ=DAILY"),
        ("FREQ=WEEKLY;BYDAY=TU;BYSETPOS=1", "cannot be used with FREQ=WEEKLY"),
        ("FREQ=WEEKLY;BYDAY=2TU", "numbered weekday"),
        ("FREQ=MONTHLY;BYDAY=6TU", "out of range"),
        ("FREQ=MONTHLY;BYSETPOS=1", "needs another BY"),
        ("FREQ=DAILY;COUNT=²", "whole number"),
        ("FREQ=DAILY;INTERVAL=٣", "whole number"),
        ("FREQ=DAILY;INTERVAL=100000", "from 1 to"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "out of range"),
        ("FREQ=MONTHLY;BYMONTHDAY=4²", "whole numbers"),
        ("FREQ=DAILY;UNTIL=18991231", "after 1900"),
        ("FREQ=DAILY;BYHOUR=25", "out of range"),
    ],
)
def test_rules_past_the_limits_or_outside_the_rfc_are_refused(rule: str, message: str) -> None:
    with pytest.raises(RecurrenceError, match=message):
        normalise_rrule(rule, datetime(2027, 5, 4, 0, 0), PARIS, all_day=False, cap=1000)


def test_the_limits_let_a_busy_real_rule_through() -> None:
    # A festival: four screenings a day for a week.
    rule = normalise_rrule(
        "FREQ=DAILY;COUNT=28;BYHOUR=10,14,18,21",
        datetime(2027, 7, 1, 10),
        PARIS,
        all_day=False,
        cap=1000,
    )
    starts, complete = expand(
        start=datetime(2027, 7, 1, 10),
        rrule=rule,
        rdates=[],
        exdates=[],
        tz=PARIS,
        all_day=False,
        cap=1000,
    )
    assert complete and len(starts) == 28 and MAX_DATES_PER_DAY >= 4


def test_a_series_begun_long_ago_expands_its_window_without_walking_from_its_start() -> None:
    start = datetime(1901, 1, 1, 9)
    rule = normalise_rrule("FREQ=DAILY", start, PARIS, all_day=False, cap=1000)
    started = clock.perf_counter()
    starts, complete = expand(
        start=start,
        rrule=rule,
        rdates=[],
        exdates=[],
        tz=PARIS,
        all_day=False,
        after=datetime(2199, 12, 25),
        until=datetime(2199, 12, 31, 23, 59),
        cap=1000,
    )
    assert starts == [datetime(2199, 12, d, 9) for d in range(25, 32)]
    assert not complete
    assert clock.perf_counter() - started < 1


def test_a_sparse_rule_with_a_count_stops_at_the_last_supported_year() -> None:
    # A Monday the 29th of February: once in 28 years or so; COUNT cannot be reached by 2200.
    start = datetime(2044, 2, 29, 12)
    rule = normalise_rrule(
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=1000",
        start,
        PARIS,
        all_day=False,
        cap=1000,
    )
    starts, complete = expand(
        start=start, rrule=rule, rdates=[], exdates=[], tz=PARIS, all_day=False, cap=1000
    )
    assert starts[:3] == [start, datetime(2072, 2, 29, 12), datetime(2112, 2, 29, 12)]
    assert all(s.year <= 2200 for s in starts) and complete


def test_all_day_rules_take_no_hours() -> None:
    with pytest.raises(RecurrenceError, match="all-day"):
        normalise_rrule("FREQ=DAILY;BYHOUR=9", date(2027, 5, 4), PARIS, all_day=True, cap=100)


def test_an_until_in_the_year_9999_means_for_ever() -> None:
    rule = normalise_rrule(
        "FREQ=WEEKLY;UNTIL=99991231T000000Z", datetime(2027, 1, 7, 11), PARIS, all_day=False, cap=10
    )
    assert rule == "FREQ=WEEKLY;UNTIL=22001231T225900Z"
