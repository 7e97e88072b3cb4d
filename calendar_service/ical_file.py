"""An iCalendar file cut into its components, within limits, before icalendar reads any of them.

icalendar reads a whole file at once and refuses all of it at the first line it cannot read,
with a message that quotes the line. Cutting the file first lets each event be read on its own
(one bad event is one rejection, not a refused file), lets a refusal name the line without
quoting the file, and bounds what a file can ask for: how deep components nest and how many
there are. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# VCALENDAR > VEVENT > VALARM is three deep; RFC 9073 adds PARTICIPANT > VLOCATION. Past this,
# a file is built to exhaust its reader, not written by a calendar.
MAX_DEPTH = 6
MAX_COMPONENTS = 50_000

_NAME = re.compile(r"^[A-Z0-9-]{1,60}$")
# Control characters other than tab, CR and LF: binary data, never iCalendar text.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class ImportFileError(ValueError):
    """The file is not an iCalendar file that can be read; the message says what is wrong and
    where (a line number), never quoting the file."""


class Rejected(ValueError):
    """One event cannot be taken; the message is the reason shown in the import report."""


@dataclass
class Block:
    """A component: its name, the line it begins on, its own property lines, its children."""

    name: str
    line: int
    lines: list[str] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)

    def text(self, *, depth: int) -> str:
        """The component as iCalendar text, with its children down to ``depth`` levels."""
        parts = [f"BEGIN:{self.name}", *self.lines]
        if depth > 0:
            parts.extend(child.text(depth=depth - 1).rstrip("\r\n") for child in self.children)
        parts.append(f"END:{self.name}")
        return "\r\n".join(parts) + "\r\n"

    def value(self, name: str) -> str | None:
        """The raw value of the first ``name`` property among this component's own lines."""
        prefix = name.upper()
        for line in self.lines:
            if line[: len(prefix)].upper() == prefix and line[len(prefix) :][:1] in (":", ";"):
                quoted = False
                for index, character in enumerate(line):
                    if character == '"':
                        quoted = not quoted
                    elif character == ":" and not quoted:
                        return line[index + 1 :]
                return None
        return None


def _decode(data: bytes) -> str:
    """The text of the file: UTF-8 as RFC 5545 says, else Windows-1252 as old Outlook wrote."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(number of the first physical line, unfolded line) for each content line."""
    lines: list[tuple[int, list[str]]] = []
    for number, physical in enumerate(_NEWLINE.split(text), start=1):
        if physical[:1] in (" ", "\t"):
            if not lines:
                raise ImportFileError(
                    f"not an iCalendar file: line {number} continues a line that does not exist"
                )
            lines[-1][1].append(physical[1:])
        elif physical:
            lines.append((number, [physical]))
    return [(number, "".join(parts)) for number, parts in lines]


def split_calendar(data: bytes) -> Block:
    """The VCALENDAR of an iCalendar file, cut into components (the components of a stream of
    several VCALENDARs read as one's); ``ImportFileError`` when the file is not one (binary
    data, no VCALENDAR, a component not closed, nesting past ``MAX_DEPTH``, more than
    ``MAX_COMPONENTS`` components, text after the calendar)."""
    text = _decode(data)
    binary = _BINARY.search(text)
    if binary is not None:
        number = text.count("\n", 0, binary.start()) + 1
        raise ImportFileError(f"not an iCalendar file: binary data on line {number}")
    calendar: Block | None = None
    stack: list[Block] = []
    count = 0
    for number, line in _logical_lines(text):
        keyword = line.split(":", 1)[0].strip().upper()
        if keyword in ("BEGIN", "END") and ":" in line:
            name = line.split(":", 1)[1].strip().upper()
            if not _NAME.match(name):
                raise ImportFileError(
                    f"not an iCalendar file: line {number} has {keyword} without a component name"
                )
        else:
            name = ""
        if calendar is None and not (keyword == "BEGIN" and name == "VCALENDAR"):
            raise ImportFileError("not an iCalendar file: it does not begin with BEGIN:VCALENDAR")
        if not stack and calendar is not None:
            if keyword == "BEGIN" and name == "VCALENDAR":
                # RFC 5545 3.4: a stream may hold several calendars; their components are
                # read as one calendar's (the first one's properties stand).
                stack.append(calendar)
                continue
            if not line.strip():
                continue
            raise ImportFileError(f"not an iCalendar file: line {number} follows END:VCALENDAR")
        if keyword == "BEGIN" and name:
            if len(stack) >= MAX_DEPTH:
                raise ImportFileError(
                    f"not an iCalendar file: line {number} nests components more than "
                    f"{MAX_DEPTH} deep"
                )
            count += 1
            if count > MAX_COMPONENTS:
                raise ImportFileError(
                    f"the file holds more than {MAX_COMPONENTS:,} components (line {number}): "
                    "split it into smaller files"
                )
            block = Block(name, number)
            if stack:
                stack[-1].children.append(block)
            else:
                calendar = block
            stack.append(block)
        elif keyword == "END" and name:
            if name != stack[-1].name:
                raise ImportFileError(
                    f"not an iCalendar file: line {number} ends another component than the "
                    f"{stack[-1].name} begun on line {stack[-1].line}"
                )
            stack.pop()
        else:
            stack[-1].lines.append(line)
    if calendar is None:
        raise ImportFileError("not an iCalendar file: it does not begin with BEGIN:VCALENDAR")
    if stack:
        raise ImportFileError(
            f"not an iCalendar file: it ends inside the {stack[-1].name} begun on line "
            f"{stack[-1].line} (was it cut short?)"
        )
    return calendar
