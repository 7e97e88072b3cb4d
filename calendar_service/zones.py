"""The time zones the service accepts: real, stable IANA names that every calendar client knows.

An event's zone goes into every feed as a ``TZID`` with its VTIMEZONE, into the JSON API, the
pages and the e-mails; a name a client does not know (``Factory``, ``posixrules``,
``posix/Europe/Paris``, ``US/Eastern``, ``EST5EDT``, ``Etc/GMT+5``) would be read differently by
each. So the accepted names are those of the IANA ``zone.tab`` and ``zone1970.tab`` tables (one
or more zones per country, canonical names and the per-country links such as
``Indian/Mayotte``), plus ``UTC``. Old names and aliases (``Asia/Calcutta``, ``US/Eastern``)
are refused with the name to use instead; an import maps them (and Windows names) itself.

The tables come from the ``tzdata`` package, so every machine agrees on the list.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from importlib import resources

UTC_NAMES = ("UTC", "Etc/UTC")
# Prefixes of copies of the database that some systems expose as zone names.
_COPY_PREFIXES = ("posix/", "right/")


def _table(name: str) -> str:
    return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


@functools.cache
def accepted_zones() -> frozenset[str]:
    """Every zone name the service accepts."""
    names: set[str] = set(UTC_NAMES)
    for table in ("zone.tab", "zone1970.tab"):
        for line in _table(table).splitlines():
            if line and not line.startswith("#"):
                names.add(line.split("\t")[2])
    loadable = set()
    for name in names:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue  # the machine's database lacks it: a client may lack it too
        loadable.add(name)
    return frozenset(loadable)


@functools.cache
def _links() -> dict[str, str]:
    """Alias -> target, from the IANA ``Link`` lines (``L Asia/Kolkata Asia/Calcutta``)."""
    links: dict[str, str] = {}
    for line in _table("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


@functools.cache
def _by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in accepted_zones()}


def accepted_equivalent(name: str) -> str | None:
    """The accepted name for ``name``: itself, the zone an alias stands for (``US/Eastern`` ->
    ``America/New_York``), or an accepted name with the same target (``Europe/Kiev`` ->
    ``Europe/Kyiv``); ``None`` when there is none."""
    accepted = accepted_zones()
    if name in accepted:
        return name
    for prefix in _COPY_PREFIXES:
        if name.startswith(prefix):
            return accepted_equivalent(name.removeprefix(prefix))
    folded = _by_lower_name().get(name.lower())
    if folded is not None:
        return folded
    links = _links()
    target = name
    for _ in range(5):  # links point at zones, but follow a short chain to be safe
        if target not in links:
            break
        target = links[target]
    if target in accepted:
        return target
    # Another accepted name that is a link to the same zone (Europe/Kiev -> Europe/Kyiv).
    if target != name:
        for alias, zone in sorted(links.items()):
            if zone == target and alias in accepted:
                return alias
    if target in ("Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT"):
        return "UTC"
    return None


class UnknownZone(ValueError):
    """A name that is not an accepted time zone; the message says what to use instead."""


_SHAPE = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


def check_zone(name: str) -> str:
    """``name`` when it is an accepted zone; ``UnknownZone`` with a helpful sentence otherwise."""
    if name in accepted_zones():
        return name
    shown = name if len(name) <= 64 else name[:61] + "..."
    instead = accepted_equivalent(name) if _SHAPE.match(name) else None
    if instead is not None:
        raise UnknownZone(f"{shown!r} is not a time zone calendars share; use {instead!r} instead")
    raise UnknownZone(
        f"unknown time zone {shown!r}: use an IANA name such as Europe/Paris, "
        "Indian/Mayotte or America/Cayenne"
    )
