"""The merge rule of shared bases and the order bases apply in (reconcile/bases.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.bases import Base, chain, merge
from reconcile.paths import get, item_name, walk

_KEYS = st.sampled_from(["a", "b", "c", "image", "env", "compute"])
_SCALARS = st.one_of(st.none(), st.integers(-3, 3), st.booleans(), st.text("xyz", max_size=3))
_NAMED = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["n1", "n2", "n3", "n4"])}, optional={"value": _SCALARS}
    ),
    max_size=4,
    unique_by=lambda item: str(item["name"]),
)
_VALUES = st.recursive(
    st.one_of(_SCALARS, _NAMED),
    lambda inner: st.one_of(st.dictionaries(_KEYS, inner, max_size=4), st.lists(inner, max_size=3)),
    max_leaves=12,
)
_DOCS = st.dictionaries(_KEYS, _VALUES, max_size=4)


def _leaves(tree: Any) -> list[tuple[tuple[str, ...], Any]]:
    return [(path, value) for path, value in walk(tree) if not isinstance(value, (dict, list))]


@settings(max_examples=150, deadline=None)
@given(_DOCS)
def test_an_empty_base_changes_nothing(doc: dict[str, Any]) -> None:
    assert merge([{}, doc]).value == doc
    assert merge([doc, {}]).value == doc
    assert merge([doc]).value == doc


@settings(max_examples=150, deadline=None)
@given(_DOCS, _DOCS)
def test_a_documents_own_values_always_win(base: dict[str, Any], doc: dict[str, Any]) -> None:
    merged = merge([base, doc]).value
    for path, value in _leaves(doc):
        if "[*]" in path:  # an unnamed list item: its list is the document's, whole
            continue
        assert get(merged, path) == value


@settings(max_examples=150, deadline=None)
@given(_NAMED.filter(bool), _NAMED.filter(bool))
def test_merging_by_name_keeps_every_name(under: list[Any], over: list[Any]) -> None:
    merged = merge([{"env": under}, {"env": over}]).value["env"]
    assert {item_name(i) for i in merged} == {item_name(i) for i in [*under, *over]}


@settings(max_examples=150, deadline=None)
@given(_DOCS, _DOCS, _DOCS)
def test_every_node_knows_the_layer_that_wrote_it(low: Any, mid: Any, doc: Any) -> None:
    layers = [low, mid, doc]
    result = merge(layers)
    for path in result.places:
        layer, at = result.origin(path)
        written, merged = layers[layer], result.value
        for part in at:
            written = written[part]
        for part in path:
            merged = merged[part]
        if not isinstance(merged, (dict, list)):
            assert merged == written


def test_the_rule_on_a_template() -> None:
    base = {
        "spec": {
            "image": "jupyter",
            "compute": {"gpuDevicesRequest": 1, "cpuCoreRequest": 2},
            "environmentVariables": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "ports": [{"container": 80}],
        }
    }
    doc = {
        "kind": "WorkspaceTemplate",
        "spec": {
            "compute": {"gpuDevicesRequest": 2},
            "environmentVariables": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
            "ports": [{"container": 8080}],
        },
    }
    result = merge([base, doc])
    assert result.value == {
        "spec": {
            "image": "jupyter",
            "compute": {"gpuDevicesRequest": 2, "cpuCoreRequest": 2},
            "environmentVariables": [
                {"name": "A", "value": "1"},
                {"name": "B", "value": "3"},
                {"name": "C", "value": "4"},
            ],
            "ports": [{"container": 8080}],
        },
        "kind": "WorkspaceTemplate",
    }
    assert result.origin(("spec", "image")) == (0, ("spec", "image"))
    assert result.origin(("spec", "environmentVariables", 1, "value")) == (
        1,
        ("spec", "environmentVariables", 0, "value"),
    )
    assert result.origin(("spec", "environmentVariables", 0, "value")) == (
        0,
        ("spec", "environmentVariables", 0, "value"),
    )
    assert result.carried(0, [("spec", "environmentVariables", 1, "value")]) == []
    assert result.carried(0, [("spec", "compute")]) == [("spec", "compute")]
    assert result.carried(1, [("spec", "environmentVariables", 1)]) == [
        ("spec", "environmentVariables", 2)
    ]


def test_an_empty_or_unnamed_list_replaces_the_bases() -> None:
    named = [{"name": "a"}]
    assert merge([{"l": named}, {"l": []}]).value == {"l": []}
    assert merge([{"l": named}, {"l": [1]}]).value == {"l": [1]}
    assert merge([{"l": named}, {"l": None}]).value == {"l": None}


def _base(name: str, kind: str = "WorkspaceTemplate", *extends: str) -> Base:
    return Base(name, kind, extends, f"bases.yaml:{len(name)}")


def test_bases_apply_after_the_bases_they_extend_and_once() -> None:
    bases = {
        b.name: b
        for b in [
            _base("a"),
            _base("b", "WorkspaceTemplate", "a"),
            _base("c", "WorkspaceTemplate", "a"),
        ]
    }
    order, problems = chain("WorkspaceTemplate", ["b", "c"], bases)
    assert [b.name for b in order] == ["a", "b", "c"]
    assert problems == []


def test_unknown_bases_cycles_and_other_kinds_are_named() -> None:
    bases = {
        b.name: b
        for b in [
            _base("x", "WorkspaceTemplate", "yy"),
            _base("yy", "WorkspaceTemplate", "x"),
            _base("t", "TrainingTemplate"),
            _base("m", "WorkspaceTemplate", "nope"),
        ]
    }
    _, problems = chain("WorkspaceTemplate", ["x", "t", "m", "gone"], bases)
    assert problems == [
        "bases extend each other in a cycle: "
        "x (bases.yaml:1) -> yy (bases.yaml:2) -> x (bases.yaml:1)",
        "base t (bases.yaml:1) is for TrainingTemplate, not WorkspaceTemplate",
        "unknown base 'nope', extended by base m (bases.yaml:1) (bases: m, t, x, yy)",
        "unknown base 'gone', extended by this document (bases: m, t, x, yy)",
    ]
