"""The editors' event form: its fields, turning what was typed into an event document (and a
stored document back into the form), and the validation errors said next to each field, in the
page's language.

Field names are the document's dotted paths ("title.fr", "location.city", "partners.0.name"),
so an error of the shared validation lands next to the field it names. Dates and times are
typed in separate fields ("start.date", "start.time"); a recurrence is built from plain choices
("repeat", "repeat.interval", "repeat.day.TH", "repeat.end", "repeat.until", "repeat.count") or,
for the rare rule those cannot say, typed as an RRULE ("recurrence.rrule").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from calendar_service.recurrence_text import WEEKDAYS, parse_rule, until_day
from calendar_service.vocabulary import ACCESS_FEATURES

LOCALIZED = (
    "title",
    "summary",
    "description",
    "price",
    "status_note",
    "image.alt",
    "accessibility.note",
    "audience.note",
)
SINGLES = (
    "slug",
    "category",
    "status",
    "state",
    "timezone",
    "attendance_mode",
    "online_url",
    "url",
    "registration_url",
)
LOCATION = ("name", "address", "postal_code", "city", "country")
ORGANIZER = ("name", "url", "email")
IMAGE = ("url", "credit", "media")
REPEATS = ("none", "daily", "weekly", "monthly", "yearly", "custom")
REPEAT_FREQ = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "YEARLY"}
REPEAT_ENDS = ("never", "until", "count")
EXTRA_PARTNER_ROWS = 2
MAX_PARTNER_ROWS = 30

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "required": "Ce champ est obligatoire.",
        "bad_date": "Indiquez une date, par exemple 2027-06-12.",
        "bad_time": "Indiquez une heure, par exemple 18:30.",
        "need_time": "Indiquez l'heure de début, ou cochez « toute la journée ».",
        "end_time_alone": "Indiquez aussi la date de fin, ou laissez l'heure de fin vide.",
        "bad_number": "Indiquez un nombre.",
        "bad_whole": "Indiquez un nombre entier.",
        "need_day": "Choisissez au moins un jour de la semaine.",
        "need_until": "Indiquez la date de la dernière fois.",
        "need_count": "Indiquez combien de fois.",
        "need_rule": "Écrivez la règle de répétition (RRULE), ou choisissez une répétition simple.",
        "bad_lines": "Une date par ligne, par exemple 2027-06-12 ou 2027-06-12 18:30.",
        "unknown_choice": "Ce choix n'existe pas.",
        "title_default": "Le titre en français est obligatoire.",
        "image_alt": "Décrivez l'image pour les personnes qui ne la voient pas (texte alternatif).",
        "picture_type": "Envoyez une image JPEG, PNG, WebP ou HEIC (photo de téléphone) ; "
        "SVG et GIF ne sont pas acceptés.",
        "picture_large": "Ce fichier est trop lourd : choisissez une image plus légère.",
        "picture_pixels": "Cette image a trop de pixels : réduisez-la avant de l'envoyer.",
        "picture_damaged": "Ce fichier est abîmé ou incomplet : envoyez-le de nouveau.",
        "picture_missing": "Cette image n'est plus sur le service : envoyez-la de nouveau.",
        "picture_fetch": "L'image n'a pas pu être récupérée à cette adresse.",
        "url": "Indiquez une adresse web complète, commençant par https://.",
        "email": "Ce n'est pas une adresse e-mail.",
        "too_long": "Ce texte est trop long (au plus {n} caractères).",
        "end_before": "La fin est avant le début.",
        "online_needed": "Un événement en ligne ou mixte a besoin de son lien.",
        "both_coordinates": "Indiquez la latitude et la longitude, ou aucune des deux.",
        "ages": "L'âge maximum est plus petit que l'âge minimum.",
        "slug": "Uniquement des lettres minuscules sans accent, des chiffres et des tirets.",
        "slug_taken": "Cette adresse courte est déjà prise par un autre événement.",
        "tag": "Un mot-clé fait 1 à 50 lettres, chiffres ou tirets.",
        "zone": "Fuseau horaire inconnu : écrivez-le comme Europe/Paris ou Indian/Mayotte.",
        "zone_instead": "Ce nom de fuseau n'est pas lu par tous les agendas : écrivez {0}.",
        "rule_dense": "Trop de dates : au plus 24 par jour et 1\u00a0100 par an.",
        "range": "Valeur hors limites.",
        "rule_start": "La date de début doit être l'une des dates répétées : choisissez son jour.",
        "rule_empty": "Cette répétition ne donne aucune date : vérifiez la date de fin.",
        "rule_many": "Trop de répétitions : réduisez leur nombre.",
    },
    "en": {
        "required": "This field is required.",
        "bad_date": "Enter a date, for example 2027-06-12.",
        "bad_time": "Enter a time, for example 18:30.",
        "need_time": "Enter the start time, or tick “all day”.",
        "end_time_alone": "Enter the end date too, or leave the end time empty.",
        "bad_number": "Enter a number.",
        "bad_whole": "Enter a whole number.",
        "need_day": "Choose at least one day of the week.",
        "need_until": "Enter the date of the last time.",
        "need_count": "Enter how many times.",
        "need_rule": "Write the repeat rule (RRULE), or choose a simple repeat.",
        "bad_lines": "One date per line, for example 2027-06-12 or 2027-06-12 18:30.",
        "unknown_choice": "This choice does not exist.",
        "title_default": "The French title is required.",
        "image_alt": "Describe the image for people who cannot see it (alt text).",
        "picture_type": "Send a JPEG, PNG, WebP or HEIC (phone photo) picture; SVG and GIF are "
        "not accepted.",
        "picture_large": "This file is too large: choose a lighter picture.",
        "picture_pixels": "This picture has too many pixels: make it smaller before sending it.",
        "picture_damaged": "This file is damaged or incomplete: send it again.",
        "picture_missing": "This picture is no longer on the service: send it again.",
        "picture_fetch": "The picture could not be fetched from this address.",
        "url": "Enter a full web address, starting with https://.",
        "email": "This is not an e-mail address.",
        "too_long": "This text is too long (at most {n} characters).",
        "end_before": "The end is before the start.",
        "online_needed": "An online or mixed event needs its link.",
        "both_coordinates": "Enter both latitude and longitude, or neither.",
        "ages": "The maximum age is below the minimum age.",
        "slug": "Only unaccented lower-case letters, digits and hyphens.",
        "slug_taken": "This short address is already taken by another event.",
        "tag": "A tag is 1 to 50 letters, digits or hyphens.",
        "zone": "Unknown time zone: write it like Europe/Paris or Indian/Mayotte.",
        "zone_instead": "Not every calendar reads this zone's name: write {0}.",
        "rule_dense": "Too many dates: at most 24 a day and 1,100 a year.",
        "range": "Value out of range.",
        "rule_start": "The start date must be one of the repeated dates: choose its day.",
        "rule_empty": "This repeat gives no date at all: check its end date.",
        "rule_many": "Too many repeats: reduce their number.",
    },
}

# The shared validation speaks English to API clients; these say its usual messages to editors.
_TRANSLATED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Field required"), "required"),
    (re.compile(r"http:// or https:// URL"), "url"),
    (re.compile(r"is not an e-mail address"), "email"),
    (re.compile(r"the end is before the start"), "end_before"),
    (re.compile(r"needs its online_url"), "online_needed"),
    (re.compile(r"give both lat and lon"), "both_coordinates"),
    (re.compile(r"max_age is below min_age"), "ages"),
    (re.compile(r"alt text"), "image_alt"),
    (re.compile(r"no such picture"), "picture_missing"),
    (re.compile(r"a title in the default language"), "title_default"),
    (re.compile(r"String should match pattern"), "slug"),
    (re.compile(r"slug .* is already used|event with this slug"), "slug_taken"),
    (re.compile(r"a tag is 1 to 50"), "tag"),
    (re.compile(r"not a time zone calendars share; use '([^']+)' instead"), "zone_instead"),
    (re.compile(r"time zone|unknown zone|timezone", re.I), "zone"),
    (re.compile(r"dates a (?:day|year)"), "rule_dense"),
    (re.compile(r"should be (greater|less) than"), "range"),
    (re.compile(r"the start is not one of the rule's dates"), "rule_start"),
    (re.compile(r"produces no date at all"), "rule_empty"),
    (re.compile(r"is more than the \d+ allowed"), "rule_many"),
]
_TOO_LONG = re.compile(r"(?:at most|is \d+ characters long; at most) (\d+)")


def say(message: str, lang: str) -> tuple[str, str | None]:
    """An error message for the page, and its language when it stays in English."""
    if lang == "en":
        return message, None
    words = MESSAGES[lang]
    long = _TOO_LONG.search(message)
    if long and ("character" in message or "characters" in message):
        return words["too_long"].format(n=long.group(1)), None
    for pattern, key in _TRANSLATED:
        found = pattern.search(message)
        if found:
            return words[key].format(*found.groups()), None
    return message, "en"


@dataclass
class FormErrors:
    """Errors by field name, and those with no field of their own (shown at the top)."""

    lang: str
    by_field: dict[str, str] = field(default_factory=dict)
    by_field_lang: dict[str, str | None] = field(default_factory=dict)
    general: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, name: str, key_or_message: str, *, translate: bool = False) -> None:
        if translate:
            text, text_lang = say(key_or_message, self.lang)
        else:
            text, text_lang = MESSAGES[self.lang].get(key_or_message, key_or_message), None
        if name in self.by_field:
            return
        self.by_field[name] = text
        self.by_field_lang[name] = text_lang

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


@dataclass
class Parsed:
    """What the form gave: the document to validate, and the form's own errors."""

    document: dict[str, Any]
    errors: FormErrors


def _text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n").strip()


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _date(raw: str, name: str, errors: FormErrors) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.add(name, "bad_date")
        return None


def _time(raw: str, name: str, errors: FormErrors) -> time | None:
    try:
        return time.fromisoformat(raw if len(raw) > 2 else raw + ":00")
    except ValueError:
        errors.add(name, "bad_time")
        return None


def _number(raw: str, name: str, errors: FormErrors, *, whole: bool) -> Any:
    try:
        return int(raw) if whole else float(raw.replace(",", "."))
    except ValueError:
        errors.add(name, "bad_whole" if whole else "bad_number")
        return None


def _numbers(
    form: dict[str, str], prefix: str, names: tuple[str, ...], errors: FormErrors, *, whole: bool
) -> dict[str, Any]:
    """The numbers typed in ``prefix.name`` fields, by name (empty fields left out)."""
    found = {}
    for name in names:
        raw = _text(form, f"{prefix}.{name}")
        if raw:
            number = _number(raw, f"{prefix}.{name}", errors, whole=whole)
            if number is not None:
                found[name] = number
    return found


def _moments(form: dict[str, str], all_day: bool, errors: FormErrors) -> dict[str, Any]:
    """``start`` and ``end`` from their date and time fields, as the API takes them."""
    found: dict[str, Any] = {}
    for which in ("start", "end"):
        raw_day, raw_time = _text(form, f"{which}.date"), _text(form, f"{which}.time")
        if not raw_day:
            if which == "start":
                errors.add("start.date", "required")
            elif raw_time and not all_day:
                errors.add("end.date", "end_time_alone")
            continue
        day = _date(raw_day, f"{which}.date", errors)
        if day is None:
            continue
        if all_day:
            found[which] = day.isoformat()
            continue
        if not raw_time:
            if which == "start":
                errors.add("start.time", "need_time")
            else:
                found[which] = f"{day.isoformat()}T23:59:00"
            continue
        moment = _time(raw_time, f"{which}.time", errors)
        if moment is not None:
            found[which] = f"{day.isoformat()}T{moment.isoformat(timespec='minutes')}:00"
    return found


def _date_lines(
    form: dict[str, str], name: str, all_day: bool, start_time: str, errors: FormErrors
) -> list[str]:
    """One date (or date and time) per line; a timed event's bare date takes the start time."""
    values = []
    for line in _text(form, name).splitlines():
        line = line.strip()
        if not line:
            continue
        day_part, _, time_part = line.replace("T", " ").partition(" ")
        try:
            day = date.fromisoformat(day_part)
            moment = time.fromisoformat(time_part.strip()) if time_part.strip() else None
        except ValueError:
            errors.add(name, "bad_lines")
            return []
        if all_day:
            values.append(day.isoformat())
        else:
            clock = moment.isoformat(timespec="minutes") if moment else start_time
            values.append(f"{day.isoformat()}T{clock}:00" if clock else day.isoformat())
    return values


def _rule(form: dict[str, str], start: date | None, errors: FormErrors) -> str | None:
    repeat = _text(form, "repeat") or "none"
    if repeat not in REPEATS:
        errors.add("repeat", "unknown_choice")
        return None
    if repeat == "none":
        return None
    if repeat == "custom":
        rule = _text(form, "recurrence.rrule")
        if not rule:
            errors.add("recurrence.rrule", "need_rule")
        return rule or None
    parts = [f"FREQ={REPEAT_FREQ[repeat]}"]
    raw_interval = _text(form, "repeat.interval") or "1"
    interval = _number(raw_interval, "repeat.interval", errors, whole=True)
    if interval is not None and interval < 1:
        errors.add("repeat.interval", "range")
    elif interval is not None and interval > 1:
        parts.append(f"INTERVAL={interval}")
    end = _text(form, "repeat.end") or "never"
    if end == "until":
        raw = _text(form, "repeat.until")
        if not raw:
            errors.add("repeat.until", "need_until")
        else:
            last = _date(raw, "repeat.until", errors)
            if last is not None:
                parts.append(f"UNTIL={last.strftime('%Y%m%d')}")
    elif end == "count":
        raw = _text(form, "repeat.count")
        count = _number(raw, "repeat.count", errors, whole=True) if raw else None
        if not raw:
            errors.add("repeat.count", "need_count")
        elif count is not None:
            parts.append(f"COUNT={count}")
    elif end != "never":
        errors.add("repeat.end", "unknown_choice")
    if repeat == "weekly":
        days = [code for code in WEEKDAYS if form.get(f"repeat.day.{code}")]
        # The start's own weekday alone needs no BYDAY (the rule repeats the start).
        if days and (start is None or days != [WEEKDAYS[start.weekday()]]):
            parts.append("BYDAY=" + ",".join(days))
    if repeat == "monthly" and start is not None:
        how = _text(form, "repeat.monthly") or "day"
        if how == "weekday":
            parts.append(f"BYDAY={(start.day - 1) // 7 + 1}{WEEKDAYS[start.weekday()]}")
        elif how == "last_weekday":
            parts.append(f"BYDAY=-1{WEEKDAYS[start.weekday()]}")
    return ";".join(parts)


def document_from_form(
    form: dict[str, str], *, languages: tuple[str, ...] | list[str], lang: str
) -> Parsed:
    """The event document the form describes, ready for the shared validation."""
    errors = FormErrors(lang)
    doc: dict[str, Any] = {}
    for path in LOCALIZED:
        texts = {code: _text(form, f"{path}.{code}") for code in languages}
        texts = {code: text for code, text in texts.items() if text}
        if texts:
            _set(doc, path, texts)
    for name in SINGLES:
        value = _text(form, name)
        if value:
            doc[name] = value
    tags = [t.strip() for t in re.split(r"[,;\n]", _text(form, "tags")) if t.strip()]
    if tags:
        doc["tags"] = tags
    all_day = bool(form.get("all_day"))
    doc["all_day"] = all_day
    doc.update(_moments(form, all_day, errors))
    start_day = None
    if isinstance(doc.get("start"), str):
        start_day = date.fromisoformat(doc["start"][:10])
    start_clock = doc["start"][11:16] if isinstance(doc.get("start"), str) and not all_day else ""
    recurrence: dict[str, Any] = {}
    rule = _rule(form, start_day, errors)
    if rule:
        recurrence["rrule"] = rule
    for kind in ("rdates", "exdates"):
        values = _date_lines(form, f"recurrence.{kind}", all_day, start_clock, errors)
        if values:
            recurrence[kind] = values
    if recurrence:
        doc["recurrence"] = recurrence

    location = {k: _text(form, f"location.{k}") for k in LOCATION}
    location = {k: v for k, v in location.items() if v}
    location.update(_numbers(form, "location", ("lat", "lon"), errors, whole=False))
    if set(location) - {"country"}:
        doc["location"] = location
    organizer = {k: _text(form, f"organizer.{k}") for k in ORGANIZER}
    if any(organizer.values()):
        doc["organizer"] = {k: v for k, v in organizer.items() if v}
    partners = []
    for index in range(MAX_PARTNER_ROWS + EXTRA_PARTNER_ROWS):
        row = {k: _text(form, f"partners.{index}.{k}") for k in ("name", "role", "url")}
        if row["name"] or row["url"]:  # a role alone is the empty row's default choice
            partners.append({k: v for k, v in row.items() if v})
    if partners:
        doc["partners"] = partners
    image: dict[str, Any] = {k: _text(form, f"image.{k}") for k in IMAGE}
    image = {k: v for k, v in image.items() if v}
    image.update(_numbers(form, "image", ("width", "height"), errors, whole=True))
    focus = _numbers(form, "image", ("focus_x", "focus_y"), errors, whole=True)
    if image.get("media") and focus:
        image["focus"] = [focus.get("focus_x", 50), focus.get("focus_y", 50)]
    if form.get("image.decorative"):
        image["decorative"] = True
    if image or "image" in doc:
        doc["image"] = {**image, **doc.get("image", {})}
    features = [key for key in ACCESS_FEATURES if form.get(f"accessibility.features.{key}")]
    if features:
        doc.setdefault("accessibility", {})["features"] = features
    ages = _numbers(form, "audience", ("min_age", "max_age"), errors, whole=True)
    if ages:
        doc.setdefault("audience", {}).update(ages)
    return Parsed(doc, errors)


def place_errors(errors: FormErrors, found: list[dict[str, str]], default_language: str) -> None:
    """Put the shared validation's errors (dotted paths) next to the form's fields."""
    for item in found:
        name, message = item.get("field", ""), item.get("message", "")
        target = _field_for(name, default_language)
        if target is None:
            errors.general.append(say(f"{name}: {message}" if name else message, errors.lang))
        else:
            errors.add(target, message, translate=True)


def _field_for(name: str, default_language: str) -> str | None:
    name = re.sub(r"\[(\d+)\]", r".\1", name)
    if name in ("start", "end"):
        return f"{name}.date"
    if name in LOCALIZED:
        return f"{name}.{default_language}"
    if name.startswith("recurrence.rdates") or name.startswith("recurrence.exdates"):
        return ".".join(name.split(".")[:2])
    if name == "recurrence" or name.startswith("recurrence.rrule"):
        return "recurrence.rule"
    if name.startswith("tags"):
        return "tags"
    if name.startswith("accessibility.features"):
        return "accessibility.features"
    if name == "location":
        return "location.name"
    if name == "image":
        return "image.url"
    if name in ("(body)", ""):
        return None
    return name


def form_from_document(document: dict[str, Any], *, slug: str, state: str) -> dict[str, str]:
    """The form's values for a stored event (``document`` as stored, local times)."""
    form: dict[str, str] = {"slug": slug, "state": state}
    for path in LOCALIZED:
        holder: Any = document
        for part in path.split("."):
            holder = holder.get(part) if isinstance(holder, dict) else None
        for code, text in (holder or {}).items():
            form[f"{path}.{code}"] = text
    for name in SINGLES:
        if name in document and document[name] is not None and name not in ("slug", "state"):
            form[name] = str(document[name])
    form["tags"] = ", ".join(document.get("tags") or [])
    all_day = bool(document.get("all_day"))
    if all_day:
        form["all_day"] = "on"
    for which in ("start", "end"):
        value = document.get(which)
        if value:
            form[f"{which}.date"] = str(value)[:10]
            if not all_day:
                form[f"{which}.time"] = str(value)[11:16]
    _recurrence_form(document, form)
    for key, value in (document.get("location") or {}).items():
        if value is not None:
            form[f"location.{key}"] = str(value)
    for key, value in (document.get("organizer") or {}).items():
        if value is not None:
            form[f"organizer.{key}"] = str(value)
    for index, partner in enumerate(document.get("partners") or []):
        for key, value in partner.items():
            if value is not None:
                form[f"partners.{index}.{key}"] = str(value)
    picture = document.get("image") or {}
    for key in ("url", "credit", "width", "height", "media"):
        value = picture.get(key)
        if value is not None:
            form[f"image.{key}"] = str(value)
    if isinstance(picture.get("focus"), list) and len(picture["focus"]) == 2:
        form["image.focus_x"], form["image.focus_y"] = (str(v) for v in picture["focus"])
    if picture.get("decorative"):
        form["image.decorative"] = "on"
    for feature in (document.get("accessibility") or {}).get("features") or []:
        form[f"accessibility.features.{feature}"] = "on"
    for key in ("min_age", "max_age"):
        value = (document.get("audience") or {}).get(key)
        if value is not None:
            form[f"audience.{key}"] = str(value)
    return form


def _recurrence_form(document: dict[str, Any], form: dict[str, str]) -> None:
    recurrence = document.get("recurrence") or {}
    for kind in ("rdates", "exdates"):
        values = recurrence.get(kind) or []
        if values:
            form[f"recurrence.{kind}"] = "\n".join(str(v).replace("T", " ")[:16] for v in values)
    rule = recurrence.get("rrule")
    form["repeat"] = "none"
    if not rule:
        return
    parts = parse_rule(rule)
    start = date.fromisoformat(str(document["start"])[:10])
    freq = {v: k for k, v in REPEAT_FREQ.items()}.get(parts.get("FREQ", ""))
    simple = freq is not None and set(parts) <= {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY"}
    by_day = parts.get("BYDAY", "")
    if simple and by_day and freq == "weekly":
        simple = all(code in WEEKDAYS for code in by_day.split(","))
    elif simple and by_day and freq == "monthly":
        weekday = WEEKDAYS[start.weekday()]
        nth = (start.day - 1) // 7 + 1
        if by_day == f"{nth}{weekday}":
            form["repeat.monthly"] = "weekday"
        elif by_day == f"-1{weekday}":
            form["repeat.monthly"] = "last_weekday"
        else:
            simple = False
    elif by_day:
        simple = False
    if not simple or freq is None:
        form["repeat"] = "custom"
        form["recurrence.rrule"] = rule
        return
    form["repeat"] = freq
    form["repeat.interval"] = parts.get("INTERVAL", "1")
    if freq == "weekly":
        for code in by_day.split(",") if by_day else [WEEKDAYS[start.weekday()]]:
            form[f"repeat.day.{code}"] = "on"
    if "UNTIL" in parts:
        form["repeat.end"] = "until"
        form["repeat.until"] = until_day(parts["UNTIL"], document["timezone"]).isoformat()
    elif "COUNT" in parts:
        form["repeat.end"] = "count"
        form["repeat.count"] = parts["COUNT"]
    else:
        form["repeat.end"] = "never"
