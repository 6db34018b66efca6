"""A strict reader of iCalendar (RFC 5545) text for tests: it refuses what a careful calendar app would choke on
(a bare LF, a physical line over 75 octets, a fold that cuts a UTF-8 character, an unknown escape, BEGIN/END out
of order, an event without UID, DTSTAMP, DTSTART or a UTC DTEND) and gives back the components with their
properties unfolded and unescaped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = re.compile(r"^[A-Z][A-Z0-9-]*$")
UTC_TIME = re.compile(r"^\d{8}T\d{6}Z$")
ESCAPES = {"\\\\": "\\", "\\;": ";", "\\,": ",", "\\n": "\n", "\\N": "\n"}


@dataclass
class Component:
    name: str
    properties: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def get(self, name: str) -> str:
        values = [value for prop, _params, value in self.properties if prop == name]
        assert len(values) == 1, f"{self.name}: {len(values)} {name}"
        return values[0]

    def text(self, name: str) -> str:
        return unescape(self.get(name))

    @property
    def events(self) -> list[Component]:
        return [child for child in self.children if child.name == "VEVENT"]


def unescape(value: str) -> str:
    out, index = [], 0
    while index < len(value):
        if value[index] == "\\":
            pair = value[index : index + 2]
            assert pair in ESCAPES, f"unknown escape {pair!r} in {value!r}"
            out.append(ESCAPES[pair])
            index += 2
        else:
            assert value[index] not in ";,", f"unescaped {value[index]!r} in a TEXT value {value!r}"
            out.append(value[index])
            index += 1
    return "".join(out)


def physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n"), "the last line is not ended by CRLF"
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\n" not in line and b"\r" not in line, f"a bare LF or CR in {line!r}"
        assert len(line) <= 75, f"{len(line)} octets: {line!r}"
        line.decode("utf-8")  # a fold never cuts a character
    return lines


def content_lines(data: bytes) -> list[str]:
    logical: list[str] = []
    for line in physical_lines(data):
        text = line.decode("utf-8")
        if text.startswith((" ", "\t")):
            assert logical, "a continuation before any line"
            logical[-1] += text[1:]
        else:
            logical.append(text)
    return logical


def _split(line: str) -> tuple[str, dict[str, str], str]:
    head, colon, value = line.partition(":")
    assert colon, f"no colon in {line!r}"
    name, *params = head.split(";")
    assert NAME.match(name), f"bad name {name!r}"
    parameters = dict(param.split("=", 1) for param in params)
    return name, parameters, value


def parse(data: bytes) -> Component:
    """The VCALENDAR of ``data``, checked."""
    stack: list[Component] = []
    root: Component | None = None
    for line in content_lines(data):
        name, params, value = _split(line)
        if name == "BEGIN":
            component = Component(value)
            if stack:
                stack[-1].children.append(component)
            stack.append(component)
        elif name == "END":
            assert stack and stack[-1].name == value, f"END:{value} out of order"
            closed = stack.pop()
            if not stack:
                root = closed
        else:
            assert stack, f"{name} outside any component"
            stack[-1].properties.append((name, params, value))
    assert root is not None and root.name == "VCALENDAR" and not stack
    assert root.get("VERSION") == "2.0" and root.get("PRODID")
    for event in root.events:
        event.get("UID")
        for prop in ("DTSTAMP", "DTSTART", "DTEND"):
            assert UTC_TIME.match(event.get(prop)), f"{prop} {event.get(prop)!r} is not a UTC date-time"
        assert event.get("DTSTART") < event.get("DTEND")
    uids = [event.get("UID") for event in root.events]
    assert len(uids) == len(set(uids)), "two events with the same UID"
    return root
