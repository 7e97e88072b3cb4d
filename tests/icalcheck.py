"""The suite's own checks of iCalendar documents, independent of the service's code.

``structural_problems`` reads the raw bytes the way a strict client would (RFC 5545 lines,
folding, components, escaping); the ``occurrences_*`` functions expand the events of a document
with four independent parsers (recurring-ical-events, Home Assistant's ``ical``, ``vobject`` and
Mozilla's ical.js through ``tests/js/expand.mjs``) into comparable lists of
``(uid, start, end, status)``: dates stay ``YYYY-MM-DD``, date-times become UTC
``YYYY-MM-DDTHH:MM:SSZ``, a missing DTEND means the end is the start. An occurrence is in the
window ``[start, end)`` when it starts in it (a date counts from 00:00 UTC).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).parent / "js"
EXPAND_SCRIPT = JS_DIR / "expand.mjs"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MAX_OCTETS = 75
TEXT_PROPERTIES = ("SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "X-WR-CALNAME", "NAME")
REQUIRED_IN_VEVENT = ("UID", "DTSTAMP", "DTSTART")
PAD = timedelta(days=3)  # each parser is asked a little more, then all are cut the same way

Occurrence = tuple[str, str, str, str]
Moment = date | datetime

# --- structure -----------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9-]+$")


def parse_content_line(line: str) -> tuple[str, dict[str, list[str]], str]:
    """``NAME;P=a,"b:c":value`` as (upper-case name, {PARAM: [values]}, value)."""
    i, n = 0, len(line)
    while i < n and line[i] not in ";:":
        i += 1
    name = line[:i].upper()
    params: dict[str, list[str]] = {}
    while i < n and line[i] == ";":
        i += 1
        eq = line.find("=", i)
        if eq < 0:
            raise ValueError(f"parameter without '=' in {line[:60]!r}")
        pname = line[i:eq].upper()
        i = eq + 1
        values: list[str] = []
        while True:
            if i < n and line[i] == '"':
                close = line.find('"', i + 1)
                if close < 0:
                    raise ValueError(f"unclosed quote in {line[:60]!r}")
                values.append(line[i + 1 : close])
                i = close + 1
            else:
                start = i
                while i < n and line[i] not in ",;:":
                    i += 1
                values.append(line[start:i])
            if i < n and line[i] == ",":
                i += 1
                continue
            break
        params[pname] = values
    if i >= n or line[i] != ":":
        raise ValueError(f"no ':' before the value in {line[:60]!r}")
    return name, params, line[i + 1 :]


def _text_problems(name: str, value: str) -> list[str]:
    problems = []
    if "\n" in value or "\r" in value:
        problems.append(f"{name}: raw line break in a TEXT value")
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\;,nN":
                problems.append(f"{name}: bad escape {value[i : i + 2]!r}")
            i += 2
            continue
        if char in ";,":
            context = value[max(0, i - 20) : i + 5]
            problems.append(f"{name}: unescaped {char!r} at {i}: ...{context!r}")
        i += 1
    return problems


def structural_problems(data: bytes) -> list[str]:
    """Everything a strict reader would object to in ``data``; empty when it is sound."""
    try:  # once unfolded: a fold may split a character, which is reported below
        data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"not valid UTF-8: {exc}"]
    problems: list[str] = []
    if not data.endswith(b"\r\n"):
        problems.append("the last line does not end with CRLF")
    physical = data.split(b"\r\n")
    if physical[-1] == b"":
        physical.pop()
    logical: list[str] = []
    for number, raw in enumerate(physical, 1):
        if b"\n" in raw or b"\r" in raw:
            problems.append(f"line {number}: a line ends without CRLF (bare LF or CR)")
        if len(raw) > MAX_OCTETS:
            problems.append(f"line {number}: {len(raw)} octets, over {MAX_OCTETS} (not folded)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number}: folding splits a UTF-8 character")
            text = raw.decode("utf-8", errors="replace")
        if text[:1] in (" ", "\t"):
            if not logical:
                problems.append(f"line {number}: continuation line with nothing to continue")
                continue
            logical[-1] += text[1:]
        elif text == "":
            problems.append(f"line {number}: empty line")
        else:
            logical.append(text)

    stack: list[str] = []
    top_level = 0
    seen: list[dict[str, int]] = []  # property counts of each open component
    calendar_props: dict[str, int] = {}
    tzids_used: set[str] = set()
    tzids_defined: set[str] = set()
    for line in logical:
        try:
            name, params, value = parse_content_line(line)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if not _NAME.match(name):
            problems.append(f"bad property name {name!r}")
        if name == "BEGIN":
            if not stack:
                top_level += 1
                if value != "VCALENDAR":
                    problems.append(f"top-level component is {value}, not VCALENDAR")
            stack.append(value.upper())
            seen.append({})
            continue
        if name == "END":
            if not stack or stack[-1] != value.upper():
                problems.append(f"END:{value} does not close {stack[-1] if stack else 'anything'}")
                continue
            kind, props = stack.pop(), seen.pop()
            if kind == "VCALENDAR":
                calendar_props = props
            if kind == "VEVENT":
                for required in REQUIRED_IN_VEVENT:
                    if props.get(required, 0) != 1:
                        problems.append(f"a VEVENT has {props.get(required, 0)} {required}")
            continue
        if not stack:
            problems.append(f"property {name} outside any component")
            continue
        seen[-1][name] = seen[-1].get(name, 0) + 1
        inside_tz = "VTIMEZONE" in stack
        if name == "TZID" and stack[-1] == "VTIMEZONE":
            tzids_defined.add(value)
        for tzid in params.get("TZID", []):
            tzids_used.add(tzid)
        if name == "RDATE" and inside_tz and "," in value:
            problems.append(f"multi-valued RDATE in VTIMEZONE: {value[:40]}")
        if name in TEXT_PROPERTIES:
            problems.extend(_text_problems(name, value))
    if stack:
        problems.append(f"components left open: {', '.join(stack)}")
    if top_level != 1:
        problems.append(f"{top_level} top-level components, expected one VCALENDAR")
    if calendar_props.get("VERSION", 0) != 1:
        problems.append("VERSION missing (or repeated)")
    if calendar_props.get("PRODID", 0) != 1:
        problems.append("PRODID missing (or repeated)")
    for tzid in sorted(tzids_used - tzids_defined):
        problems.append(f"TZID={tzid} has no VTIMEZONE")
    return problems


def unfolded_lines(data: bytes) -> list[str]:
    """The logical lines of a document."""
    return data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


# --- occurrences ---------------------------------------------------------------------------


def _instant(value: Moment) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give the window as dates or aware date-times")
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def norm(value: Moment) -> str:
    """A date as YYYY-MM-DD, an aware date-time in UTC; a floating one without Z (flagged)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _start_instant(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


def _cut(found: Iterable[Occurrence], start: Moment, end: Moment) -> list[Occurrence]:
    lo, hi = _instant(start), _instant(end)
    return sorted(o for o in found if lo <= _start_instant(o[1]) < hi)  # duplicates stay


def occurrences_recurring_ical_events(data: bytes, start: Moment, end: Moment) -> list[Occurrence]:
    import icalendar
    import recurring_ical_events

    calendar = icalendar.Calendar.from_ical(data)
    components = {
        (str(c["UID"]), norm(c.decoded("RECURRENCE-ID")) if "RECURRENCE-ID" in c else ""): c
        for c in calendar.walk("VEVENT")
    }
    found = []
    query = recurring_ical_events.of(calendar)
    for event in query.between(_instant(start) - PAD, _instant(end) + PAD):
        uid = str(event["UID"])
        begin = event.decoded("DTSTART")
        rid = norm(event.decoded("RECURRENCE-ID")) if "RECURRENCE-ID" in event else ""
        source = components.get((uid, rid)) or components[(uid, "")]
        has_end = "DTEND" in source or "DURATION" in source
        finish = event.decoded("DTEND") if has_end else begin
        found.append((uid, norm(begin), norm(finish), str(event.get("STATUS", ""))))
    return _cut(found, start, end)


def occurrences_ical(data: bytes, start: Moment, end: Moment) -> list[Occurrence]:
    from ical.calendar_stream import IcsCalendarStream

    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    found = []
    timeline = calendar.timeline_tz(UTC)
    for event in timeline.overlapping(_instant(start) - PAD, _instant(end) + PAD):
        finish = event.dtstart if event.dtend is None and event.duration is None else event.end
        status = getattr(event.status, "value", event.status) or ""
        found.append((str(event.uid), norm(event.dtstart), norm(finish), str(status)))
    return _cut(found, start, end)


def occurrences_vobject(data: bytes, start: Moment, end: Moment) -> list[Occurrence]:
    import vobject

    calendar = vobject.readOne(data.decode("utf-8"))
    masters, exceptions = [], {}
    for event in getattr(calendar, "vevent_list", []):
        if hasattr(event, "recurrence_id"):
            exceptions[(event.uid.value, norm(event.recurrence_id.value))] = event
        else:
            masters.append(event)

    def span(event: Any, begin: Moment) -> tuple[str, str, str, str]:
        first = event.dtstart.value
        if hasattr(event, "dtend"):
            finish = begin + (event.dtend.value - first)
        elif hasattr(event, "duration"):
            finish = begin + event.duration.value
        else:
            finish = begin
        status = event.status.value if hasattr(event, "status") else ""
        return (event.uid.value, norm(begin), norm(finish), status)

    lo, hi = _instant(start) - PAD, _instant(end) + PAD
    found = []
    for event in masters:
        first = event.dtstart.value
        all_day = not isinstance(first, datetime)
        rules = event.getrruleset(addRDate=True)
        if rules is None:
            starts: list[Moment] = [first]
        elif all_day:
            naive = rules.between(lo.replace(tzinfo=None), hi.replace(tzinfo=None), inc=True)
            starts = [d.date() for d in naive]
        else:
            starts = list(rules.between(lo, hi, inc=True))
        for begin in starts:
            moved = exceptions.pop((event.uid.value, norm(begin)), None)
            if moved is not None:
                found.append(span(moved, moved.dtstart.value))
            else:
                found.append(span(event, begin))
    for moved in exceptions.values():  # an exception of no master, or of another window
        if not any(m.uid.value == moved.uid.value for m in masters):
            found.append(span(moved, moved.dtstart.value))
    return _cut(found, start, end)


def run_icaljs(data: bytes, start: Moment, end: Moment) -> dict[str, Any]:
    """Run ``tests/js/expand.mjs``: ``{"occurrences": [...], "texts": {uid: {...}}}``."""
    node = shutil.which("node")
    ready = (JS_DIR / "node_modules" / "ical.js").is_dir()
    if node is None or not ready:
        message = (
            "node is not installed" if node is None else "run `cd tests/js && npm ci` first"
        ) + ": ical.js checks not run"
        if IN_CI:
            pytest.fail(message + " (CI=true: they must run)")
        pytest.skip(message)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "calendar.ics"
        path.write_bytes(data)
        lo, hi = _instant(start) - PAD, _instant(end) + PAD
        done = subprocess.run(
            [node, str(EXPAND_SCRIPT), str(path), norm(lo), norm(hi)],
            capture_output=True,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise AssertionError(f"ical.js failed: {done.stderr.decode(errors='replace')}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def occurrences_icaljs(data: bytes, start: Moment, end: Moment) -> list[Occurrence]:
    found = run_icaljs(data, start, end)["occurrences"]
    return _cut((tuple(o) for o in found), start, end)  # type: ignore[misc]


def icaljs_texts(data: bytes) -> dict[str, dict[str, str]]:
    """SUMMARY, DESCRIPTION and LOCATION of each VEVENT by UID, as ical.js reads them."""
    texts: dict[str, dict[str, str]] = run_icaljs(data, date(2000, 1, 1), date(2000, 1, 2))["texts"]
    return texts


def icalendar_texts(data: bytes) -> dict[str, dict[str, str]]:
    """The same, as the ``icalendar`` library reads them."""
    import icalendar

    calendar = icalendar.Calendar.from_ical(data)
    return {
        str(e["UID"]): {
            key.lower(): str(e[key]) for key in ("SUMMARY", "DESCRIPTION", "LOCATION") if key in e
        }
        for e in calendar.walk("VEVENT")
        if "RECURRENCE-ID" not in e
    }


EXPANDERS: dict[str, Callable[[bytes, Moment, Moment], list[Occurrence]]] = {
    "recurring_ical_events": occurrences_recurring_ical_events,
    "ical": occurrences_ical,
    "vobject": occurrences_vobject,
    "ical.js": occurrences_icaljs,
}


def all_parsers_agree(data: bytes, start: Moment, end: Moment) -> dict[str, list[Occurrence]]:
    """Every parser's occurrences in ``[start, end)``, asserted equal; ical.js comes last."""
    results: dict[str, list[Occurrence]] = {}
    for name, expand in EXPANDERS.items():
        results[name] = expand(data, start, end)
    reference_name, reference = next(iter(results.items()))
    for name, found in results.items():
        if found != reference:
            only_here = sorted(set(found) - set(reference))
            missing = sorted(set(reference) - set(found))
            raise AssertionError(
                f"{name} disagrees with {reference_name}: "
                f"extra {only_here[:5]} missing {missing[:5]} ({len(found)} vs {len(reference)})"
            )
    return results
