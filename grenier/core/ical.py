"""iCalendar (RFC 5545) text, written by hand: the few properties Grenier's feeds use, TEXT values escaped
(backslash, semicolon, comma, newline, section 3.3.11), date-times in UTC (``…Z``, so no VTIMEZONE is needed),
content lines folded at 75 octets without cutting a UTF-8 character (3.1), every line ended by CRLF.

    calendar = Calendar(name="Ateliers · Les Sources", product="-//Grenier//Activities//FR")
    calendar.events.append(Event(uid="session-12@grenier", stamp=..., start=..., end=..., summary="Atelier"))
    body = calendar.serialize()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value: backslash first, then ``;`` ``,`` and newlines (CR LF, CR or LF become ``\\n``)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into physical lines of at most 75 octets, each continuation starting with a
    space, a multi-byte character never cut; CRLF after each."""
    out: list[str] = []
    current = ""
    size = 0
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > LINE_OCTETS:
            out.append(current)
            current, size = " ", 1  # the continuation's leading space counts
        current += char
        size += octets
    out.append(current)
    return "".join(piece + "\r\n" for piece in out)


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC form (``20261202T130000Z``); ``moment`` must be aware."""
    if moment.tzinfo is None:
        raise ValueError("an aware date-time is needed")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class Event:
    """A VEVENT: its UID stays the same across downloads, so a calendar updates it rather than adding another."""

    uid: str
    stamp: datetime
    start: datetime
    end: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    status: str = "CONFIRMED"  # TENTATIVE, CONFIRMED or CANCELLED
    sequence: int = 0

    def lines(self) -> list[str]:
        lines = [
            "BEGIN:VEVENT",
            f"UID:{escape_text(self.uid)}",
            f"DTSTAMP:{utc(self.stamp)}",
            f"DTSTART:{utc(self.start)}",
            f"DTEND:{utc(self.end)}",
            f"SUMMARY:{escape_text(self.summary)}",
        ]
        if self.location:
            lines.append(f"LOCATION:{escape_text(self.location)}")
        if self.description:
            lines.append(f"DESCRIPTION:{escape_text(self.description)}")
        if self.url:
            lines.append(f"URL:{self.url}")  # a URI value: not escaped (3.3.13)
        lines += [f"STATUS:{self.status}", f"SEQUENCE:{self.sequence}", "END:VEVENT"]
        return lines


@dataclass
class Calendar:
    name: str
    product: str
    events: list[Event] = field(default_factory=list)
    refresh_hours: int = 6

    def serialize(self) -> str:
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            f"PRODID:{self.product}",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{escape_text(self.name)}",
            f"REFRESH-INTERVAL;VALUE=DURATION:PT{self.refresh_hours}H",  # RFC 7986
            f"X-PUBLISHED-TTL:PT{self.refresh_hours}H",
        ]
        for event in self.events:
            lines += event.lines()
        lines.append("END:VCALENDAR")
        return "".join(fold(line) for line in lines)
