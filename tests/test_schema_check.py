"""reconcile.schema against an independent oracle: plain jsonschema on the committed schemas.

The module validates through a compiled fast path and a compacted copy of each schema; here
every example document, and thousands of mutations of them, must be judged exactly as
jsonschema judges them on the schema files as committed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError, validators

from reconcile import schema
from reconcile.config import parse_file
from reconcile.configdir import scan
from reconcile.kinds.registry import DOCUMENT_KINDS

REPO = Path(__file__).resolve().parent.parent
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
    assert schema._fast("state") is not None
    for mutated in [base, *_mutations(base)]:
        problems = schema.validate_instance("state", mutated)
        assert (problems == []) == oracle.is_valid(mutated), (mutated, problems)


@pytest.mark.parametrize(
    "name", sorted({*DOCUMENT_KINDS.values(), schema.ENVELOPE, schema.SETTINGS})
)
def test_every_config_schema_has_a_fast_path(name: str) -> None:
    # A schema using a keyword the compiled check does not know would silently send every
    # document of a config through jsonschema.
    assert schema._fast(name) is not None


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
