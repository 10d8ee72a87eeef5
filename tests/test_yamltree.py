"""The YAML tree builder (reconcile/yamltree.py) on nodes the real ruamel.yaml composer makes:
values JSON can hold, what it refuses, and where a path was written."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from reconcile.yamltree import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    Builder,
    NodeProblem,
    flow_depth,
    locator,
    maybe_deep,
    problem_at,
)


def compose(text: str) -> Any:
    return YAML(typ="safe", pure=True).compose(text)


def build(text: str, *, guard: bool = True) -> Any:
    # A tag object no node carries: every scalar is resolved by its tag, as a plain one is.
    return Builder(guard=guard, str_tag=object()).build(compose(text), 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: 1", {"a": 1}),
        ("a: 0x1F", {"a": 31}),
        ("a: 1_000", {"a": 1000}),
        ("a: -2.5", {"a": -2.5}),
        ("a: true", {"a": True}),
        ("a: False", {"a": False}),
        ("a: ~", {"a": None}),
        ("a: 2026-01-02", {"a": "2026-01-02"}),  # dates stay as written
        ("a: '007'", {"a": "007"}),
        ("a: [1, {b: c}]", {"a": [1, {"b": "c"}]}),
    ],
)
def test_scalars_and_collections_become_json_values(text: str, value: Any) -> None:
    assert build(text) == value
    assert build(text, guard=False) == value


def test_merge_keys_merge_and_explicit_keys_win() -> None:
    text = "base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\nitem:\n  <<: [*b, *o]\n  x: 9\n"
    assert build(text)["item"] == {"x": 9, "y": 2, "z": 4}


def test_duplicate_keys_are_problems_and_the_last_value_wins() -> None:
    builder = Builder(guard=False, str_tag=object())
    assert builder.build(compose("a: 1\na: 2\n"), 0) == {"a": 2}
    assert [message for _, message in builder.problems] == ["duplicate key 'a'"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: .inf", "not a finite number"),
        ("a: .nan", "not a finite number"),
        ("a: !!binary aGk=", "unsupported YAML tag !!binary"),
        ("? [a]\n: 1\n", "a mapping key must be a plain value"),
        ("base: &b [1]\nitem:\n  <<: *b\n", "'<<' merges mappings only"),
    ],
)
def test_what_json_cannot_hold_is_refused(text: str, message: str) -> None:
    with pytest.raises(NodeProblem, match=message):
        build(text)


def test_alias_bombs_and_recursion_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    with pytest.raises(NodeProblem, match=f"past {MAX_ALIAS_EXPANSION} extra nodes"):
        build("\n".join(lines))
    with pytest.raises(NodeProblem, match="refers to its own parent"):
        build("a: &a [*a]")


def test_depth_is_bounded() -> None:
    deep = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)
    with pytest.raises(NodeProblem, match=f"deeper than {MAX_DEPTH}"):
        build(deep)
    assert flow_depth(deep) == MAX_DEPTH + 2
    assert flow_depth("a: '[[[' \nb: \"{{\"\nc: [1]") == 1  # quoted brackets do not count


def test_maybe_deep_is_true_only_for_texts_that_could_nest_deeply() -> None:
    assert not maybe_deep("a:\n  b: [1, 2]\n")
    assert maybe_deep("[" * 3000)
    assert maybe_deep(" " * 2500 + "a: 1")


TEXT = "kind: Workload\nmetadata:\n  name: web\nspec:\n  list:\n    - first\n    - {n: 2}\n"


def test_locator_finds_where_a_path_was_written() -> None:
    where = locator(compose(TEXT))
    assert where(("metadata", "name"), False) == (3, 9)
    assert where(("metadata", "name"), True) == (3, 3)  # the key
    assert where(("spec", "list", 1, "n"), False) == (7, 11)
    assert where(("spec", "missing", "deeper"), False) == (5, 3)  # the deepest node found
    assert where((), False) == (1, 1)


def test_problem_at_names_file_line_and_json_path() -> None:
    root = compose(TEXT)
    node = root.value[2][1].value[0][1].value[1]  # spec.list[1]
    problem = problem_at("f.yaml", root, node, "odd item")
    assert (problem.file, problem.line, problem.col) == ("f.yaml", 7, 7)
    assert problem.json_path == "$.spec.list[1]"
    assert problem.message == "odd item"
