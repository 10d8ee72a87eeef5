"""No byte sequence makes `show PLANFILE` or `apply PLANFILE` fail with anything but a clear
error naming the file: random bytes, and valid plan files with random edits (values replaced,
keys dropped or added, bytes flipped), never a traceback and never a write.

The plan file is one that was applied already, so whatever an edit makes of it, apply must
refuse it: the tests look at how it is refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.diff import digest
from tests.cli.helpers import Cli
from tests.cli.planfile_helpers import managed, planned, server_writes, state_bytes
from tests.emulator.helpers import Api

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


class Stale:
    """A config directory, and the text of a plan file for it that was applied already."""

    def __init__(self, config: Path, text: str) -> None:
        self.config = config
        self.text = text
        self.document: dict[str, Any] = json.loads(text)


@pytest.fixture
def stale(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stale]:
    # Deep below tmp_path: an edited relative config directory (`..`) stays inside it.
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    config = cwd / "config"
    managed(cli, config)
    plan_file = tmp_path / "applied.json"
    planned(cli, config, plan_file)
    assert cli("apply", plan_file).exit_code == 0
    yield Stale(config, plan_file.read_text(encoding="utf-8"))


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*at, index))


@st.composite
def edited(draw: st.DrawFn, document: dict[str, Any]) -> bytes:
    """`document` with one to three random edits, its digest sometimes made to agree."""
    copy = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(copy))[1:]))
        parent = copy
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["replace", "drop", "add"]))
        if how == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif how == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(JSON_VALUES)
        else:
            parent.insert(path[-1], draw(JSON_VALUES))
    if draw(st.booleans()) and isinstance(copy.get("binding"), dict):
        with contextlib.suppress(TypeError, ValueError):  # changes that are no JSON list
            copy["binding"]["changes_digest"] = digest(copy.get("changes"))
    text = json.dumps(copy).encode("utf-8")
    if draw(st.booleans()):  # and sometimes a byte flipped as well
        index = draw(st.integers(0, len(text) - 1))
        text = text[:index] + bytes([draw(st.integers(0, 255))]) + text[index + 1 :]
    return text


def _refused_cleanly(cli: Cli, api: Api, stale: Stale, content: bytes, name: str) -> None:
    plan_file = stale.config.parent / name
    plan_file.write_bytes(content)
    state = state_bytes(stale.config)
    api.clear_log()
    for command in ("show", "apply"):
        run = cli(command, plan_file)  # an internal error raises here (RUNAI_RECONCILE_DEBUG)
        if command == "show" and run.exit_code == 0:
            continue  # a readable plan file; apply must still refuse it
        assert run.exit_code in (1, 64), run.output
        assert str(plan_file) in run.stderr, run.stderr
        assert "internal error" not in run.stderr
    assert server_writes(api) == []
    assert state_bytes(stale.config) == state


@FUZZ
@given(content=st.binary(max_size=300))
def test_random_bytes(cli: Cli, api: Api, stale: Stale, content: bytes) -> None:
    _refused_cleanly(cli, api, stale, content, "random.json")


@FUZZ
@given(data=st.data())
def test_edited_plan_files(cli: Cli, api: Api, stale: Stale, data: st.DataObject) -> None:
    content = data.draw(edited(stale.document))
    _refused_cleanly(cli, api, stale, content, "edited.json")


HOSTILE = {
    "not UTF-8": b"\xff\xfe{}",
    "deep list": b"[" * 100_000,
    "deep object": b'{"a": ' * 70 + b"1" + b"}" * 70,
    "duplicate key": b'{"format_version": "1.2", "format_version": "1.2"}',
    "NaN": b'{"x": NaN}',
    "huge integer": b'{"x": ' + b"9" * 5000 + b"}",
    "empty": b"",
    "null": b"null",
}


def test_known_hostile_files(cli: Cli, api: Api, stale: Stale) -> None:
    for name, content in HOSTILE.items():
        _refused_cleanly(cli, api, stale, content, f"{name.replace(' ', '-')}.json")
