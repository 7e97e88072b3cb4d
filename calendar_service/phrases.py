"""Date phrases written the way a newsletter editor writes them (pure; names from Babel).

French: "mardi 6 mai 2025 à 18 h 30", "de 18 h 30 à 22 h", "du 12 au 14 avril 2025",
"jeudi 1er mai 2025". English: "Tuesday 6 May 2025 at 6.30 pm", "12–14 April 2025".
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, get_timezone_location

NBSP = "\u00a0"
# An event ending before this hour on the next day ends "in the night", not on another day.
NIGHT_ENDS = time(6)


def _weekday(day: date, lang: str) -> str:
    return str(format_date(day, "EEEE", locale=lang))


def _month(day: date, lang: str) -> str:
    return str(format_date(day, "MMMM", locale=lang))


def _day_number(day: date, lang: str) -> str:
    return "1er" if lang == "fr" and day.day == 1 else str(day.day)


def _day(day: date, lang: str, *, weekday: bool = True, year: bool = True) -> str:
    parts = [_weekday(day, lang)] if weekday else []
    parts += [_day_number(day, lang), _month(day, lang)]
    if year:
        parts.append(str(day.year))
    return " ".join(parts)


def clock(moment: time, lang: str) -> str:
    """18 h 30, 22 h, minuit (French, with no-break spaces); 6.30 pm, 10 pm, noon (English)."""
    if lang == "fr":
        if moment == time(0):
            return "minuit"
        hours = f"{moment.hour}{NBSP}h"
        return hours + (f"{NBSP}{moment.minute:02d}" if moment.minute else "")
    if moment in (time(0), time(12)):
        return "midnight" if moment.hour == 0 else "noon"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f".{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{NBSP}{suffix}"


def _span_of_days(first: date, last: date, lang: str) -> str:
    to = _day(last, lang, weekday=False)
    if (first.year, first.month) == (last.year, last.month):
        since = _day_number(first, lang) if lang == "fr" else str(first.day)
    else:
        since = _day(first, lang, weekday=False, year=first.year != last.year)
    if lang == "fr":
        return f"du {since} au {to}"
    same_month = (first.year, first.month) == (last.year, last.month)
    return f"{since}–{to}" if same_month else f"{since} – {to}"


def date_phrase(
    start: date | datetime, end: date | datetime | None, *, all_day: bool, lang: str
) -> str:
    """When an occurrence happens, in local wall time, as an editor would write it."""
    if all_day:
        first = start if not isinstance(start, datetime) else start.date()
        last = end if end is not None else first
        last = last.date() if isinstance(last, datetime) else last
        if last <= first:
            return _day(first, lang)
        return _span_of_days(first, last, lang)
    assert isinstance(start, datetime)
    day = _day(start.date(), lang)
    if end is None or end == start or _one_day(start, end, all_day=False):
        return day + hours_phrase(start, end if isinstance(end, datetime) else None, lang)
    assert isinstance(end, datetime)
    if lang == "fr":
        return (
            f"du {day} à {clock(start.time(), lang)} "
            f"au {_day(end.date(), lang)} à {clock(end.time(), lang)}"
        )
    return (
        f"{day} at {clock(start.time(), lang)} to "
        f"{_day(end.date(), lang)} at {clock(end.time(), lang)}"
    )


# A digest lists at most this many dates of a recurring event, then says "and more".
MAX_LISTED_DATES = 6


def _join(items: list[str], lang: str) -> str:
    if len(items) == 1:
        return items[0]
    word = " et " if lang == "fr" else " and "
    return ", ".join(items[:-1]) + word + items[-1]


def list_of_days(days: list[date], lang: str) -> str:
    """10 et 17 décembre 2026, 7, 14 et 21 janvier 2027; 1er et 5 décembre 2026 et 2 janvier
    2027: the days of each month with their own "et", months (and years) named once."""
    months: list[list[date]] = []
    for day in days:
        if months and (months[-1][0].year, months[-1][0].month) == (day.year, day.month):
            months[-1].append(day)
        else:
            months.append([day])
    parts = []
    for index, month in enumerate(months):
        following = months[index + 1][0] if index + 1 < len(months) else None
        numbers = [_day_number(d, lang) if lang == "fr" else str(d.day) for d in month]
        text = f"{_join(numbers, lang)} {_month(month[0], lang)}"
        if following is None or following.year != month[0].year:
            text += f" {month[0].year}"
        parts.append(text)
    if len(parts) > 1 and len(months[-1]) > 1:
        # "10 et 17 décembre 2026, 7, 14 et 21 janvier 2027": the last month has its own "et".
        return ", ".join(parts)
    return _join(parts, lang)


def _weekday_plural(day: date, lang: str) -> str:
    name = _weekday(day, lang)
    return f"les {name}s" if lang == "fr" else f"{name}s"


def dates_phrase(
    occurrences: list[tuple[date | datetime, date | datetime | None]],
    *,
    all_day: bool,
    lang: str,
    more_until: date | None = None,
    more: bool = False,
) -> str:
    """Several occurrences of one event, as an editor lists them: "les jeudis 3, 10 et 17
    décembre 2026 de 14 h à 17 h". ``more_until`` adds "et d'autres dates jusqu'au ...", and
    ``more`` alone "et d'autres dates" (a series without end).

    Occurrences of one day each, at the same hours, are listed by day; anything else is
    listed one occurrence after the other.
    """
    if not occurrences:
        raise ValueError("no occurrence to describe")
    if len(occurrences) == 1:
        start, end = occurrences[0]
        text = date_phrase(start, end, all_day=all_day, lang=lang)
        return text + (_more(more_until, lang) if more_until is not None or more else "")
    days = [s.date() if isinstance(s, datetime) else s for s, _ in occurrences]
    single_days = all(_one_day(start, end, all_day=all_day) for start, end in occurrences) and len(
        set(days)
    ) == len(days)
    hours = {
        (s.time(), e.time() if isinstance(e, datetime) else None)
        for s, e in occurrences
        if isinstance(s, datetime)
    }
    if single_days and (all_day or len(hours) == 1):
        same_weekday = len({d.weekday() for d in days}) == 1
        listed = list_of_days(days, lang)
        if same_weekday:
            text = f"{_weekday_plural(days[0], lang)} {listed}"
        else:
            text = f"les {listed}" if lang == "fr" else listed
        if not all_day:
            start, end = occurrences[0]
            assert isinstance(start, datetime)
            text += hours_phrase(start, end if isinstance(end, datetime) else None, lang)
    else:
        separator = " ; " if lang == "fr" else "; "
        text = separator.join(date_phrase(s, e, all_day=all_day, lang=lang) for s, e in occurrences)
    if more_until is not None or more:
        text += _more(more_until, lang)
    return text.replace(" ;", NBSP + ";")


def _more(until: date | None, lang: str) -> str:
    if until is None:  # a series without end
        return ", et d'autres dates" if lang == "fr" else ", and more dates"
    day = _day(until, lang, weekday=False)
    return (
        f", et d'autres dates jusqu'au {day}" if lang == "fr" else f", and more dates until {day}"
    )


def _one_day(start: date | datetime, end: date | datetime | None, *, all_day: bool) -> bool:
    """Whether an occurrence is told as one day: the same day, or ending in the night."""
    if end is None:
        return True
    if all_day:
        first = start.date() if isinstance(start, datetime) else start
        last = end.date() if isinstance(end, datetime) else end
        return last <= first
    assert isinstance(start, datetime) and isinstance(end, datetime)
    return end.date() == start.date() or _overnight(start, end)


def _overnight(start: datetime, end: datetime) -> bool:
    return end.date() == start.date() + timedelta(days=1) and end.time() <= NIGHT_ENDS


def hours_phrase(start: datetime, end: datetime | None, lang: str) -> str:
    """ " à 18 h 30", " de 18 h 30 à 22 h (dans la nuit)"; English " at 6.30 pm", ", 6.30 pm
    to 10 pm (overnight)". A night ending at midnight says nothing more than "minuit"."""
    if end is None or end == start:
        at = "à" if lang == "fr" else "at"
        return f" {at} {clock(start.time(), lang)}"
    night = _overnight(start, end) and end.time() != time(0)
    if lang == "fr":
        note = " (dans la nuit)" if night else ""
        return f" de {clock(start.time(), lang)} à {clock(end.time(), lang)}{note}"
    note = " (overnight)" if night else ""
    return f", {clock(start.time(), lang)} to {clock(end.time(), lang)}{note}"


def zone_note(zone_name: str, default_zone: str, lang: str) -> str:
    """ " (heure de Mayotte)" when an event keeps another zone's time than the service's."""
    if zone_name == default_zone or zone_name in ("UTC", "Etc/UTC"):
        return ""
    try:
        if lang == "fr":
            return f" (heure de {get_timezone_location(zone_name, locale='fr', return_city=True)})"
        return f" ({get_timezone_location(zone_name, locale=lang)})"
    except LookupError:  # a zone Babel does not know (stored by an older version)
        return f" ({zone_name.rsplit('/', 1)[-1].replace('_', ' ')})"


def inner_quotes(title: str, lang: str) -> str:
    """A title made ready to sit inside quotes: the quotes it holds change to the inner kind,
    so « Concert « Voix d'exil » » reads « Concert “Voix d'exil” » in French, and
    “Screening: “Outrepasser”” reads “Screening: ‘Outrepasser’” in English."""
    inner = "“\\1”" if lang == "fr" else "‘\\1’"
    title = re.sub(r"«\s*(.*?)\s*»", inner, title)
    return title if lang == "fr" else re.sub(r"“(.*?)”", inner, title)
