"""The spec helpers (prune, sort_keys, fill_defaults) agree with their plain definitions.

The module's versions are tuned (scalars skip the Mapping check, defaults are compiled into a
tree); the oracles below are the straightforward definitions they replaced, run on random
specs and on every schema's defaults.
"""

from __future__ import annotations

import copy
import json
import marshal
import random
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.kinds.assets import COMPUTE, DATASOURCE, DATASOURCE_TYPES, ENVIRONMENT
from reconcile.kinds.defaults import SCHEMA_DEFAULTS
from reconcile.kinds.specs import (
    Defaults,
    fill_defaults,
    prune,
    prune_sorted,
    prune_sorted_walk,
    schema_defaults,
    sort_keys,
)

KEYS = ["storage", "pvc", "nfs", "exclude", "readOnly", "claimInfo", "accessModes", "ports", "a"]


def oracle_prune(value: Any) -> Any:
    if isinstance(value, Mapping):
        pruned = {k: oracle_prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [oracle_prune(item) for item in value]
    return value


def oracle_sort_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: oracle_sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [oracle_sort_keys(item) for item in value]
    return value


def oracle_fill(target: Any, defaults: Mapping[str, Any]) -> None:
    """One walk per default path, in the mapping's order."""
    for path, default in defaults.items():
        tokens: list[str] = []
        for part in path.split("."):
            name = part
            while name.endswith("[]"):
                name = name[:-2]
            tokens.append(name)
            tokens.extend(["[]"] * ((len(part) - len(name)) // 2))
        _walk(target, tokens, default)


def _walk(node: Any, tokens: list[str], default: Any) -> None:
    head, rest = tokens[0], tokens[1:]
    if head == "[]":
        if isinstance(node, list):
            for item in node:
                _walk(item, rest, default)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        node.setdefault(head, copy.deepcopy(default))
    elif head in node:
        _walk(node[head], rest, default)


class Flag(int):
    """An int subclass: not one of the exact scalar types."""


def value(rng: random.Random, depth: int = 0, *, proxies: bool = True) -> Any:
    scalars = [None, True, False, 0, 1, 2.5, "", "x", Flag(3), [], {}]
    if depth >= 5 or rng.random() < 0.3:
        return copy.copy(rng.choice(scalars))
    if rng.random() < 0.35:
        return [value(rng, depth + 1, proxies=proxies) for _ in range(rng.randrange(4))]
    mapping = {
        rng.choice(KEYS): value(rng, depth + 1, proxies=proxies) for _ in range(rng.randrange(5))
    }
    wrap = rng.random()
    if wrap < 0.1:
        return OrderedDict(mapping)
    if wrap < 0.15 and proxies:  # a read-only Mapping that is no dict (deepcopy refuses it)
        return MappingProxyType(mapping)
    return mapping


def same(a: Any, b: Any) -> bool:
    """Equal values with the same types and key order everywhere."""
    return type(a) is type(b) and json.dumps(a, default=repr) == json.dumps(b, default=repr)


@pytest.mark.parametrize("seed", range(300))
def test_prune_and_sort_keys_match_their_definitions(seed: int) -> None:
    spec = value(random.Random(seed))
    assert same(prune(spec), oracle_prune(spec))
    assert same(sort_keys(spec), oracle_sort_keys(spec))
    assert same(sort_keys(prune(spec)), oracle_sort_keys(oracle_prune(spec)))
    assert same(prune_sorted(spec), oracle_sort_keys(oracle_prune(spec)))


def storage_spec(rng: random.Random) -> Any:
    """A template spec with the lists and objects the schema defaults reach into."""
    spec = value(rng, proxies=False)
    if isinstance(spec, dict) and rng.random() < 0.8:
        volume = {"name": "v", "claimInfo": {"accessModes": {}} if rng.random() < 0.5 else None}
        storage = {k: [copy.deepcopy(volume) for _ in range(rng.randrange(3))] for k in KEYS[1:3]}
        spec["storage"] = storage if rng.random() < 0.9 else [storage]
        spec["ports"] = [{"container": 80}, "not an object", {"exclude": True}]
    return spec


@pytest.mark.parametrize("schema", sorted(SCHEMA_DEFAULTS))
@pytest.mark.parametrize("seed", range(40))
def test_fill_defaults_matches_one_walk_per_path(schema: str, seed: int) -> None:
    spec = storage_spec(random.Random(seed))
    expected = copy.deepcopy(spec)
    oracle_fill(expected, SCHEMA_DEFAULTS[schema])
    fill_defaults(spec, schema_defaults(schema))
    assert same(spec, expected)


@pytest.mark.parametrize("schema", sorted(SCHEMA_DEFAULTS))
@pytest.mark.parametrize("seed", range(40))
def test_fill_defaults_keeps_sorted_specs_sorted(schema: str, seed: int) -> None:
    spec = prune_sorted(storage_spec(random.Random(seed)))
    expected = copy.deepcopy(spec)
    oracle_fill(expected, SCHEMA_DEFAULTS[schema])
    fill_defaults(spec, schema_defaults(schema), keep_sorted=True)
    assert same(spec, oracle_sort_keys(expected))


@pytest.mark.parametrize(
    "defaults",
    [
        {"a": {"b": 1}, "a.c": 2},  # a default inside another default: path order decides
        {"a.c": 2, "a": {"b": 1}},
        {"x[].y": 1, "x[][].z": 2, "x.w": 3},  # items that are lists, or dicts
        {"": 0, "a.b.c.d": [1, {"e": 2}]},
    ],
)
def test_fill_defaults_of_unusual_paths(defaults: dict[str, Any]) -> None:
    for seed in range(30):
        rng = random.Random(seed)
        spec = {"a": rng.choice([{}, {"b": 0}, [], None]), "x": [[{}], {}, 1]}
        expected = copy.deepcopy(spec)
        kept = sort_keys(copy.deepcopy(spec))
        oracle_fill(expected, defaults)
        fill_defaults(spec, Defaults(defaults))
        assert same(spec, expected)
        fill_defaults(kept, Defaults(defaults), keep_sorted=True)
        assert same(kept, oracle_sort_keys(expected))


def test_compiled_defaults_are_a_snapshot_of_their_mapping() -> None:
    paths: dict[str, Any] = {"a.b": 1, "c": {"d": [1]}}
    defaults = Defaults(paths)
    paths["a.b"] = True  # equal to 1: the compiled defaults must still set the int
    paths["a.e"] = "e"
    paths["c"]["d"].append(2)
    filled: dict[str, Any] = {"a": {}}
    fill_defaults(filled, defaults)
    assert same(filled, {"a": {"b": 1}, "c": {"d": [1]}})


def test_defaults_are_copied_into_each_spec() -> None:
    defaults = Defaults({"a": {"shared": [1]}})
    one: dict[str, Any] = {}
    two: dict[str, Any] = {}
    fill_defaults(one, defaults)
    fill_defaults(two, defaults)
    one["a"]["shared"].append(2)
    assert two == {"a": {"shared": [1]}} and dict(defaults.paths) == {"a": {"shared": [1]}}


def test_each_kind_compiles_its_defaults_once_however_many_objects_it_reads() -> None:
    """Every object of a kind is filled from the one compiled object of its schema (or the
    one empty set): never a mapping made per object, which would be compiled per object."""
    specs = [{"type": doc_type, "path": f"/p{i}"} for doc_type in DATASOURCE_TYPES for i in (1, 2)]
    for kind in (ENVIRONMENT, COMPUTE, DATASOURCE):
        for first, second in zip(specs[::2], specs[1::2], strict=True):
            assert kind.defaults(first) is kind.defaults(second)
    schema_defaults.cache_clear()
    for spec in specs * 50:
        DATASOURCE.normalize({"spec": spec})
        COMPUTE.normalize({"spec": spec})
    info = schema_defaults.cache_info()
    assert info.currsize == info.misses <= len(SCHEMA_DEFAULTS) and info.hits > 0


# JSON values as a server's answer or a YAML reader gives them, with strings that spell the
# tokens the text check looks for (so both ways through `prune_sorted` are taken).
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**66), max_value=2**66)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "null", "{}", "[]", "é", "\ud800", "1e-7"])
    | st.text(max_size=3)
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=24,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), _JSON_VALUES, max_size=6))
def testprune_sorted_walk_in_c_is_the_walk(spec: dict[str, Any]) -> None:
    """The C way (JSON text with sorted keys, read back) gives the walk's result exactly:
    the same types (1, 1.0 and True differ), key order and floats (NaN compares by text)."""
    kept = copy.deepcopy(spec)
    result = prune_sorted(spec)
    assert marshal.dumps(result, 2) == marshal.dumps(prune_sorted_walk(spec), 2)
    assert same(result, oracle_sort_keys(oracle_prune(spec)))
    assert marshal.dumps(spec, 2) == marshal.dumps(kept, 2)  # the input is left as it was


def testprune_sorted_walk_builds_new_containers() -> None:
    for spec in ({"b": [{"y": 1, "x": "2"}], "a": {"k": 1.5}}, {"a": None, "b": [{}]}):
        result = prune_sorted(spec)
        assert list(result) == sorted(result)
        for key, item in result.items():
            assert item is not spec[key]
