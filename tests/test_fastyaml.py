"""The plain reader (reconcile/fastyaml.py) against the node path: whenever it reads a file,
its documents, their places and the problems found equal what composing nodes gives."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from reconcile import config as config_module
from reconcile import fastyaml
from reconcile.config import read_config
from reconcile.desired import ParsedFile
from reconcile.fastyaml import read_plain
from reconcile.yamltree import MAX_DEPTH

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
INVALID = REPO / "tests" / "data" / "invalid"
NO_ENV: dict[str, str] = {}

# Scalars the two resolvers might type differently, or that need quoting, or are plain text.
TRICKY = [
    *("017", "0o17", "0x1F", "0b11", "1_000", "1__2", "+1", "-0", "00", "09", "0", "42"),
    *("1.5", ".5", "1.", "0.", "+12.5", "1e3", "1.0e3", "1e400", "-1e-3", ".inf", "-.Inf"),
    *(".nan", ".NaN", "12:30:00", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:20"),
    *("yes", "no", "on", "off", "y", "n", "True", "TRUE", "tRUE", "false", "FALSE"),
    *("null", "Null", "NULL", "nULL", "~", "", "-", "?", ":", "x:y", "a: b", "a #b", "a#b"),
    *("${VAR}", "$${VAR}", "a ${X} b", "é", "日本", "'", '"', "a'b", 'a"b', "[x]", "{y}"),
    *("- x", "#", "%x", "@x", "`x", "|", ">", "a,b", "1,2", " lead", "trail ", "a  b"),
    *("1_0.5", "._5", "1e+3", "1E3", "0x_1F", "0o", "0x", "+.5", "-.5e-3", "1.e5", "1e"),
    *("685_230.15", "0.1_2", "+0x1", "-0b1", "0B1", "0O7", "0X1F", "e3", "+", "-.", "."),
    *("1 2", "0B1 x", "1e3 x", "1,000", "0x1 2", "1: 2", "0B1: x", "[0B1]", "{0B1: 1}"),
    *("=", "<", "!", "&a", "*a", "!x", "<<", "...", "---", "name", "metadata", "kind"),
]
WORDS = st.sampled_from(["a", "img", "proj-1", "WorkspaceTemplate", "value", "x.y/z"])
SCALARS = st.one_of(st.sampled_from(TRICKY), WORDS)
KEYS = st.one_of(WORDS, st.sampled_from(["name", "1", "null", "true", "a b", "-", "?x"]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
ODD_LINES = [
    "\tkey: tab",
    "key: tab\tafter",
    "dup: 1",
    "a: &anchor 1",
    "b: *anchor",
    "c: !sensitive x",
    "d: !!str 1",
    "<<: {e: 1}",
    "%YAML 1.2",
    "...",
    "--- x: 1",
    "---",
    "? complex",
    ": value",
    "- item",
    "  deeper: 1",
    "key:value",
    "f: \x85x",
    "g: \u2028",
    "h: \x07",
    "i: [unclosed",
    "j: 'multi",
    "  line'",
    "k: |",
    "  block",
    "l: >-",
    "  folded",
    "# comment with ${VAR} & * !",
    "",
]


class _Writer:
    """Renders a value as YAML in a style drawn for each node."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.step = draw(st.integers(1, 4))

    def scalar(self, text: str) -> str:
        style = self.draw(st.sampled_from(["plain", "plain", "single", "double"]))
        if style == "single":
            return "'" + text.replace("'", "''") + "'"
        if style == "double":
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    def flow(self, value: Any) -> str:
        if isinstance(value, dict):
            items = (f"{self.scalar(k)}: {self.flow(v)}" for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value)

    def block(self, value: dict[str, Any] | list[Any], indent: int) -> list[str]:
        pad = " " * indent
        lines = []
        entries = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in entries:
            head = f"{pad}{self.scalar(key)}:" if key is not None else f"{pad}-"
            nested = isinstance(item, (dict, list)) and item and self.draw(st.booleans())
            if nested:
                lines.append(head)
                lines.extend(self.block(item, indent + self.step))
            else:
                lines.append(f"{head} {self.flow(item)}")
            if self.draw(st.integers(0, 9)) == 0:
                lines.append(pad + "# a comment")
        return lines


@st.composite
def yaml_files(draw: Any) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 3))):
        writer = _Writer(draw)
        name = draw(st.one_of(WORDS, SCALARS))
        metadata: dict[str, Any] = draw(st.dictionaries(KEYS, VALUES, max_size=2))
        metadata = {**metadata, "name": name} if draw(st.booleans()) else {"name": name, **metadata}
        root: dict[str, Any] = {"kind": draw(WORDS), "metadata": metadata}
        root.update(draw(st.dictionaries(KEYS, VALUES, max_size=3)))
        lines = writer.block(root, 0)
        if draw(st.integers(0, 3)) == 0:
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, draw(st.sampled_from(ODD_LINES)))
        documents.append("\n".join(lines) + "\n")
    lead = draw(st.sampled_from(["", "---\n", "# top\n---\n", "\n"]))
    marker = draw(st.sampled_from(["---\n", "--- # next\n", "---   \n"]))
    text: str = lead + marker.join(documents)
    return text


def _node_path(text: str, backend: str) -> ParsedFile:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config_module, "YAML_BACKEND", backend)
        return config_module._node_file(text, "file.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_files())
def test_a_file_read_plainly_reads_as_composed_nodes_do(text: str) -> None:
    note(repr(text))
    plain = read_plain(text, MAX_DEPTH, config_module._typed)
    event("read plainly" if plain is not None else "left to the node path")
    if plain is None:
        return
    for backend in ("libyaml", "python"):
        nodes = _node_path(text, backend)
        assert nodes.problems == []
        assert len(plain) == len(nodes.documents)
        for document, (value, source) in zip(plain, nodes.documents, strict=True):
            assert repr(document.value) == repr(value)  # exact types and key order
            assert document.root == source.where((), False)
            if document.name is not None:
                assert document.name == source.where(("metadata", "name"), False)
            assert source.marked == ()
            span = text[document.start : document.end]
            assert "${" in span or not source.has_vars


def _paths(value: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path in `value`, and one under each that is not there."""
    found = [at, (*at, "not-there")]
    if isinstance(value, (dict, list)):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for step, item in children:
            found.extend(_paths(item, (*at, step)))
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_files())
def test_every_place_in_a_file_read_plainly_is_where_composed_nodes_say(text: str) -> None:
    # The plain reader's sources compose a document alone when a place is asked for.
    note(repr(text))
    plain = read_plain(text, MAX_DEPTH, config_module._typed)
    if plain is None:
        return
    nodes = _node_path(text, config_module.YAML_BACKEND)
    later = config_module._LaterNodes(text, "file.yaml")
    for index, (document, (_, source)) in enumerate(zip(plain, nodes.documents, strict=True)):
        read = later.source(index, document)
        for path in _paths(document.value):
            for at_key in (False, True):
                assert read.where(path, at_key) == source.where(path, at_key), (path, at_key)


def test_the_realistic_shape_is_read_plainly_with_every_place_found() -> None:
    text = "".join(
        f"---\nkind: WorkspaceTemplate\nmetadata:\n  description: Template {i} # mine\n"
        f"  name: ws-{i}\n  scope:\n    project: p-{i % 3}\nspec:\n  image: img:1.{i}\n"
        f"  environmentVariables:\n  - name: A\n    value: '8'\n  - name: B\n"
        f"    value: ${{SECRET}}\n  nodePools: [default, a100]\n"
        for i in range(3)
    )
    plain = read_plain(text, MAX_DEPTH, config_module._typed)
    assert plain is not None
    assert [(d.root, d.name) for d in plain] == [
        ((2, 1), (5, 9)),
        ((17, 1), (20, 9)),
        ((32, 1), (35, 9)),
    ]
    nodes = _node_path(text, "libyaml")
    assert [s.where(("metadata", "name"), False) for _, s in nodes.documents] == [
        d.name for d in plain
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # a duplicate key: the node path reports it
        "a: .inf\n",  # JSON cannot carry it
        "1: x\n",  # a key that is not a string to the fast parser
        "a: 1\n---\n",  # an empty document
        "- a\n- b\n",  # a root that is no mapping
        "a: !sensitive x\n",
        "a: &x 1\nb: *x\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    ],
)
def test_what_the_node_path_reads_differently_or_refuses_is_left_to_it(text: str) -> None:
    assert read_plain(text, MAX_DEPTH, config_module._typed) is None


@pytest.mark.parametrize("directory", [EXAMPLES, *sorted(INVALID.iterdir())], ids=str)
def test_reading_plainly_changes_no_resource_origin_or_problem(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = read_config(directory, env=NO_ENV)
    monkeypatch.setattr(config_module, "PLAIN_READER", False)
    nodes = read_config(directory, env=NO_ENV)
    assert plain.resources == nodes.resources
    assert [r.origin for r in plain.resources.values()] == [
        r.origin for r in nodes.resources.values()
    ]
    assert plain.problems == nodes.problems


def test_places_the_plain_reader_does_not_know_come_from_the_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A list of scopes, a duplicate address and a schema problem: each place is asked for.
    shutil.copytree(EXAMPLES, tmp_path / "config")
    (tmp_path / "config" / "more.yaml").write_text(
        "kind: TrainingTemplate\nmetadata:\n  name: batch-1gpu\n  scope:\n"
        "    - {tenant: true}\n    - project: team-b\nspec:\n  image: img\n  tty: maybe\n",
        encoding="utf-8",
    )
    plain = read_config(tmp_path / "config", env=NO_ENV)
    monkeypatch.setattr(config_module, "PLAIN_READER", False)
    nodes = read_config(tmp_path / "config", env=NO_ENV)
    assert plain.problems == nodes.problems
    assert any("duplicate address" in p.message for p in plain.problems)
    assert any(p.json_path == "$.spec.tty" for p in plain.problems)


# Where a value starts, said plainly: a value start not preceded by any character but a
# space, a line break or flow punctuation. The reader's pattern matches that character too.
_STARTS_PLAINLY = re.compile(
    r"""(?<![^\s\[{,:])(?:"(?:[^"\\\n]|\\.)*(")?|'(?:[^'\n]|'')*(')?"""
    r"|([-+.]?[0-9][^\s#,\[\]{}]*))"
)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=" \n\t\"'\\-+.0123456789:,[]{}#aB_x", max_size=40))
def test_the_value_starts_are_found_as_said_plainly(text: str) -> None:
    assert fastyaml._VALUE_START.findall("\n" + text) == _STARTS_PLAINLY.findall(text)


# The lines that start with `---`, said plainly.
_DASH_LINES = re.compile(r"^---[^\n]*", re.MULTILINE)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="-\n x#", max_size=40))
def test_the_marker_lines_are_found_as_said_plainly(text: str) -> None:
    found = [(m.start(), m.end()) for m in _DASH_LINES.finditer(text)]
    assert list(fastyaml._dash_lines(text)) == found
