"""The lifecycle rules on their own (reconcile/lifecycle.py and the schema's path check):
which state entry a `movedFrom` moves, which paths a kind's schema knows, and what an update
sends for ignored paths."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconcile.lifecycle import keeping_live, moved, moves, without_ignored
from reconcile.model import Address, Lifecycle, Resource, State, StateEntry
from reconcile.paths import lookup, parse_path
from reconcile.schema import path_known

OLD = Address("workspace-template", "project=team-a", "old")
NEW = Address("workspace-template", "project=team-a", "new")


def _desired(*moved_from: Address) -> dict[Address, Resource]:
    return {NEW: Resource(NEW, {"spec": {}}, lifecycle=Lifecycle(moved_from=moved_from))}


def _state(*addresses: Address) -> State:
    return State("lineage", 1, entries={a: StateEntry(a, f"id-{a.name}", {}) for a in addresses})


def test_moved_puts_the_old_entry_at_the_new_address() -> None:
    desired, state = _desired(Address("workspace-template", "tenant", "older"), OLD), _state(OLD)
    assert moves(desired, state) == {NEW: OLD}
    after = moved(state, moves(desired, state))
    assert list(after.entries) == [NEW]
    assert after.entries[NEW] == StateEntry(NEW, "id-old", {})


def test_nothing_moves_once_state_holds_the_new_address() -> None:
    assert moves(_desired(OLD), _state(OLD, NEW)) == {}
    assert moves(_desired(), _state(OLD)) == {}
    state = _state(OLD)
    assert moved(state, {}) is state


@pytest.mark.parametrize(
    ("kind", "path", "known"),
    [
        ("WorkspaceTemplate", "spec.compute.gpuDevicesRequest", True),
        ("WorkspaceTemplate", "spec.environmentVariables[name=MODE].value", True),
        ("WorkspaceTemplate", "spec.environmentVariables[*].value", True),
        ("WorkspaceTemplate", "metadata.description", True),
        ("WorkspaceTemplate", "spec.compute.gpuDevices", False),
        ("WorkspaceTemplate", "spec.image.tag", False),
        ("Workload", "spec.manifest.spec.replicas", True),  # a manifest is an open object
        ("WorkloadType", "spec.priority", True),
        ("WorkloadType", "spec.image", False),
    ],
)
def test_path_known_follows_the_kind_schema(kind: str, path: str, known: bool) -> None:
    assert path_known(kind, parse_path(path)) is known


_KEYS = st.sampled_from(["a", "b", "c"])
_TREES = st.recursive(
    st.integers(0, 3) | st.text("xy", max_size=2),
    lambda inner: st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)
_PATHS = st.lists(st.lists(_KEYS, min_size=1, max_size=3).map(".".join), max_size=3)


def _crosses_a_value(tree: Any, path: str) -> bool:
    segments = parse_path(path)
    parents = (lookup(tree, segments[:n]) for n in range(1, len(segments)))
    return any(found and not isinstance(value, dict) for found, value in parents)


def _pruned(tree: Any) -> Any:
    if not isinstance(tree, dict):
        return tree
    kept = {k: _pruned(v) for k, v in tree.items()}
    return {k: v for k, v in kept.items() if v != {}}


@settings(max_examples=60, deadline=None)
@given(spec=st.dictionaries(_KEYS, _TREES), live=st.dictionaries(_KEYS, _TREES), paths=_PATHS)
def test_an_update_sends_the_server_values_on_ignored_paths_and_the_document_elsewhere(
    spec: dict[str, Any], live: dict[str, Any], paths: list[str]
) -> None:
    # The schema check of `ignoreChanges` ensures an ignored path's parents are mappings.
    assume(not any(_crosses_a_value(tree, path) for tree in (spec, live) for path in paths))
    sent = keeping_live(spec, live, paths)
    # The mappings an ignored value needed on the way may be new; nothing else differs.
    assert _pruned(without_ignored(sent, paths)) == _pruned(without_ignored(spec, paths))
    for path in paths:
        if not any(p != path and path.startswith(p + ".") for p in paths):
            assert lookup(sent, path) == lookup(live, path)
