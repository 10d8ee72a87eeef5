"""The path grammar (reconcile/paths.py): parse and format, get/set/delete, walk, and the one
rule for pairing list items, as every user of paths sees it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.paths import (
    delete,
    format_path,
    get,
    item_segment,
    lookup,
    pair_items,
    parse_path,
    path_covers,
    paths_overlap,
    set_value,
    walk,
)
from reconcile.sensitive import hash_marker, hide, reveal

_PLAIN = st.text("abcXYZ019_-/:@$", min_size=1, max_size=6)
_ODD = st.text(min_size=1, max_size=6).filter(lambda k: not (k.startswith("[") and k.endswith("]")))
_KEYS = st.one_of(_PLAIN, _ODD).filter(lambda k: k != "name")
_NAMES = st.text(min_size=1, max_size=6).filter(lambda n: "]" not in n)
_ITEMS = _NAMES.map(lambda n: item_segment("name", n))
_SEGMENTS = st.lists(st.one_of(_KEYS, _ITEMS), min_size=1, max_size=6)
# Paths that set can build: keys, each maybe followed by one named item, ending in a key
# (setting a whole item needs a value of that item's shape).
_STEPS = st.tuples(_KEYS, st.one_of(st.none(), _ITEMS)).map(lambda t: [s for s in t if s])
_SETTABLE = st.tuples(st.lists(_STEPS, max_size=3), _KEYS).map(
    lambda t: [s for step in t[0] for s in step] + [t[1]]
)
_VALUES = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3)
)


@settings(max_examples=100, deadline=None)
@given(_SEGMENTS)
def test_format_then_parse_gives_the_segments_back(segments: list[str]) -> None:
    text = format_path(segments)
    assert parse_path(text) == tuple(segments)
    assert format_path(parse_path(text)) == text


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("spec.compute.gpuDevicesRequest", ("spec", "compute", "gpuDevicesRequest")),
        ("spec.env[name=HOME].value", ("spec", "env", "[name=HOME]", "value")),
        (
            'metadata.labels["app.kubernetes.io/name"]',
            ("metadata", "labels", "app.kubernetes.io/name"),
        ),
        ("spec.storage.pvc[*].claimName", ("spec", "storage", "pvc", "[*]", "claimName")),
        ("", ()),
    ],
)
def test_the_documented_forms_parse(text: str, segments: tuple[str, ...]) -> None:
    assert parse_path(text) == segments
    assert format_path(segments) == text


@pytest.mark.parametrize("bad", ["a..b", "a[name=x", '["unclosed', "a]b"])
def test_text_that_is_not_a_path_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a field path"):
        parse_path(bad)


@settings(max_examples=100, deadline=None)
@given(_SETTABLE, _VALUES)
def test_get_after_set_and_nothing_after_delete(segments: list[str], value: Any) -> None:
    tree: dict[str, Any] = {}
    set_value(tree, segments, value)
    assert lookup(tree, segments) == (True, value)
    assert lookup(tree, format_path(segments)) == (True, value)
    assert delete(tree, segments) is True
    assert lookup(tree, segments) == (False, None)
    assert delete(tree, segments) is False


def test_set_finds_or_appends_the_named_item_and_keeps_the_others() -> None:
    tree: dict[str, Any] = {"spec": {"env": [{"name": "A", "value": "1"}]}}
    set_value(tree, "spec.env[name=A].value", "2")
    set_value(tree, "spec.env[name=B].value", "3")
    assert tree == {"spec": {"env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}}
    assert get(tree, "spec.env[name=B]") == {"name": "B", "value": "3"}
    assert get(tree, "spec.env[name=C]") is None
    assert delete(tree, "spec.env[name=A]") is True
    assert tree == {"spec": {"env": [{"name": "B", "value": "3"}]}}
    with pytest.raises(ValueError, match="must be that item"):
        set_value(tree, "spec.env[name=B]", {"name": "other"})
    with pytest.raises(ValueError, match="not a list"):
        set_value(tree, "spec[name=x].y", 1)


def test_walk_names_items_by_name_where_they_have_one() -> None:
    tree = {"a": [{"name": "x", "v": 1}, {"v": 2}], "b": 3}
    assert [format_path(p) for p, _ in walk(tree)] == [
        "",
        "a",
        "a[name=x]",
        "a[name=x].name",
        "a[name=x].v",
        "a[*]",
        "a[*].v",
        "b",
    ]


def test_covers_and_overlap_with_wildcards() -> None:
    assert path_covers("spec.env", "spec.env[name=A].value")
    assert path_covers("spec.env[*].value", "spec.env[name=A].value")
    assert path_covers("spec.*.value", "spec.x.value")
    assert not path_covers("spec.*", "spec[name=x]")  # `*` is a key, never an item
    assert not path_covers("spec.env[name=A]", "spec.env")
    assert paths_overlap("spec.env[name=A]", "spec.env")
    assert not paths_overlap("spec.a", "spec.b")


def test_pair_items_by_name_where_named_else_by_position() -> None:
    named = [{"name": "a", "v": 1}, {"name": "b", "v": 2}]
    assert pair_items(named, list(reversed(named))) == [(named[0], named[0]), (named[1], named[1])]
    assert pair_items([{"name": "c"}], named) == [({"name": "c"}, None)]
    assert pair_items([1, 2], [3]) == [(1, 3), (2, None)]
    assert pair_items([{"v": 1}], named) == [({"v": 1}, named[0])]  # unnamed: by position


def _reordered_secret_lists() -> tuple[list[Any], list[Any]]:
    shown = [{"name": "A", "value": "secret-a"}, {"name": "B", "value": "secret-b"}]
    return shown, [copy.deepcopy(shown[1]), copy.deepcopy(shown[0])]


def test_sensitive_reveal_pairs_list_items_by_name() -> None:
    stored_list, candidate = _reordered_secret_lists()
    stored = hide(stored_list, "", ["[*].value"], hash_marker("salt"))
    assert reveal(stored, candidate, "salt", verify=True) == stored_list
