"""A recurrence said in words, as an editor would: "chaque jeudi jusqu'au 12 juin",
"un mardi sur deux, 8 fois", "le premier jeudi de chaque mois", "every Thursday until 12 June".

Pure: it reads a stored event's document (canonical RRULE, RDATE and EXDATE) and falls back to
naming the rule itself when it is more intricate than a sentence can say plainly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date

from calendar_service.dates import zone
from calendar_service.digits import is_number
from calendar_service.phrases import list_of_days

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ORDINALS = {
    "fr": {
        1: "premier",
        2: "deuxième",
        3: "troisième",
        4: "quatrième",
        5: "cinquième",
        -1: "dernier",
    },
    "en": {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"},
}
_UNITS = {
    "fr": {"DAILY": "jours", "WEEKLY": "semaines", "MONTHLY": "mois", "YEARLY": "ans"},
    "en": {"DAILY": "days", "WEEKLY": "weeks", "MONTHLY": "months", "YEARLY": "years"},
}


def _lang(lang: str) -> str:
    return lang if lang in ("fr", "en") else "en"


def weekday_name(code: str, lang: str) -> str:
    """The name of an RRULE weekday ("TH" → "jeudi" / "Thursday")."""
    day = date(2024, 1, 1 + WEEKDAYS.index(code))  # 2024-01-01 was a Monday
    return str(format_date(day, "EEEE", locale=_lang(lang)))


def _and(names: list[str], lang: str) -> str:
    word = " et " if lang == "fr" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + word + names[-1]


def _day(day: date, lang: str, *, year: bool) -> str:
    if lang == "fr":
        number = "1er" if day.day == 1 else str(day.day)
        text = f"{number} {format_date(day, 'MMMM', locale='fr')}"
    else:
        text = f"{day.day} {format_date(day, 'MMMM', locale='en')}"
    return f"{text} {day.year}" if year else text


def parse_rule(rule: str) -> dict[str, str]:
    """The parts of a canonical RRULE ("FREQ=WEEKLY;BYDAY=TH" → {"FREQ": "WEEKLY", ...})."""
    parts: dict[str, str] = {}
    for piece in rule.removeprefix("RRULE:").split(";"):
        name, _, value = piece.partition("=")
        if name:
            parts[name.upper()] = value.upper()
    return parts


def until_day(value: str, tz_name: str) -> date:
    """The local last day of an UNTIL value (a date, or a UTC date-time)."""
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d").date()
    moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return moment.astimezone(zone(tz_name)).date()


def _by_day(value: str) -> list[tuple[int | None, str]]:
    days = []
    for item in value.split(","):
        code = item[-2:]
        number = item[:-2]
        if code not in WEEKDAYS or (number and not is_number(number.lstrip("+-"))):
            raise ValueError(item)
        days.append((int(number) if number else None, code))
    return days


def _weekly(parts: dict[str, str], start: date, interval: int, lang: str) -> str:
    codes = [code for _, code in _by_day(parts["BYDAY"])] if "BYDAY" in parts else []
    codes = codes or [WEEKDAYS[start.weekday()]]
    names = [weekday_name(c, lang) for c in sorted(codes, key=WEEKDAYS.index)]
    if lang == "fr":
        if interval == 1:
            return "chaque " + _and(names, lang)
        with_articles = _and([f"le {n}" for n in names], lang)
        if interval == 2:
            if len(names) == 1:
                return f"un {names[0]} sur deux"
            return f"{with_articles}, une semaine sur deux"
        return f"toutes les {interval} semaines, {with_articles}"
    plural = [f"{n}s" if len(names) == 1 else n for n in names]
    if interval == 1:
        return "every " + _and(names, lang)
    if interval == 2:
        return "every other " + _and(names, lang)
    return f"every {interval} weeks on " + _and(plural, lang)


def _monthly(parts: dict[str, str], start: date, interval: int, lang: str) -> str:
    every = (
        ("chaque mois" if interval == 1 else f"tous les {interval} mois")
        if lang == "fr"
        else ("every month" if interval == 1 else f"every {interval} months")
    )
    if "BYDAY" in parts:
        days = _by_day(parts["BYDAY"])
        if len(days) != 1 or days[0][0] not in _ORDINALS["en"]:
            raise ValueError(parts["BYDAY"])
        number, code = days[0]
        assert number is not None
        name = weekday_name(code, lang)
        ordinal = _ORDINALS[lang][number]
        if lang == "fr":
            of = "de chaque mois" if interval == 1 else f"du mois, tous les {interval} mois"
            return f"le {ordinal} {name} {of}"
        if interval == 1:
            return f"on the {ordinal} {name} of every month"
        return f"on the {ordinal} {name}, {every}"
    day = int(parts.get("BYMONTHDAY", start.day))
    if lang == "fr":
        return f"{every}, le {'1er' if day == 1 else day}"
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{every} on the {day}{suffix}"


def _simple(parts: dict[str, str], start: date, lang: str) -> str:
    freq = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    allowed = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}
    if freq == "WEEKLY":
        allowed.add("BYDAY")
    if freq == "MONTHLY":
        allowed |= {"BYDAY", "BYMONTHDAY"}
        if "BYMONTHDAY" in parts and not is_number(parts["BYMONTHDAY"]):
            raise ValueError(parts["BYMONTHDAY"])
    if set(parts) - allowed:
        raise ValueError(parts)
    if freq == "WEEKLY":
        return _weekly(parts, start, interval, lang)
    if freq == "MONTHLY":
        return _monthly(parts, start, interval, lang)
    unit = _UNITS[lang][freq]
    if freq == "DAILY":
        if lang == "fr":
            return "chaque jour" if interval == 1 else f"tous les {interval} {unit}"
        return "every day" if interval == 1 else f"every {interval} {unit}"
    on = _day(start, lang, year=False)
    if lang == "fr":
        return ("chaque année" if interval == 1 else f"tous les {interval} {unit}") + f", le {on}"
    return ("every year" if interval == 1 else f"every {interval} {unit}") + f" on {on}"


def rule_phrase(
    rule: str, start: date, tz_name: str, lang: str, *, last: date | None = None, hours: str = ""
) -> str:
    """An RRULE in words, with its end ("jusqu'au 12 juin", ", 8 fois"). ``last``, the day of
    the series' true last occurrence, names the end instead (with its year: "jusqu'au 24 juin
    2027", where UNTIL may fall on a later day); ``hours`` (" de 14 h à 17 h") follows the days."""
    lang = _lang(lang)
    parts = parse_rule(rule)
    try:
        text = _simple(parts, start, lang)
    except (ValueError, KeyError):
        text = ("selon la règle " if lang == "fr" else "following the rule ") + rule
        return text
    text += hours
    if last is not None and ("UNTIL" in parts or "COUNT" in parts):
        shown = _day(last, lang, year=True)
        text += f", jusqu'au {shown}" if lang == "fr" else f", until {shown}"
    elif "UNTIL" in parts:
        last = until_day(parts["UNTIL"], tz_name)
        shown = _day(last, lang, year=last.year != start.year)
        text += f" jusqu'au {shown}" if lang == "fr" else f" until {shown}"
    elif "COUNT" in parts:
        count = int(parts["COUNT"])
        if lang == "fr":
            text += f", {count} fois" if count > 1 else ", une fois"
        else:
            text += f", {count} times" if count > 1 else ", once"
    return text


def _as_day(value: str) -> date:
    return date.fromisoformat(value[:10])


def recurrence_phrase(
    document: dict[str, Any], lang: str, *, last: date | None = None, hours: str = ""
) -> str:
    """The whole recurrence of a stored event's document in words, or "" for a single date
    (``last`` and ``hours`` as in ``rule_phrase``)."""
    lang = _lang(lang)
    recurrence = document.get("recurrence") or {}
    start = _as_day(str(document["start"]))
    pieces: list[str] = []
    if recurrence.get("rrule"):
        pieces.append(
            rule_phrase(
                recurrence["rrule"], start, document["timezone"], lang, last=last, hours=hours
            )
        )
    rdates = recurrence.get("rdates") or []
    if rdates:
        days = sorted({_as_day(str(v)) for v in rdates})
        listed = _and([_day(d, lang, year=d.year != start.year) for d in days[:5]], lang)
        more = len(days) - 5
        if lang == "fr":
            extra = f"et aussi le {listed}" + (f" (et {more} autres)" if more > 0 else "")
        else:
            extra = f"also on {listed}" + (f" (and {more} more)" if more > 0 else "")
        pieces.append(extra)
    exdates = recurrence.get("exdates") or []
    if exdates:
        # "sauf les 24 et 31 décembre 2026": the days of a month together, months named once.
        days = sorted({_as_day(str(v)) for v in exdates})
        listed = list_of_days(days[:5], lang)
        more = len(days) - 5
        if lang == "fr":
            said = f"sauf le {listed}" if len(days) == 1 else f"sauf les {listed}"
            pieces.append(said + (f" (et {more} autres)" if more > 0 else ""))
        else:
            pieces.append(f"except {listed}" + (f" (and {more} more)" if more > 0 else ""))
    return ", ".join(pieces)
