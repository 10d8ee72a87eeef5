"""When plans are coloured: only on a terminal that shows colour (a real pseudo-terminal here)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TextIO

import pytest

from reconcile.cli.common import use_color


@pytest.fixture
def terminal() -> Iterator[TextIO]:
    """The writing end of a real pseudo-terminal: `isatty()` is true for it."""
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as stream:
        yield stream
    os.close(leader)


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({"TERM": "xterm-256color"}, True),
        ({}, True),
        ({"TERM": "dumb"}, False),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, False),
        ({"TERM": "xterm-256color", "NO_COLOR": "0"}, False),  # no-color.org: any value...
        ({"TERM": "xterm-256color", "NO_COLOR": ""}, True),  # ...but the empty string
    ],
)
def test_colour_only_on_a_terminal_that_shows_it(
    terminal: TextIO, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], coloured: bool
) -> None:
    for name in ("TERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert terminal.isatty()
    assert use_color(terminal) is coloured
    assert use_color(io.StringIO()) is False  # not a terminal: never
