"""A reader of GitHub Actions workflow commands, as the runner parses them: what our
annotations say once GitHub has read them back."""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMAND = re.compile(r"^::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    message: str


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse(output: str) -> list[Command]:
    """Every workflow command in `output` (other lines are ignored, as the runner does)."""
    found = []
    for line in output.splitlines():
        match = _COMMAND.match(line)
        if match is None:
            continue
        props = {}
        for pair in filter(None, (match["props"] or "").split(",")):
            key, _, value = pair.partition("=")
            props[key] = _unescape_property(value)
        found.append(Command(match["name"], props, _unescape_data(match["data"])))
    return found
