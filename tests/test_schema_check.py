"""reconcile.schema against an independent oracle: plain jsonschema on the committed schemas.

The module validates through a compiled fast path and a compacted copy of each schema; here
every example document, and thousands of mutations of them, must be judged exactly as
jsonschema judges them on the schema files as committed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError, validators

from reconcile import schema
from reconcile.config import parse_file
from reconcile.configdir import scan
from reconcile.kinds.registry import DOCUMENT_KINDS

REPO = Path(__file__).resolve().parent.parent
SCHEMA_NAMES = sorted(p.stem for p in (REPO / "schemas").glob("*.json"))
ODD_VALUES: list[Any] = [None, "x", "", 0, -1, 1.5, 2.0, True, [], {}, ["x"], {"x": 1}]
ODD_VALUES += ["x\n", "a/b", "\x1b[2K", 2**31, 10**400]


def _documents() -> list[dict[str, Any]]:
    docs: list[Any] = []
    # The quickstart's walk skips examples/access, a config directory of its own.
    for root in (REPO / "examples", REPO / "examples" / "access"):
        for found in scan(root).files:
            docs.extend(value for value, _ in parse_file(found).documents)
    return [d for d in docs if d.get("kind") in DOCUMENT_KINDS]  # not the manifest file


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _mutations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in list(_paths(doc)):
        if not path:
            continue
        for value in [*ODD_VALUES, "__delete__", "__extra__"]:
            mutated = copy.deepcopy(doc)
            parent = mutated
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            if value == "__delete__":
                del parent[last]
            elif value == "__extra__":
                if not isinstance(parent[last], dict):
                    continue
                parent[last]["unexpectedField"] = 1
            else:
                parent[last] = value
            yield mutated


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    # JSON Schema patterns are ECMA-262, where `$` matches only at the end of the string
    # (Python's `$` also matches before a final newline).
    ecma = re.sub(r"(?<!\\)\$", r"\\Z", pattern)
    if validator.is_type(instance, "string") and not re.search(ecma, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Oracle = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _oracle(name: str) -> Any:
    return _Oracle(schema.load_schema(name))


@pytest.mark.parametrize("doc", _documents(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_fast_path_agrees_with_jsonschema(doc: dict[str, Any]) -> None:
    oracle = _oracle(schema.schema_name(doc["kind"]))
    assert schema.validate_document(doc) == []
    assert oracle.is_valid(doc)
    checked = 0
    for mutated in _mutations(doc):
        expected = oracle.is_valid(mutated)
        problems = schema.validate_document(mutated)
        assert (problems == []) == expected, (mutated, problems)
        checked += 1
    assert checked > 50


def test_settings_agree_with_jsonschema() -> None:
    oracle = _oracle(schema.SETTINGS)
    base = {
        "server": "embedded",
        "environment": "dev",
        "state": "state/dev.json",
        "parallelism": 4,
        "plan_ttl_seconds": 600,
        "safety": {"max_delete_fraction": 0.5, "max_update_fraction": 1, "min_managed": 0},
    }
    for mutated in [base, *_mutations(base)]:
        problems = schema.validate_settings(mutated)
        assert (problems == []) == oracle.is_valid(mutated), (mutated, problems)


def test_states_agree_with_jsonschema() -> None:
    oracle = _oracle("state")
    entry = {"remote_id": "7", "last_applied": {"spec": {"image": "x"}}, "status": "applied"}
    base = {
        "version": 2,
        "lineage": "0b6c",
        "serial": 3,
        "tool_version": "1.0",
        "server": "https://runai.example",
        "resources": {
            "workspace-template/project=team-a/nb": {**entry, "protect": True},
            "workload-type/Train": {"remote_id": "9", "last_applied": {}},
        },
    }
    for mutated in [base, *_mutations(base)]:
        problems = schema.validate_instance("state", mutated)
        assert (problems == []) == oracle.is_valid(mutated), (mutated, problems)


def _unknown_keywords(node: Any, defs: dict[str, Any]) -> Iterator[Any]:
    """The subschemas of a compacted schema the generated check has no code for."""
    if not isinstance(node, dict):
        if not isinstance(node, bool):
            yield node
        return
    if not schema._known(node, defs):
        yield node
    for key in ("properties", "$defs"):
        for sub in node.get(key, {}).values():
            yield from _unknown_keywords(sub, defs)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, ()):
            yield from _unknown_keywords(sub, defs)
    for key in ("items", "additionalProperties", "propertyNames", "not", "if", "then", "else"):
        if key in node:
            yield from _unknown_keywords(node[key], defs)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_the_generated_check_knows_every_keyword_of_every_schema(name: str) -> None:
    # A keyword the generator does not know makes its check say no there, which would
    # silently send every document of a config through jsonschema.
    compact = schema._compact_schema(name)
    assert list(_unknown_keywords(compact, compact.get("$defs", {}))) == []


@pytest.mark.parametrize("pool", ["a100", "a/b", "x\n", ""])
def test_quota_maps_are_judged_by_their_keys_too(pool: str) -> None:
    doc = {
        "kind": "Department",
        "metadata": {"name": "vision", "scope": {"cluster": "cluster-a"}},
        "spec": {"resources": {pool: {"gpu": {"deserved": 1}}}},
    }
    expected = _oracle("department").is_valid(doc)
    assert expected == (pool == "a100")
    assert (schema.validate_document(doc) == []) == expected


# --- the generated check against jsonschema on documents drawn from the schemas ------------
# Values drawn from a committed schema (its `$ref`s followed), and near misses of them: a
# wrong type, a bool for an integer, 1.0 for an integer, a string of a pattern with a
# trailing newline, an enum's value as another type, a bound crossed, an unknown key, a
# missing required key. The generated check must say yes exactly when jsonschema does.
NEAR_MISS_ONE_IN = 40
MAX_DEPTH = 7
ANY_VALUE: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, "", "x", "x\n", [], {}, ["x"]]
ANY_VALUE += [{"x": 1}, "1", "true", 2**31]


def _resolved(node: Any, defs: dict[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


# Built once per schema node and depth (the node kept with it, so that its id stays its own).
_STRATEGIES: dict[tuple[int, int], tuple[Any, st.SearchStrategy[Any]]] = {}


def _values(node: Any, defs: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    """Mostly values of `node`, now and then a near miss (at any depth)."""
    known = _STRATEGIES.get((id(node), depth))
    if known is not None:
        return known[1]
    valid = _valid(node, defs, depth)
    near = _near_misses(node, defs, depth)
    # Not 0: Hypothesis draws the smallest integer far more often than the others.
    one = st.integers(0, NEAR_MISS_ONE_IN - 1)
    either = one.flatmap(lambda i: near if i == NEAR_MISS_ONE_IN // 2 else valid)
    _STRATEGIES[id(node), depth] = (node, either)
    return either


def _valid(node: Any, defs: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    node = _resolved(node, defs)
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        return st.sampled_from(ANY_VALUE)
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    parts = node.get("allOf", [])
    if parts and all("if" in p and "then" in p for p in parts):  # variants by a field's value
        rest = {k: v for k, v in node.items() if k != "allOf"}
        branches = [_merged(_merged(rest, p["if"], defs), p["then"], defs) for p in parts]
        return st.one_of([_valid(b, defs, depth) for b in branches])
    rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf", "allOf")}
    for part in node.get("allOf", ()):
        part = _resolved(part, defs)
        merged = {**rest.get("properties", {}), **part.get("properties", {})}
        required = [*rest.get("required", ()), *part.get("required", ())]
        rest = {**part, **rest, "properties": merged, "required": required}
    for combined in ("anyOf", "oneOf"):
        if combined in node:
            options = [_merged(rest, o, defs) for o in node[combined]]
            return st.one_of([_valid(o, defs, depth) for o in options])
    types = rest.get("type")
    if types is None:
        return _object(rest, defs, depth) if "properties" in rest else st.sampled_from(ANY_VALUE)
    names = [types] if isinstance(types, str) else types
    return st.one_of([_of_type(n, rest, defs, depth) for n in names])


def _merged(node: dict[str, Any], more: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """`node` narrowed by the subschema `more` (their properties and required keys joined)."""
    more = _resolved(more, defs)
    properties = {**node.get("properties", {}), **more.get("properties", {})}
    required = [*node.get("required", ()), *more.get("required", ())]
    return {**node, **more, "properties": properties, "required": required}


def _of_type(name: str, node: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    if name == "object":
        return _object(node, defs, depth)
    if name == "array":
        item = _values(node.get("items", True), defs, depth + 1)
        low = node.get("minItems", 0)
        most = min(node.get("maxItems", 2), 2 if depth < 3 else 1)
        return st.lists(item, min_size=low, max_size=max(low, most))
    if name == "string":
        return _text(node)
    if name in ("integer", "number"):
        low, high = node.get("minimum", -1000), node.get("maximum", 100_000)
        if name == "integer":
            return st.integers(int(low), int(high))
        return st.floats(low, high, allow_nan=False)
    return st.booleans() if name == "boolean" else st.none()


def _text(node: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = node.get("minLength", 0), node.get("maxLength", 12)
    if "pattern" in node:
        matching = st.from_regex(node["pattern"], fullmatch=True)
        return matching.filter(lambda s: low <= len(s) <= node.get("maxLength", len(s)))
    return st.text(min_size=low, max_size=max(low, min(high, 12)))


def _object(node: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    properties: dict[str, Any] = node.get("properties") or {}
    # The keys a conditional branch requires are drawn too (a template's `spec`, without
    # `extends`), and no more keys than the object may have (a scope has exactly one).
    branches = [node.get(k, {}) for k in ("then", "else")]
    wanted = [*node.get("required", ()), *(k for b in branches for k in b.get("required", ()))]
    required = [k for k in dict.fromkeys(wanted) if k in properties]
    allowed = {k for k, v in properties.items() if not (isinstance(v, dict) and "not" in v)}
    optional = sorted(allowed - set(required))
    room = node.get("maxProperties", len(properties)) - len(required)
    extra = node.get("additionalProperties", True)
    if not properties and isinstance(extra, dict):
        names = node.get("propertyNames", {})
        keys = _text(names) if isinstance(names, dict) and "pattern" in names else st.text()
        return st.dictionaries(keys, _values(extra, defs, depth + 1), max_size=2)

    def build(chosen: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        keys = [*required, *chosen]
        return st.fixed_dictionaries({k: _values(properties[k], defs, depth + 1) for k in keys})

    fewest = max(0, node.get("minProperties", 0) - len(required))
    picks = (
        st.lists(
            st.sampled_from(optional),
            min_size=min(fewest, room),
            max_size=min(room, 3),
            unique=True,
        )
        if optional and room > 0
        else None
    )
    return picks.flatmap(build) if picks is not None else build([])


def _near_misses(node: Any, defs: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    node = _resolved(node, defs)
    misses: list[st.SearchStrategy[Any]] = [st.sampled_from(ANY_VALUE)]
    if not isinstance(node, dict):
        return misses[0]
    types = node.get("type", [])
    names = [types] if isinstance(types, str) else types
    if "integer" in names or "number" in names:
        misses.append(st.sampled_from([True, False, 1.0, 3.0, 0.5, -0.0]))
        bounds = [node[k] for k in ("minimum", "maximum") if k in node]
        misses.append(st.sampled_from([b + d for b in bounds for d in (-1, 0, 1, 0.5)] or [0]))
    if "pattern" in node or "minLength" in node or "maxLength" in node:
        text = _text(node)
        misses.append(text.map(lambda s: s + "\n"))
        misses.append(text.map(lambda s: "\n" + s))
        misses.append(st.sampled_from(["", "x" * (node.get("maxLength", 1) + 1)]))
    options = node.get("enum", [node["const"]] if "const" in node else [])
    if options:
        odd = [1, 1.0, True, None, "1", "True", "null", *(str(o) for o in options)]
        misses.append(st.sampled_from(odd + [o.upper() for o in options if isinstance(o, str)]))
    if "properties" in node:
        whole = _object(node, defs, depth)
        misses.append(whole.map(lambda d: {**d, "unexpectedField": 1}))
        if node.get("required"):
            misses.append(
                whole.map(lambda d: {k: v for k, v in d.items() if k != node["required"][0]})
            )
    return st.one_of(misses)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_check_agrees_with_jsonschema(name: str, data: st.DataObject) -> None:
    committed = schema.load_schema(name)
    doc = data.draw(_values(committed, committed.get("$defs", {}), 0), label="document")
    assert schema._fast(name)(doc) == _oracle(name).is_valid(doc)


NODE: dict[str, Any] = {
    "$defs": {
        "node": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
        }
    },
    "allOf": [{"$ref": "#/$defs/node"}],
}
TREES = st.recursive(
    st.fixed_dictionaries({"name": st.sampled_from(["a", "b\n", "", 1])}),
    lambda kids: (
        st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "zz"]), "children": st.lists(kids, max_size=2)}
        )
        | st.sampled_from(ANY_VALUE)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(tree=TREES)
def test_a_recursive_schema_is_checked_through_calls(tree: Any) -> None:
    compact = schema._compact(NODE, NODE["$defs"], ())
    check = schema._Generator(compact, "tree").check()
    assert check(tree) == _Oracle(NODE).is_valid(tree)


def test_a_deeply_nested_schema_compiles_and_agrees() -> None:
    deep: dict[str, Any] = {"type": "integer", "minimum": 1}
    for _ in range(40):  # deeper than Python lets blocks nest
        deep = {"type": "object", "properties": {"a": deep}, "required": ["a"]}
    check = schema._Generator(deep, "deep").check()
    for leaf in (1, 0, True, 1.0, "1"):
        doc: Any = leaf
        for _ in range(40):
            doc = {"a": doc}
        assert check(doc) == _Oracle(deep).is_valid(doc), leaf


def test_an_unknown_keyword_leaves_the_document_to_jsonschema() -> None:
    odd = {"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": True}}}
    check = schema._Generator(odd, "odd").check()
    assert check({}) is True
    assert check({"tags": ["a", "b"]}) is False  # valid, but only jsonschema can tell
    assert _Oracle(odd).is_valid({"tags": ["a", "b"]})
