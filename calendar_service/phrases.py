"""Date phrases written the way a newsletter editor writes them (pure; names from Babel).

French: "mardi 6 mai 2025 à 18 h 30", "de 18 h 30 à 22 h", "du 12 au 14 avril 2025",
"jeudi 1er mai 2025". English: "Tuesday 6 May 2025 at 6.30 pm", "12–14 April 2025".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_date

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
    """18 h 30, 22 h (French, with no-break spaces); 6.30 pm, 10 pm (English)."""
    if lang == "fr":
        hours = f"{moment.hour}{NBSP}h"
        return hours + (f"{NBSP}{moment.minute:02d}" if moment.minute else "")
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
    at = "à" if lang == "fr" else "at"
    if end is None or end == start:
        return f"{day} {at} {clock(start.time(), lang)}"
    assert isinstance(end, datetime)
    overnight = end.date() == start.date() + timedelta(days=1) and end.time() <= NIGHT_ENDS
    if end.date() == start.date() or overnight:
        if lang == "fr":
            night = " (dans la nuit)" if overnight else ""
            return f"{day} de {clock(start.time(), lang)} à {clock(end.time(), lang)}{night}"
        night = " (overnight)" if overnight else ""
        return f"{day}, {clock(start.time(), lang)} to {clock(end.time(), lang)}{night}"
    if lang == "fr":
        return (
            f"du {day} à {clock(start.time(), lang)} "
            f"au {_day(end.date(), lang)} à {clock(end.time(), lang)}"
        )
    return (
        f"{day} at {clock(start.time(), lang)} to "
        f"{_day(end.date(), lang)} at {clock(end.time(), lang)}"
    )
