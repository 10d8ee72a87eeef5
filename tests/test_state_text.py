"""The state file's text is exactly `json.dumps(state.to_dict(), indent=2, sort_keys=True)`
plus a newline, whether assembled fresh, from cached entry fragments, or written by the store.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import Address, EntryStatus, State, StateEntry
from reconcile.printable import one_line
from reconcile.sensitive import redact
from reconcile.state import StateStore
from reconcile.state_text import StateText, document_text

KINDS = ("workspace-template", "training-template", "workload-type", "workload")
TRICKY = [
    "plain",
    "caf\u00e9 \u00fcber \u4e2d\u6587 \U0001f680",  # non-ASCII, outside the BMP too
    'quotes " and \\ backslashes',
    "new\nline, tab\t, return\r, nul \x00, bell \x07",
    "\u2028 line and \u2029 paragraph separators",
    "",
    "  leading and trailing  ",
    '}, {\n  "resources": {}',  # looks like the file's own structure
]


def expected(state: State) -> str:
    return json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"


def value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value: nested objects and lists, odd strings and keys, all number kinds."""
    scalars: list[Any] = [
        None,
        True,
        False,
        0,
        -7,
        2**63 + 1,
        1.0,
        0.1,
        -2.5e-8,
        1e300,
        rng.choice(TRICKY),
        rng.random(),
    ]
    if depth >= 4 or rng.random() < 0.35:
        return rng.choice(scalars)
    if rng.random() < 0.5:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [rng.choice(TRICKY) + str(rng.randrange(3)) for _ in range(rng.randrange(5))]
    keys += ["Zeta", "alpha", "Alpha", "_x", "10", "9"][: rng.randrange(4)]
    return {key: value(rng, depth + 1) for key in keys}


def random_entry(rng: random.Random, index: int, *, printable: bool = False) -> StateEntry:
    """`printable`: a name a state file may hold (no character that forges a line)."""
    name = f"{rng.choice(TRICKY)[:6]}-{index}"
    name = one_line(name) if printable else name
    kind = rng.choice(KINDS)
    scope = "" if kind == "workload-type" else rng.choice(["tenant", "project=team-a", "x=\u00e9"])
    spec = {"spec": value(rng), "metadata": {"description": rng.choice(TRICKY)}}
    status = rng.choice(list(EntryStatus))
    return StateEntry(Address(kind, scope, name), rng.choice(["", "id-1", "\u00e9"]), spec, status)


def random_state(rng: random.Random, size: int, *, printable: bool = False) -> State:
    entries = [random_entry(rng, i, printable=printable) for i in range(size)]
    rng.shuffle(entries)  # insertion order is not key order
    return State(
        lineage=rng.choice(TRICKY),
        serial=rng.randrange(10**6),
        tool_version=rng.choice(["0.1.0", "\u00e9"]),
        entries={e.address: e for e in entries},
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_states_render_exactly_as_json_dumps(seed: int) -> None:
    rng = random.Random(seed)
    state = random_state(rng, rng.choice([0, 1, 2, 5, 30]))
    assert document_text(state) == expected(state)


def test_empty_and_single_entry_states() -> None:
    empty = State(lineage="l")
    assert document_text(empty) == expected(empty)
    address = Address("workspace-template", "project=team-a", "one")
    for spec in ({}, {"a": {}}, {"a": []}, {"a": [{}]}, {"\u00e9": [1, {"b": None}]}):
        one = empty.with_entry(StateEntry(address, "", spec, EntryStatus.PENDING_CREATE))
        assert document_text(one) == expected(one)


def test_sensitive_values_stored_as_hashes_render_exactly() -> None:
    address = Address("workload", "project=team-a", "web")
    spec = {
        "spec": {
            "manifest": {"env": [{"name": "TOKEN", "value": "s3cr\u00e9t"}, {"name": "A"}]},
            "priority": "high",
        }
    }
    stored = redact(spec, ("spec.manifest.env[*].value",), "lineage-1")
    assert "s3cr" not in json.dumps(stored)
    state = State(lineage="lineage-1").with_entry(StateEntry(address, "7", stored))
    assert document_text(state) == expected(state)


def test_addresses_with_the_same_text_keep_the_one_that_sorts_last() -> None:
    # `kind/scope/name` with a `/` in the name reads like another scope: to_dict keeps one.
    first = StateEntry(Address("workload", "", "b/c"), "1", {"n": 1})
    second = StateEntry(Address("workload", "b", "c"), "2", {"n": 2})
    for order in ((first, second), (second, first)):
        state = State(lineage="l", entries={e.address: e for e in order})
        assert document_text(state) == expected(state)
        assert StateText().render(state).count('"workload/b/c"') == 1


def test_a_reused_renderer_follows_every_change() -> None:
    """One renderer across a run of changes (what the store does): never a stale fragment."""
    rng = random.Random(7)
    renderer = StateText()
    state = random_state(rng, 20)
    for step in range(60):
        addresses = sorted(state.entries)
        roll = rng.random()
        if roll < 0.4 or not addresses:
            state = state.with_entry(random_entry(rng, 100 + step))  # added
        elif roll < 0.7:
            old = state.entries[rng.choice(addresses)]
            state = state.with_entry(replace(old, remote_id=f"r{step}", last_applied={"s": step}))
        elif roll < 0.85:
            state = state.without(rng.choice(addresses))
        else:  # the same entry object, now keyed by another (equal) address object
            old = state.entries[rng.choice(addresses)]
            entries = dict(state.without(old.address).entries)
            entries[Address(old.address.kind, old.address.scope, old.address.name)] = old
            state = replace(state, entries=entries)
        state = replace(state, serial=step)
        assert renderer.render(state) == expected(state), f"step {step}"


def test_an_entry_shared_by_two_addresses_renders_each_address() -> None:
    entry = StateEntry(Address("workload", "project=a", "x"), "1", {"n": 1})
    other = Address("workload", "project=b", "y")
    state = State(lineage="l", entries={entry.address: entry, other: entry})
    renderer = StateText()
    for _ in range(2):  # the second render goes through the cache
        assert renderer.render(state) == expected(state)


def test_the_store_writes_exactly_the_json_text(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    rng = random.Random(3)
    state = replace(random_state(rng, 25, printable=True), lineage=store.read().lineage, serial=0)
    for step in range(8):
        victim = sorted(state.entries)[step]
        entry = random_entry(rng, 500 + step, printable=True)
        state = store.write(state.with_entry(entry).without(victim))
        assert store.path.read_text(encoding="utf-8") == expected(state)
        assert StateStore(store.path).read() == state
